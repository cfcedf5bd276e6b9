#include "websockettransport.h"

#include "protocol/codec.h"
#include "protocol/protocolversion.h"
#include "protocol/worldcodec.h"
#include "sim/world.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

#include <algorithm>

Q_LOGGING_CATEGORY(lcNet, "hex.net")

namespace hex::server {

using protocol::Envelope;

WebSocketTransport::WebSocketTransport(const sim::World &world, ServerInfo info,
                                       QObject *parent)
    : QObject(parent)
    , m_world(world)
    , m_info(std::move(info))
    , m_server(
          new QWebSocketServer(QStringLiteral("hexsphere"), QWebSocketServer::NonSecureMode, this))
{
    m_server->setMaxPendingConnections(64);
    connect(m_server, &QWebSocketServer::newConnection, this, &WebSocketTransport::onNewConnection);
}

WebSocketTransport::~WebSocketTransport()
{
    close();
}

bool WebSocketTransport::listen(const QHostAddress &address, quint16 port)
{
    if (!m_server->listen(address, port)) {
        m_errorString = tr("Cannot listen on %1 port %2: %3")
                            .arg(address.toString())
                            .arg(port)
                            .arg(m_server->errorString());
        return false;
    }
    return true;
}

quint16 WebSocketTransport::port() const
{
    return m_server->serverPort();
}

void WebSocketTransport::close()
{
    for (Connection &c : m_connections) {
        c.socket->disconnect(this);
        c.socket->close(QWebSocketProtocol::CloseCodeGoingAway, tr("The server is shutting down."));
        c.socket->deleteLater();
    }
    m_connections.clear();
    m_server->close();
}

int WebSocketTransport::joinedCount() const
{
    return int(std::count_if(m_connections.begin(), m_connections.end(),
                             [](const Connection &c) { return c.joined; }));
}

void WebSocketTransport::onNewConnection()
{
    while (QWebSocket *socket = m_server->nextPendingConnection()) {
        if (m_connections.size() >= std::size_t(kMaxConnections)) {
            qCWarning(lcNet) << "refusing" << socket->peerAddress().toString()
                             << ": connection limit" << kMaxConnections << "reached";
            // 1013 "Try Again Later" (RFC 6455 registry); Qt 6.4 has no name for it.
            socket->close(QWebSocketProtocol::CloseCode(1013),
                          tr("The server is full (%1 connections).").arg(kMaxConnections));
            socket->deleteLater();
            continue;
        }
        socket->setParent(this);
        socket->setMaxAllowedIncomingMessageSize(quint64(kMaxIncomingBytes));
        socket->setMaxAllowedIncomingFrameSize(quint64(kMaxIncomingBytes));
        m_connections.push_back({socket, false, {}});
        connect(socket, &QWebSocket::binaryMessageReceived, this,
                [this, socket](const QByteArray &frame) { onBinaryMessage(socket, frame); });
        connect(socket, &QWebSocket::textMessageReceived, this,
                [this, socket] { onTextMessage(socket); });
        connect(socket, &QWebSocket::disconnected, this,
                [this, socket] { onDisconnected(socket); });
        QTimer::singleShot(kHelloTimeoutMs, socket, [this, socket] {
            const Connection *c = find(socket);
            if (c && !c->joined) {
                socket->close(QWebSocketProtocol::CloseCodePolicyViolated,
                              tr("No Hello within %1 seconds.").arg(kHelloTimeoutMs / 1000));
            }
        });
        qCDebug(lcNet) << "connection from" << socket->peerAddress().toString();
    }
}

WebSocketTransport::Connection *WebSocketTransport::find(QWebSocket *socket)
{
    auto it = std::find_if(m_connections.begin(), m_connections.end(),
                           [socket](const Connection &c) { return c.socket == socket; });
    return it == m_connections.end() ? nullptr : &*it;
}

void WebSocketTransport::onDisconnected(QWebSocket *socket)
{
    std::erase_if(m_connections, [socket](const Connection &c) { return c.socket == socket; });
    socket->deleteLater();
}

void WebSocketTransport::onTextMessage(QWebSocket *socket)
{
    sendError(socket, protocol::Error::MALFORMED,
              tr("Text frames are not accepted: send binary protobuf Envelope frames."));
}

void WebSocketTransport::onBinaryMessage(QWebSocket *socket, const QByteArray &frame)
{
    Connection *connection = find(socket);
    if (!connection)
        return;
    const auto envelope = protocol::decodeEnvelope(frame);
    if (!envelope) {
        qCInfo(lcNet) << "tick" << m_world.state().tick << ": bad frame from"
                      << socket->peerAddress().toString() << ":"
                      << protocol::describe(envelope.error());
        sendError(socket, protocol::Error::MALFORMED, protocol::describe(envelope.error()));
        return;
    }
    switch (envelope->body_case()) {
    case Envelope::kHello:
        if (connection->joined) {
            sendError(socket, protocol::Error::UNEXPECTED, tr("Hello was already received."));
            return;
        }
        handleHello(*connection, *envelope);
        return;
    default:
        sendError(socket, protocol::Error::UNEXPECTED,
                  connection->joined ? tr("Clients may not send this message.")
                                     : tr("The first message must be Hello."));
        return;
    }
}

void WebSocketTransport::handleHello(Connection &connection, const Envelope &envelope)
{
    const protocol::Hello &hello = envelope.hello();
    QWebSocket *socket = connection.socket;
    if (hello.protocol_version() != protocol::kProtocolVersion) {
        sendError(socket, protocol::Error::VERSION_MISMATCH,
                  tr("Protocol version mismatch: the client speaks version %1, the server "
                     "version %2.")
                      .arg(hello.protocol_version())
                      .arg(protocol::kProtocolVersion));
        socket->close(QWebSocketProtocol::CloseCodeProtocolError, tr("Protocol version mismatch."));
        return;
    }
    connection.joined = true;
    connection.playerName = QString::fromStdString(hello.player_name()).left(64);

    const geometry::HexSphere &sphere = *m_world.state().sphere;
    Envelope info;
    protocol::WorldInfo *w = info.mutable_world_info();
    w->set_protocol_version(protocol::kProtocolVersion);
    w->set_world_name(m_info.worldName.toStdString());
    w->set_subdivisions(std::uint32_t(sphere.subdivisions()));
    w->set_cell_count(sphere.cellCount());
    w->set_chunk_split(std::uint32_t(sphere.chunkSplit()));
    w->set_seed(m_world.state().seed);
    w->set_tick(m_world.state().tick);
    w->set_ups(std::uint32_t(m_info.ups));
    socket->sendBinaryMessage(protocol::encodeEnvelope(info));

    Envelope snapshot;
    protocol::encodeSnapshot(m_world.state(), snapshot.mutable_snapshot());
    socket->sendBinaryMessage(protocol::encodeEnvelope(snapshot));
    qCInfo(lcNet).nospace() << "tick " << m_world.state().tick << ": " << connection.playerName
                            << " joined from " << socket->peerAddress().toString();
}

void WebSocketTransport::broadcastTick(const sim::StepResult &step)
{
    if (joinedCount() == 0)
        return;
    Envelope envelope;
    protocol::TickUpdate *update = envelope.mutable_tick();
    update->set_tick(step.tick);
    update->set_server_time_ms(QDateTime::currentMSecsSinceEpoch());
    update->set_state_hash(step.stateHash);
    for (const sim::ChunkDelta &delta : step.deltas)
        protocol::encodeChunkDelta(m_world.state(), delta, update->add_deltas());
    const QByteArray frame = protocol::encodeEnvelope(envelope);
    for (const Connection &c : m_connections) {
        if (c.joined)
            c.socket->sendBinaryMessage(frame);
    }
}

void WebSocketTransport::sendError(QWebSocket *socket, int code, const QString &message)
{
    Envelope envelope;
    protocol::Error *error = envelope.mutable_error();
    error->set_code(protocol::Error::Code(code));
    error->set_message(message.toStdString());
    socket->sendBinaryMessage(protocol::encodeEnvelope(envelope));
}

} // namespace hex::server
