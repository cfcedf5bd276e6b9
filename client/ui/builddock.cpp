#include "builddock.h"

#include <QListWidget>

namespace hex::client {

namespace {

constexpr int kKindRole = Qt::UserRole;
constexpr int kPrototypeRole = Qt::UserRole + 1;

} // namespace

BuildDock::BuildDock(const sim::Content &content, QWidget *parent)
    : QDockWidget(tr("Build"), parent)
    , m_content(content)
{
    setObjectName(QStringLiteral("buildDock"));
    setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable
                | QDockWidget::DockWidgetClosable);
    m_list = new QListWidget(this);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setSpacing(2);
    m_list->setWordWrap(true);
    m_list->setTextElideMode(Qt::ElideNone);
    setWidget(m_list);

    addTool(tr("Claim"), BuildTool{BuildTool::Kind::Claim, sim::kNoStructure},
            tr("Take an unowned cell: anywhere at first, then next to your cells."));
    for (std::size_t i = 1; i < content.prototypes.size(); ++i) {
        const auto prototype = sim::PrototypeId(i);
        addTool(prototypeText(prototype), BuildTool{BuildTool::Kind::Build, prototype},
                tr("Build on a cell you own. R turns it; Escape puts the tool away."));
    }
    addTool(tr("Remove"), BuildTool{BuildTool::Kind::Remove, sim::kNoStructure},
            tr("Remove the structure on a cell you own: its cost and items come back."));

    connect(m_list, &QListWidget::itemSelectionChanged, this, [this] {
        const QList<QListWidgetItem *> selected = m_list->selectedItems();
        const BuildTool tool = selected.isEmpty() ? BuildTool{} : toolOf(selected.first());
        if (tool == m_current)
            return;
        m_current = tool;
        emit toolChanged(m_current);
    });
    connect(m_list, &QListWidget::itemClicked, this, [this] { emit toolPicked(); });
}

QString BuildDock::prototypeText(sim::PrototypeId prototype) const
{
    if (prototype >= m_content.prototypes.size())
        return QString();
    const sim::PrototypeDef &def = m_content.prototypes[prototype];
    QStringList costs;
    for (const sim::ItemStack &stack : def.buildCost) {
        const QString item = stack.item < m_content.items.size() ? m_content.items[stack.item].name
                                                                 : QString::number(stack.item);
        costs << tr("%1 × %2").arg(stack.count).arg(item);
    }
    if (costs.isEmpty())
        return tr("%1\nfree").arg(def.name);
    return tr("%1\ncost: %2").arg(def.name, costs.join(QStringLiteral(", ")));
}

BuildTool BuildDock::currentTool() const
{
    return m_current;
}

void BuildDock::selectTool(const BuildTool &tool)
{
    for (int row = 0; row < m_list->count(); ++row) {
        QListWidgetItem *item = m_list->item(row);
        if (tool.kind != BuildTool::Kind::None && toolOf(item) == tool) {
            m_list->setCurrentItem(item, QItemSelectionModel::ClearAndSelect);
            return;
        }
    }
    m_list->clearSelection();
}

void BuildDock::addTool(const QString &text, const BuildTool &tool, const QString &toolTip)
{
    auto *item = new QListWidgetItem(text, m_list);
    item->setData(kKindRole, int(tool.kind));
    item->setData(kPrototypeRole, int(tool.prototype));
    item->setToolTip(toolTip);
}

BuildTool BuildDock::toolOf(const QListWidgetItem *item)
{
    return BuildTool{BuildTool::Kind(item->data(kKindRole).toInt()),
                     sim::PrototypeId(item->data(kPrototypeRole).toInt())};
}

} // namespace hex::client
