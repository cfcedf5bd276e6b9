#pragma once

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHostAddress>
#include <QString>
#include <QUrl>

#include <optional>
#include <vector>

namespace hex::client {

/// One server the Join dialog can offer: found on the LAN, or typed in by the player.
struct ServerEntry
{
    /// Where it answers: the announcement's sender address and game port.
    QHostAddress address;
    quint16 port = 0;
    QString worldName;
    /// Who hosts it (the host player's name), empty if unknown.
    QString hostName;
    int players = 0;
    int maxPlayers = 0;
    /// n of GP(n,0).
    int subdivisions = 0;
    /// Round trip of the last LanQuery answered, in ms; nullopt before one.
    std::optional<int> pingMs;
    bool needsPassword = false;
    bool needsAccount = false;
    /// When an announcement last came from it.
    QDateTime lastSeen;

    /// ws://ADDRESS:PORT/ws.
    QUrl url() const;
    bool sameServer(const ServerEntry &other) const
    {
        return address.isEqual(other.address) && port == other.port;
    }
};

/// The server browser's list: one row per server (address and port), columns World,
/// Host, Players ("3/16"), Size (cells), Ping ("12 ms" or "–"), Lock (password or
/// accounts). LanDiscovery feeds it with upsert(); rows not seen for kStaleMs go.
/// Sorted by world name, then address. GUI thread only.
class ServerListModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { World, Host, Players, Size, Ping, Lock, ColumnCount };
    /// A server not heard from for this long is dropped from the list.
    static constexpr int kStaleMs = 5'000;

    explicit ServerListModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    /// Adds `entry`, or updates the row of the same server (keeping its ping when
    /// `entry` has none).
    void upsert(const ServerEntry &entry);
    /// Drops every row last seen before `now` - kStaleMs.
    void expire(const QDateTime &now = QDateTime::currentDateTimeUtc());
    /// The server of `row`, 0 <= row < rowCount().
    const ServerEntry &entry(int row) const { return m_entries[std::size_t(row)]; }
    /// The row of the server at `address`:`port`, or -1.
    int rowOf(const QHostAddress &address, quint16 port) const;

private:
    std::vector<ServerEntry> m_entries;
};

} // namespace hex::client
