#pragma once

#include "sim/content.h"

#include <QDockWidget>

#include <cstdint>
#include <map>

class QTreeWidget;

namespace hex::client {

/// The "Inventory" dock: the items the player carries, by content name, with counts.
/// Lives in the GUI thread.
class InventoryDock : public QDockWidget
{
    Q_OBJECT
public:
    /// `content` must outlive the dock.
    explicit InventoryDock(const sim::Content &content, QWidget *parent = nullptr);

    /// Shows `inventory` (item id → count), replacing what was shown.
    void setInventory(const std::map<sim::ItemId, std::uint32_t> &inventory);
    /// The table shown: item name, count.
    QTreeWidget *table() const { return m_table; }

private:
    const sim::Content &m_content;
    QTreeWidget *m_table = nullptr;
};

} // namespace hex::client
