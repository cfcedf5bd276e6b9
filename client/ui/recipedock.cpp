#include "recipedock.h"

#include "net/serverconnection.h"

#include "protocol/worldcodec.h"

#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QVBoxLayout>

#include <algorithm>

namespace hex::client {

namespace {

constexpr int kRecipeRole = Qt::UserRole;

} // namespace

RecipeDock::RecipeDock(const sim::Content &content, ServerConnection *connection, QWidget *parent)
    : QDockWidget(tr("Recipe"), parent)
    , m_content(content)
    , m_connection(connection)
{
    setObjectName(QStringLiteral("recipeDock"));
    setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable
                | QDockWidget::DockWidgetClosable);
    auto *body = new QWidget(this);
    auto *layout = new QVBoxLayout(body);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    m_title = new QLabel(body);
    m_title->setTextFormat(Qt::PlainText);
    m_title->setWordWrap(true);
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_current = new QLabel(body);
    m_current->setTextFormat(Qt::PlainText);
    m_current->setWordWrap(true);
    m_list = new QListWidget(body);
    m_list->setSpacing(2);
    m_list->setWordWrap(true);
    m_list->setTextElideMode(Qt::ElideNone);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    layout->addWidget(m_title);
    layout->addWidget(m_current);
    layout->addWidget(m_list, 1);
    // Keeps the labels at the top while no machine is selected and the list is hidden.
    layout->addStretch();
    setWidget(body);

    connect(m_list, &QListWidget::itemClicked, this, [this](const QListWidgetItem *item) {
        chooseRecipe(sim::RecipeId(item->data(kRecipeRole).toUInt()));
    });
    connect(m_connection, &ServerConnection::cellsChanged, this, &RecipeDock::onCellsChanged);
    connect(m_connection, &ServerConnection::snapshotReceived, this, &RecipeDock::onCellsChanged);
    connect(m_connection, &ServerConnection::actionResult, this,
            [this](quint32 clientSeq, quint32 cell, int reason) {
                onActionResult(clientSeq, cell, reason);
            });
    rebuild();
}

void RecipeDock::setActionSender(ActionSender sender)
{
    m_sender = std::move(sender);
}

std::vector<sim::RecipeId> RecipeDock::recipesFor(sim::PrototypeId prototype) const
{
    std::vector<sim::RecipeId> result;
    for (std::size_t i = 0; i < m_content.recipes.size(); ++i) {
        const std::vector<sim::PrototypeId> &madeIn = m_content.recipes[i].madeIn;
        if (std::find(madeIn.begin(), madeIn.end(), prototype) != madeIn.end())
            result.push_back(sim::RecipeId(i));
    }
    return result;
}

bool RecipeDock::canSelect(geometry::CellId cell) const
{
    const protocol::VisibleCells &cells = m_connection->cells();
    if (cell >= cells.cellCount() || cells.owner[cell] != m_connection->playerId())
        return false;
    const sim::PrototypeId prototype = cells.structure[cell];
    return prototype != sim::kNoStructure && prototype < m_content.prototypes.size()
           && !recipesFor(prototype).empty();
}

std::optional<sim::RecipeId> RecipeDock::knownRecipe(geometry::CellId cell) const
{
    const auto known = m_known.find(cell);
    if (known == m_known.end())
        return std::nullopt;
    const protocol::VisibleCells &cells = m_connection->cells();
    if (cell >= cells.cellCount() || cells.structure[cell] != known->second.prototype)
        return std::nullopt;
    return known->second.recipe;
}

bool RecipeDock::selectCell(geometry::CellId cell)
{
    if (!canSelect(cell))
        return false;
    m_cell = cell;
    m_prototype = m_connection->cells().structure[cell];
    rebuild();
    show();
    return true;
}

void RecipeDock::clearSelection()
{
    m_cell.reset();
    m_prototype = sim::kNoStructure;
    rebuild();
}

