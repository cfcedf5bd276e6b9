#pragma once

#include "sim/worldstate.h"

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QString>

#include <cstdint>
#include <map>
#include <vector>

class QTcpSocket;
class QWebSocket;
class QWebSocketServer;

namespace hex::protocol {
class Envelope;
}

namespace hex::sim {
class World;
struct StepResult;
} // namespace hex::sim

namespace hex::server {

/// What the transport tells clients about the server beyond the world itself.
struct ServerInfo
{
    QString worldName;
    int ups = 20;
};

/// Serves `/ws`: binary protobuf Envelope frames. A client sends Hello; the server
/// answers WorldInfo (with the connection's player) and a Snapshot of every cell, then
/// one TickUpdate per tick. Joined clients send ClientActions, which are checked, rate
/// limited and queued into the world; each result comes back in the TickUpdate of the
/// tick that applied it. It does not listen: the HttpFrontDoor owns the port and hands
/// it each upgrade request. Lives in, and must be used from, the tick thread.
class WebSocketTransport : public QObject
{
    Q_OBJECT
public:
    /// Most simultaneous connections; later ones are closed with a reason.
    static constexpr int kMaxConnections = 256;
    /// Largest message a client may send, in bytes.
    static constexpr qint64 kMaxIncomingBytes = 64 * 1024;
    /// A connection that has not sent Hello after this long is closed.
    static constexpr int kHelloTimeoutMs = 10'000;
    /// Actions per second a connection may send on average.
    static constexpr int kActionsPerSecond = 20;
    /// Actions a connection may send at once after a pause (the token bucket's size).
    static constexpr int kActionBurst = 40;

    /// `world` must outlive this object; actions are queued into it.
    WebSocketTransport(sim::World &world, ServerInfo info, QObject *parent = nullptr);
    ~WebSocketTransport() override;

    /// Takes over `socket`, whose unread bytes start with a WebSocket upgrade request;
    /// QWebSocketServer reads and answers the handshake and owns the socket from now on.
    void handleConnection(QTcpSocket *socket);
    /// Closes every connection.
    void close();

    /// Sends the TickUpdate of `step` (its tick, the changed cells of every chunk, the
    /// state hash) to every joined client; that part is encoded once. Clients with
    /// action results or a changed inventory get a second, small Envelope appended to
    /// the same frame, which protobuf merges into the one TickUpdate.
    void broadcastTick(const sim::StepResult &step);
    /// Connections that completed Hello.
    int joinedCount() const;

private:
    struct Connection
    {
        QWebSocket *socket = nullptr;
        bool joined = false;
        QString playerName;
        sim::PlayerId player = sim::kNoPlayer;
        /// The inventory last sent, valid once inventorySent is true.
        std::map<sim::ItemId, std::uint32_t> sentInventory;
        bool inventorySent = false;
        /// Token bucket for actions: tokens left, refilled from the clock.
        double actionTokens = kActionBurst;
        QElapsedTimer bucketClock;
    };

    void onNewConnection();
    void onBinaryMessage(QWebSocket *socket, const QByteArray &frame);
    void onTextMessage(QWebSocket *socket);
    void onDisconnected(QWebSocket *socket);
    void handleHello(Connection &connection, const protocol::Envelope &hello);
    void handleAction(Connection &connection, const protocol::Envelope &action);
    /// Takes one token from the connection's bucket; false (with the milliseconds until
    /// one is back in `retryMs`) when it is empty.
    bool takeActionToken(Connection &connection, int *retryMs);
    void sendError(QWebSocket *socket, int code, const QString &message);
    Connection *find(QWebSocket *socket);

    sim::World &m_world;
    /// Every named player that ever joined, by name: a returning name gets its player
    /// back.
    QHash<QString, sim::PlayerId> m_playersByName;
    ServerInfo m_info;
    QWebSocketServer *m_server = nullptr;
    std::vector<Connection> m_connections;
};

} // namespace hex::server
