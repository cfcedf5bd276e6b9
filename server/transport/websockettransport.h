#pragma once

#include "session/sessionmanager.h"

#include <QElapsedTimer>
#include <QHash>
#include <QPair>
#include <QPointer>
#include <QSet>
#include <QHostAddress>
#include <QObject>
#include <QString>

#include <cstdint>
#include <unordered_map>

class QTcpSocket;
class QTimer;
class QWebSocket;
class QWebSocketServer;

namespace hex::protocol {
class Envelope;
}

namespace hex::server {

/// Serves `/ws`: binary protobuf Envelope frames. A client sends Hello (a guest name,
/// a name and password, or the token of a session to resume); the server answers
/// WorldInfo and SessionInfo, then the session's messages: a Snapshot or ChunkSnapshots
/// of what it views, and a TickUpdate every tick it views anything. Joined clients send
/// ClientActions and Views, which go to the SessionManager. It does not listen: the
/// HttpFrontDoor owns the port and hands it each upgrade request. Lives in, and must be
/// used from, the tick thread.
class WebSocketTransport : public QObject
{
    Q_OBJECT
public:
    /// Largest message a client may send, in bytes.
    static constexpr qint64 kMaxIncomingBytes = 64 * 1024;
    /// A connection that has not sent Hello after this long is closed.
    static constexpr int kHelloTimeoutMs = 10'000;
    /// A joined connection that has sent nothing (not even a pong) for this long is
    /// closed; the server pings it every kPingIntervalMs.
    static constexpr int kIdleTimeoutMs = 60'000;
    static constexpr int kPingIntervalMs = 20'000;
    /// Bytes queued to a slow client beyond which the server stops sending to it; its
    /// messages wait in the session's mailbox (and overflow into a Resync).
    static constexpr qint64 kMaxQueuedBytes = 4 * 1024 * 1024;
    /// Handshakes that may be in progress at once.
    static constexpr int kMaxPendingHandshakes = 1024;

    /// `sessions` must outlive this object.
    WebSocketTransport(SessionManager &sessions, int maxConnections, QObject *parent = nullptr);
    ~WebSocketTransport() override;

    /// False while kMaxPendingHandshakes are in progress: the front door then answers
    /// the upgrade with 503 instead of handing it over.
    bool acceptsHandshake() const { return m_handshaking.size() < kMaxPendingHandshakes; }
    /// Takes over `socket`, whose unread bytes start with a WebSocket upgrade request;
    /// QWebSocketServer reads and answers the handshake and owns the socket from now on.
    void handleConnection(QTcpSocket *socket);
    /// Closes every connection.
    void close();

    /// Sends every joined connection the messages its session gained since the last
    /// call. Called after each tick's SessionManager::publishTick().
    void flush();
    /// Open WebSocket connections, joined or not.
    int connectionCount() const { return int(m_connections.size()); }
    /// Connections that completed Hello.
    int joinedCount() const;

private:
    struct Connection
    {
        QWebSocket *socket = nullptr;
        SessionManager::SessionPtr session;
        /// Hello received; waiting for a password check.
        bool joining = false;
        /// The last seq sent over this connection.
        std::uint64_t deliveredSeq = 0;
        /// The TCP socket under `socket` (the one handed to handleConnection()), so that
        /// tick frames can be written to it directly; null if it could not be matched.
        QPointer<QTcpSocket> tcp;
        QElapsedTimer lastHeard;
    };

    void onNewConnection();
    void onBinaryMessage(QWebSocket *socket, const QByteArray &frame);
    void onTextMessage(QWebSocket *socket);
    void onDisconnected(QWebSocket *socket);
    void onSessionEnded(const SessionManager::SessionPtr &session, const QString &why);
    void handleHello(Connection &connection, const protocol::Envelope &hello);
    /// Completes a Hello with the session it got, or refuses it and closes.
    void finishHello(QWebSocket *socket, std::uint64_t resumeAfter, bool resume,
                     SessionManager::Result result);
    void handleAction(Connection &connection, const protocol::Envelope &action);
    void send(Connection &connection);
    /// Writes `message` as one binary WebSocket frame straight to the connection's TCP
    /// socket, without copying its pieces (see send()).
    void writeFrame(Connection &connection, const OutgoingMessage &message);
    void pingAndReap();
    void sendError(QWebSocket *socket, int code, const QString &message);
    Connection *find(QWebSocket *socket);

    SessionManager &m_sessions;
    int m_maxConnections;
    /// Upgrades handed to the QWebSocketServer whose handshake is not done, by peer
    /// (address, port): the one thing a finished QWebSocket still tells about its socket.
    QHash<QPair<QString, quint16>, QPointer<QTcpSocket>> m_handshaking;
    QWebSocketServer *m_server = nullptr;
    QTimer *m_pingTimer = nullptr;
    std::unordered_map<QWebSocket *, Connection> m_connections;
    /// The connection carrying each session, for flush(). Entries of m_connections
    /// keep their address while they exist (a node-based map).
    std::unordered_map<const Session *, Connection *> m_bySession;
};

} // namespace hex::server
