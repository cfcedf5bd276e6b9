#include "serverlistmodel.h"

#include <QLocale>
#include <QUrl>

#include <algorithm>

namespace hex::client {

namespace {

/// Orders servers by world name (case-insensitively, then exactly), then address and
/// port, so that rows do not jump about as announcements come and go.
bool lessThan(const ServerEntry &a, const ServerEntry &b)
{
    if (const int byName = a.worldName.compare(b.worldName, Qt::CaseInsensitive); byName != 0)
        return byName < 0;
    if (const int byName = a.worldName.compare(b.worldName); byName != 0)
        return byName < 0;
    const bool aV4 = a.address.protocol() == QAbstractSocket::IPv4Protocol;
    const bool bV4 = b.address.protocol() == QAbstractSocket::IPv4Protocol;
    if (aV4 && bV4 && a.address.toIPv4Address() != b.address.toIPv4Address())
        return a.address.toIPv4Address() < b.address.toIPv4Address();
    if (aV4 != bV4)
        return aV4;
    if (const int byAddress = a.address.toString().compare(b.address.toString()); byAddress != 0)
        return byAddress < 0;
    return a.port < b.port;
}

QString lockText(const ServerEntry &entry)
{
    if (entry.needsPassword && entry.needsAccount)
        return ServerListModel::tr("password, account");
    if (entry.needsPassword)
        return ServerListModel::tr("password");
    if (entry.needsAccount)
        return ServerListModel::tr("account");
    return {};
}

QString lockToolTip(const ServerEntry &entry)
{
    if (entry.needsPassword && entry.needsAccount)
        return ServerListModel::tr("Joining needs the server's password and an account.");
    if (entry.needsPassword)
        return ServerListModel::tr("Joining needs the server's password.");
    if (entry.needsAccount)
        return ServerListModel::tr("Only players with an account may join.");
    return ServerListModel::tr("Anyone may join.");
}

} // namespace

QUrl ServerEntry::url() const
{
    QUrl url;
    url.setScheme(QStringLiteral("ws"));
    url.setHost(address.toString());
    url.setPort(port);
    url.setPath(QStringLiteral("/ws"));
    return url;
}

ServerListModel::ServerListModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

int ServerListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_entries.size());
}

int ServerListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ServerListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() < 0 || index.row() >= rowCount() || index.column() < 0
        || index.column() >= ColumnCount)
        return {};
    const ServerEntry &e = m_entries[std::size_t(index.row())];
    const QLocale locale;
    if (role == Qt::DisplayRole) {
        switch (Column(index.column())) {
        case World:
            return e.worldName;
        case Host:
            return e.hostName;
        case Players:
            return QStringLiteral("%1/%2").arg(locale.toString(e.players),
                                               locale.toString(e.maxPlayers));
        case Size:
            return locale.toString(10LL * e.subdivisions * e.subdivisions + 2);
        case Ping:
            return e.pingMs ? tr("%1 ms").arg(locale.toString(*e.pingMs))
                            : QStringLiteral("\u2013");
        case Lock:
            return lockText(e);
        case ColumnCount:
            break;
        }
        return {};
    }
    if (role == Qt::ToolTipRole) {
        switch (Column(index.column())) {
        case World:
        case Host:
            return e.url().toString();
        case Players:
            return tr("%1 players online, at most %2.")
                .arg(locale.toString(e.players), locale.toString(e.maxPlayers));
        case Size:
            return tr("%1 cells (n = %2).")
                .arg(locale.toString(10LL * e.subdivisions * e.subdivisions + 2),
                     locale.toString(e.subdivisions));
        case Ping:
            return e.pingMs ? tr("Round trip of the last LAN query.")
                            : tr("No answer to a LAN query yet.");
        case Lock:
            return lockToolTip(e);
        case ColumnCount:
            break;
        }
        return {};
    }
    if (role == Qt::TextAlignmentRole) {
        switch (Column(index.column())) {
        case Players:
        case Size:
        case Ping:
            return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
        default:
            return QVariant::fromValue(Qt::Alignment(Qt::AlignLeft | Qt::AlignVCenter));
        }
    }
    return {};
}

QVariant ServerListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case World:
        return tr("World");
    case Host:
        return tr("Host");
    case Players:
        return tr("Players");
    case Size:
        return tr("Size");
    case Ping:
        return tr("Ping");
    case Lock:
        return tr("Access");
    case ColumnCount:
        break;
    }
    return {};
}

void ServerListModel::upsert(const ServerEntry &entry)
{
    const int existing = rowOf(entry.address, entry.port);
    if (existing < 0) {
        const auto at = std::upper_bound(m_entries.begin(), m_entries.end(), entry, lessThan);
        const int row = int(at - m_entries.begin());
        beginInsertRows({}, row, row);
        m_entries.insert(at, entry);
        endInsertRows();
        return;
    }
    ServerEntry updated = entry;
    if (!updated.pingMs)
        updated.pingMs = m_entries[std::size_t(existing)].pingMs;
    m_entries[std::size_t(existing)] = updated;
    // The row where it now belongs, counted among the others.
    int target = 0;
    for (int row = 0; row < int(m_entries.size()); ++row)
        if (row != existing && lessThan(m_entries[std::size_t(row)], updated))
            ++target;
    if (target != existing) {
        // Qt wants the destination as a row of the list before the move.
        const int destination = target > existing ? target + 1 : target;
        beginMoveRows({}, existing, existing, {}, destination);
        ServerEntry moved = std::move(m_entries[std::size_t(existing)]);
        m_entries.erase(m_entries.begin() + existing);
        m_entries.insert(m_entries.begin() + target, std::move(moved));
        endMoveRows();
    }
    emit dataChanged(index(target, 0), index(target, ColumnCount - 1));
}

void ServerListModel::expire(const QDateTime &now)
{
    const QDateTime cutoff = now.addMSecs(-kStaleMs);
    for (int row = int(m_entries.size()) - 1; row >= 0; --row) {
        if (m_entries[std::size_t(row)].lastSeen >= cutoff)
            continue;
        beginRemoveRows({}, row, row);
        m_entries.erase(m_entries.begin() + row);
        endRemoveRows();
    }
}

int ServerListModel::rowOf(const QHostAddress &address, quint16 port) const
{
    for (std::size_t row = 0; row < m_entries.size(); ++row)
        if (m_entries[row].address.isEqual(address) && m_entries[row].port == port)
            return int(row);
    return -1;
}

} // namespace hex::client
