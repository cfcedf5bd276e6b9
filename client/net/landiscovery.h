#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QTimer>

#include <cstdint>

class QUdpSocket;

namespace hex::client {

class ServerListModel;

/// LAN discovery, client side: every kQueryIntervalMs sends a LanQuery with a fresh
/// random nonce to each query target, and feeds every LanAnnouncement of this protocol
/// version that comes back (to the query socket) or is broadcast (to the shared
/// protocol::kLanDiscoveryPort) into the model, with the round trip as ping when the
/// announcement echoes one of its nonces. Also expires the model's stale rows. GUI
/// thread only.
class LanDiscovery : public QObject
{
    Q_OBJECT
public:
    /// Time between two queries (and two model->expire()), in ms.
    static constexpr int kQueryIntervalMs = 1000;

    /// Feeds `model`, which must outlive this object. Call start().
    explicit LanDiscovery(ServerListModel *model, QObject *parent = nullptr);
    ~LanDiscovery() override;

    /// Opens the sockets, queries at once and then every second. Listening for
    /// unsolicited announcements is best effort: queries work without it.
    void start();
    /// Closes the sockets; the model keeps its rows. Safe to call twice.
    void stop();
    bool isRunning() const { return m_timer.isActive(); }

    /// Where queries go, for tests. Default (or empty): defaultQueryTargets().
    void setQueryTargets(QList<QHostAddress> targets);
    /// The broadcast address of every IPv4 interface that is up and can broadcast, plus
    /// 127.255.255.255, which reaches every server on this machine (127.0.0.1 would
    /// reach only the last socket bound to the shared port).
    static QList<QHostAddress> defaultQueryTargets();

    /// Announcements ignored so far: undecodable, not an announcement, other versions.
    int ignoredCount() const { return m_ignored; }

private:
    void sendQuery();
    void readDatagrams(QUdpSocket *socket);

    ServerListModel *m_model = nullptr;
    QUdpSocket *m_querySocket = nullptr;
    QUdpSocket *m_listenSocket = nullptr;
    QTimer m_timer;
    QList<QHostAddress> m_targets;
    /// When each recent nonce was sent, in ms of m_clock.
    QHash<std::uint64_t, qint64> m_sentAt;
    QElapsedTimer m_clock;
    /// This machine's non-loopback addresses, read at start(): a server here bound to
    /// every interface is heard both through them and through 127.0.0.1.
    QList<QHostAddress> m_ownAddresses;
    int m_ignored = 0;
};

} // namespace hex::client
