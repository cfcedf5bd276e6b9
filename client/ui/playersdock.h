#pragma once

#include <QDockWidget>

class QLabel;
class QTreeWidget;

namespace hex::client {

class ServerConnection;

/// The "Players" dock: the world's players as the server lists them (name, a green or
/// grey dot with "online" or "offline", cells owned), online players first, then by
/// name; the local player in bold. Above the list, "Players: 3 online of 7". Follows
/// ServerConnection::playersChanged(). Lives in the GUI thread.
class PlayersDock : public QDockWidget
{
    Q_OBJECT
public:
    /// `connection` must outlive the dock.
    explicit PlayersDock(ServerConnection *connection, QWidget *parent = nullptr);

    /// The header line, e.g. "Players: 3 online of 7".
    QString headerText() const;
    /// The list shown: name, state, cells owned, one row per player.
    QTreeWidget *table() const { return m_table; }

public slots:
    /// Shows the connection's players() again.
    void refresh();

private:
    ServerConnection *m_connection = nullptr;
    QLabel *m_header = nullptr;
    QTreeWidget *m_table = nullptr;
};

} // namespace hex::client
