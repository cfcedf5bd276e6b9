#pragma once

#include "serverconfig.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>

#include <cstdint>

class QUdpSocket;

namespace hex::protocol {
class LanAnnouncement;
}

namespace hex::server {

class SessionManager;

/// LAN discovery, server side: listens on UDP protocol::kLanDiscoveryPort (shared, so
/// that several servers and clients on one machine can all bind it), answers each
/// LanQuery of the current protocol version with a LanAnnouncement echoing its nonce,
/// and every kAnnounceIntervalMs broadcasts an unsolicited one (nonce 0). Anything
/// else that arrives is ignored, counted and logged at debug level (category hex.lan).
/// Replies are capped at kMaxRepliesPerSecond in total, so that forged senders cannot
/// turn the server into a flood amplifier. Lives in, and must be used from, the tick
/// thread (it reads the SessionManager).
class LanAnnouncer : public QObject
{
    Q_OBJECT
public:
    /// Time between two unsolicited announcements, in ms.
    static constexpr int kAnnounceIntervalMs = 1000;
    /// Most answers to queries sent per second, all senders together (also the burst).
    static constexpr int kMaxRepliesPerSecond = 50;
    /// Datagrams longer than this (bytes) are ignored unread; ours are far smaller.
    static constexpr int kMaxDatagramBytes = 512;
    /// The UDP destination that reaches every socket bound to a port on this machine:
    /// unlike 127.0.0.1, a broadcast is delivered to each sharer of the port, not to
    /// the last one bound.
    static QHostAddress loopbackBroadcast()
    {
        return QHostAddress(QStringLiteral("127.255.255.255"));
    }

    /// Announces the server `config` describes, whose game port is `gamePort`, with the
    /// players online in `sessions` (which must outlive this object). Call start().
    LanAnnouncer(const ServerConfig &config, const SessionManager &sessions, quint16 gamePort,
                 QObject *parent = nullptr);
    ~LanAnnouncer() override;

    /// Binds the discovery port and starts announcing. On failure (the port is taken
    /// by a program that does not share it) returns false and errorString() says why.
    [[nodiscard]] bool start();
    /// Stops announcing and closes the socket. Safe to call twice.
    void stop();
    QString errorString() const { return m_errorString; }

    /// Queries answered so far.
    quint64 answeredCount() const { return m_answered; }
    /// Datagrams ignored so far: undecodable, too long, other protocol versions, or
    /// queries over the reply rate cap. Announcements of other servers are not counted.
    quint64 ignoredCount() const { return m_ignored; }

    /// Where unsolicited announcements go: the broadcast address of each IPv4 interface
    /// that is up and can broadcast (only the one holding the bound address when the
    /// server is bound to one), plus loopbackBroadcast().
    static QList<QHostAddress> announceTargets(const QHostAddress &bindAddress);

private:
    void readDatagrams();
    void announce();
    void fillAnnouncement(protocol::LanAnnouncement *out, std::uint64_t nonce) const;
    /// Takes one reply token; false when the cap is reached.
    bool takeReplyToken();

    ServerConfig m_config;
    const SessionManager &m_sessions;
    quint16 m_gamePort = 0;
    QUdpSocket *m_socket = nullptr;
    QTimer m_announceTimer;
    QString m_errorString;
    double m_replyTokens = kMaxRepliesPerSecond;
    QElapsedTimer m_tokenClock;
    quint64 m_answered = 0;
    quint64 m_ignored = 0;
    bool m_sendErrorLogged = false;
};

} // namespace hex::server
