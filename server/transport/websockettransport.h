#pragma once

#include <QHostAddress>
#include <QObject>
#include <QString>

#include <cstdint>
#include <vector>

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
/// answers WorldInfo and a Snapshot of every cell, then one TickUpdate per tick.
/// Lives in, and must be used from, the tick thread.
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

    /// `world` must outlive this object.
    WebSocketTransport(const sim::World &world, ServerInfo info, QObject *parent = nullptr);
    ~WebSocketTransport() override;

    [[nodiscard]] bool listen(const QHostAddress &address, quint16 port);
    QString errorString() const { return m_errorString; }
    quint16 port() const;
    /// Closes every connection and stops listening.
    void close();

    /// Sends the TickUpdate of `step` (its tick, the changed cells of every chunk, the
    /// state hash) to every joined client; the frame is encoded once.
    void broadcastTick(const sim::StepResult &step);
    /// Connections that completed Hello.
    int joinedCount() const;

private:
    struct Connection
    {
        QWebSocket *socket = nullptr;
        bool joined = false;
        QString playerName;
    };

    void onNewConnection();
    void onBinaryMessage(QWebSocket *socket, const QByteArray &frame);
    void onTextMessage(QWebSocket *socket);
    void onDisconnected(QWebSocket *socket);
    void handleHello(Connection &connection, const protocol::Envelope &hello);
    void sendError(QWebSocket *socket, int code, const QString &message);
    Connection *find(QWebSocket *socket);

    const sim::World &m_world;
    ServerInfo m_info;
    QWebSocketServer *m_server = nullptr;
    std::vector<Connection> m_connections;
    QString m_errorString;
};

} // namespace hex::server
