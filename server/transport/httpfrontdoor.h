#pragma once

#include "websockettransport.h"

#include <QHostAddress>
#include <QObject>
#include <QString>

#include <memory>
#include <unordered_map>
#include <unordered_set>

class QTcpServer;
class QTcpSocket;

namespace hex::server {

/// The one listening port. Reads each request's head with Boost.Beast's HTTP parser;
/// a WebSocket upgrade (GET with Connection: Upgrade and Upgrade: websocket, on any
/// path; `/ws` is the documented one) is handed, its bytes still unread, to the
/// WebSocketTransport; every other request is answered here as HTTP/1.1 with a JSON
/// body (the protobuf JSON mapping of the protocol's messages, refusals as HttpError):
/// the world, chunks, sessions and accounts, actions, views, the long-poll and the
/// mailbox (docs/PROTOCOL.md lists the routes). Keeps connections alive up to a request
/// cap and an idle timeout; refuses oversized, slow or malformed requests. Lives in,
/// and must be used from, the tick thread.
class HttpFrontDoor : public QObject
{
    Q_OBJECT
public:
    /// Most simultaneous HTTP connections by default (WebSockets handed over no longer
    /// count); later ones get 503 with Retry-After.
    static constexpr int kDefaultMaxConnections = 1024;
    /// Seconds a refused client is told to wait (Retry-After).
    static constexpr int kRetryAfterSeconds = 5;
    /// Largest request head (request line and header fields), in bytes; beyond: 431.
    static constexpr int kMaxHeadBytes = 8 * 1024;
    /// Largest request body, in bytes, declared or chunked; beyond: 413.
    static constexpr int kMaxBodyBytes = 64 * 1024;
    /// A request head must be complete this long after its first byte (or after the
    /// connection opened, for the first request); otherwise 408.
    static constexpr int kHeadTimeoutMs = 5'000;
    /// A request body must be complete this long after its head; otherwise 408.
    static constexpr int kBodyTimeoutMs = 10'000;
    /// A kept-alive connection with no request for this long is closed silently.
    static constexpr int kIdleTimeoutMs = 15'000;
    /// Requests one connection may make; the last response says Connection: close.
    static constexpr int kMaxRequestsPerConnection = 100;
    /// Longest a long-poll is held when nothing arrives, in seconds (and the most a
    /// request's `timeout` may ask for).
    static constexpr int kMaxPollSeconds = 30;
    /// Most messages one poll or mailbox response carries; the client asks again.
    static constexpr int kMaxMessagesPerResponse = 64;
    /// Most actions in one ActionBatch.
    static constexpr int kMaxActionsPerRequest = 40;

    /// `sessions` and `webSocket` must outlive this object.
    HttpFrontDoor(SessionManager &sessions, WebSocketTransport &webSocket,
                  int maxConnections = kDefaultMaxConnections, QObject *parent = nullptr);
    ~HttpFrontDoor() override;

    [[nodiscard]] bool listen(const QHostAddress &address, quint16 port);
    QString errorString() const { return m_errorString; }
    /// The bound port, 0 when not listening.
    quint16 port() const;
    /// Stops listening and closes every HTTP connection (not the handed-over WebSockets).
    void close();
    /// Open HTTP connections.
    int connectionCount() const { return int(m_connections.size()); }
    /// Long-polls held open now.
    int heldPollCount() const { return int(m_polls.size()); }
    /// Answers every held long-poll whose session has new messages (or ended). Called
    /// after each tick's SessionManager::publishTick().
    void wakePolls();

private:
    class Connection;
    void onNewConnection();
    void forget(QTcpSocket *socket);

    SessionManager &m_sessions;
    WebSocketTransport &m_webSocket;
    int m_maxConnections;
    QTcpServer *m_server = nullptr;
    std::unordered_map<QTcpSocket *, std::unique_ptr<Connection>> m_connections;
    /// Connections holding a long-poll.
    std::unordered_set<Connection *> m_polls;
    QString m_errorString;
};

} // namespace hex::server