quint32 RecipeDock::chooseRecipe(sim::RecipeId recipe)
{
    if (!m_cell)
        return 0;
    sim::Action action;
    action.kind = sim::ActionKind::SetRecipe;
    action.cell = *m_cell;
    action.recipe = recipe;
    const QString name
        = recipe < m_content.recipes.size() ? m_content.recipes[recipe].name : tr("None");
    const QString what = tr("Set recipe %1").arg(name);
    const quint32 seq = m_sender ? m_sender(action, what) : m_connection->sendAction(action);
    if (seq != 0)
        m_pending[seq] = Pending{*m_cell, m_prototype, recipe};
    return seq;
}

void RecipeDock::onActionResult(quint32 clientSeq, quint32 cell, int reason)
{
    const auto pending = m_pending.find(clientSeq);
    if (pending == m_pending.end())
        return;
    const Pending sent = pending->second;
    m_pending.erase(pending);
    if (reason == 0 && sent.cell == cell)
        m_known[cell] = Known{sent.prototype, sent.recipe};
    if (m_cell == cell)
        updateCurrent();
}

void RecipeDock::onCellsChanged()
{
    if (!m_cell)
        return;
    const protocol::VisibleCells &cells = m_connection->cells();
    if (*m_cell >= cells.cellCount() || cells.owner[*m_cell] != m_connection->playerId()
        || cells.structure[*m_cell] != m_prototype) {
        clearSelection();
    }
}

QString RecipeDock::stacksText(const std::vector<sim::ItemStack> &stacks) const
{
    QStringList parts;
    for (const sim::ItemStack &stack : stacks) {
        const QString item = stack.item < m_content.items.size() ? m_content.items[stack.item].name
                                                                 : QString::number(stack.item);
        parts << tr("%1 × %2").arg(stack.count).arg(item);
    }
    return parts.join(QStringLiteral(", "));
}

QString RecipeDock::recipeText(sim::RecipeId recipe) const
{
    if (recipe >= m_content.recipes.size())
        return QString();
    const sim::RecipeDef &def = m_content.recipes[recipe];
    const int ups = m_connection->world().ups;
    const QString time = ups > 0
                             ? tr("%1 s").arg(QLocale().toString(double(def.ticks) / ups, 'f', 1))
                             : tr("%1 ticks").arg(def.ticks);
    return tr("%1\n%2 → %3 · %4")
        .arg(def.name, stacksText(def.inputs), stacksText(def.outputs), time);
}

QString RecipeDock::currentText() const
{
    return m_current->text();
}

void RecipeDock::rebuild()
{
    m_list->clear();
    if (!m_cell) {
        m_title->setText(tr("No machine selected"));
        m_current->setText(tr("Click one of your furnaces or assemblers with no build tool "
                              "to choose what it makes."));
        m_list->hide();
        return;
    }
    const QString name = m_content.prototypes[m_prototype].name;
    m_title->setText(tr("%1 on cell %2").arg(name).arg(*m_cell));
    auto *none = new QListWidgetItem(tr("None\nstop making anything"), m_list);
    none->setData(kRecipeRole, uint(sim::kNoRecipe));
    for (const sim::RecipeId recipe : recipesFor(m_prototype)) {
        auto *item = new QListWidgetItem(recipeText(recipe), m_list);
        item->setData(kRecipeRole, uint(recipe));
    }
    m_list->show();
    updateCurrent();
}

void RecipeDock::updateCurrent()
{
    if (!m_cell)
        return;
    const std::optional<sim::RecipeId> known = knownRecipe(*m_cell);
    m_list->clearSelection();
    if (!known) {
        m_current->setText(tr("Current recipe unknown: the server does not send it."));
        return;
    }
    if (*known >= m_content.recipes.size())
        m_current->setText(tr("Current recipe: none"));
    else
        m_current->setText(tr("Current recipe: %1").arg(m_content.recipes[*known].name));
    for (int row = 0; row < m_list->count(); ++row) {
        QListWidgetItem *item = m_list->item(row);
        if (sim::RecipeId(item->data(kRecipeRole).toUInt()) == *known)
            m_list->setCurrentItem(item, QItemSelectionModel::ClearAndSelect);
    }
}

} // namespace hex::client
