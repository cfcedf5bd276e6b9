#include "inventorydock.h"

#include <QHeaderView>
#include <QTreeWidget>

namespace hex::client {

InventoryDock::InventoryDock(const sim::Content &content, QWidget *parent)
    : QDockWidget(tr("Inventory"), parent)
    , m_content(content)
{
    setObjectName(QStringLiteral("inventoryDock"));
    setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable
                | QDockWidget::DockWidgetClosable);
    m_table = new QTreeWidget(this);
    m_table->setColumnCount(2);
    m_table->setHeaderLabels({tr("Item"), tr("Count")});
    m_table->setRootIsDecorated(false);
    m_table->setUniformRowHeights(true);
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    m_table->header()->setStretchLastSection(false);
    m_table->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_table->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    setWidget(m_table);
}

void InventoryDock::setInventory(const std::map<sim::ItemId, std::uint32_t> &inventory)
{
    m_table->clear();
    for (const auto &[item, count] : inventory) {
        const QString name
            = item < m_content.items.size() ? m_content.items[item].name : tr("Item %1").arg(item);
        auto *row = new QTreeWidgetItem(m_table, {name, QString::number(count)});
        row->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
    }
}

} // namespace hex::client
