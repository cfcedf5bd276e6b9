#include "websockettransport.h"

#include "netlog.h"

#include "protocol/actioncodec.h"
#include "protocol/codec.h"
#include "protocol/protocolversion.h"
#include "protocol/worldcodec.h"
#include "sim/world.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <QTcpSocket>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

#include <algorithm>
#include <cmath>

// Debug lines (one per connection and per HTTP request) only when asked for, as
// docs/OPERATIONS.md says: QT_LOGGING_RULES="hex.net.debug=true".
Q_LOGGING_CATEGORY(lcNet, "hex.net", QtInfoMsg)

namespace hex::server {

using protocol::Envelope;

WebSocketTransport::WebSocketTransport(sim::World &world, ServerInfo info, QObject *parent)
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

void WebSocketTransport::handleConnection(QTcpSocket *socket)
{
    m_server->handleConnection(socket);
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
        Connection connection;
        connection.socket = socket;
        connection.bucketClock.start();
        m_connections.push_back(std::move(connection));
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
    case Envelope::kClientAction:
        if (!connection->joined)
            break;
        handleAction(*connection, *envelope);
        return;
    default:
        break;
    }
    sendError(socket, protocol::Error::UNEXPECTED,
              connection->joined ? tr("Clients may not send this message.")
                                 : tr("The first message must be Hello."));
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
    const QString name = QString::fromStdString(hello.player_name()).trimmed().left(64);
    const bool nameInUse
        = !name.isEmpty()
          && std::any_of(m_connections.begin(), m_connections.end(),
                         [&](const Connection &c) { return c.joined && c.playerName == name; });
    if (nameInUse) {
        qCInfo(lcNet).nospace() << "tick " << m_world.state().tick << ": refused " << name
                                << " from " << socket->peerAddress().toString() << ": name in use";
        sendError(
            socket, protocol::Error::NAME_IN_USE,
            tr("The name \"%1\" is already playing on this server: choose another.").arg(name));
        socket->close(QWebSocketProtocol::CloseCodePolicyViolated, tr("Name in use."));
        return;
    }
    const auto known = name.isEmpty() ? m_playersByName.cend() : m_playersByName.constFind(name);
    if (known != m_playersByName.cend()) {
        connection.player = *known;
    } else {
        if (m_world.state().players.size() >= std::size_t(sim::kNoPlayer)) {
            sendError(socket, protocol::Error::UNEXPECTED,
                      tr("The world has no room for more players."));
            socket->close(QWebSocketProtocol::CloseCodePolicyViolated, tr("World full."));
            return;
        }
        // Nameless guests get a fresh player each time, under a name nobody has.
        QString playerName = name;
        for (std::size_t n = m_world.state().players.size() + 1;
             playerName.isEmpty() || m_playersByName.contains(playerName); ++n)
            playerName = QStringLiteral("Guest %1").arg(n);
        connection.player = m_world.addPlayer(playerName);
        m_playersByName.insert(playerName, connection.player);
    }
    connection.joined = true;
    connection.playerName = name.isEmpty() ? m_world.state().players[connection.player].name : name;
    connection.inventorySent = false;

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
    w->set_player_id(connection.player);
    socket->sendBinaryMessage(protocol::encodeEnvelope(info));

    Envelope snapshot;
    protocol::encodeSnapshot(m_world.state(), snapshot.mutable_snapshot());
    socket->sendBinaryMessage(protocol::encodeEnvelope(snapshot));
    qCInfo(lcNet).nospace() << "tick " << m_world.state().tick << ": " << connection.playerName
                            << " joined as player " << connection.player << " from "
                            << socket->peerAddress().toString();
}

bool WebSocketTransport::takeActionToken(Connection &connection, int *retryMs)
{
    const double elapsedMs = double(connection.bucketClock.restart());
    connection.actionTokens = std::min(
        double(kActionBurst), connection.actionTokens + elapsedMs * kActionsPerSecond / 1000.0);
    if (connection.actionTokens >= 1.0) {
        connection.actionTokens -= 1.0;
        return true;
    }
    *retryMs = int(std::ceil((1.0 - connection.actionTokens) * 1000.0 / kActionsPerSecond));
    return false;
}

void WebSocketTransport::handleAction(Connection &connection, const Envelope &envelope)
{
    QWebSocket *socket = connection.socket;
    const protocol::ClientAction &action = envelope.client_action();
    int retryMs = 0;
    if (!takeActionToken(connection, &retryMs)) {
        qCDebug(lcNet).nospace() << "tick " << m_world.state().tick << ": " << connection.playerName
                                 << " rate limited";
        sendError(socket, protocol::Error::RATE_LIMITED,
                  tr("Too many actions: at most %1 per second, %2 at once. Action %3 was not "
                     "queued; try again in %4 ms.")
                      .arg(kActionsPerSecond)
                      .arg(kActionBurst)
                      .arg(action.client_seq())
                      .arg(retryMs));
        return;
    }
    const auto decoded = protocol::decodeClientAction(action, m_world.state().sphere->cellCount(),
                                                      connection.player);
    if (!decoded) {
        qCInfo(lcNet).nospace().noquote() << "tick " << m_world.state().tick << ": bad action from "
                                          << connection.playerName << ": " << decoded.error();
        sendError(socket, protocol::Error::BAD_ACTION, decoded.error());
        return;
    }
    m_world.queueAction(*decoded);
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
    const QByteArray shared = protocol::encodeEnvelope(envelope);

    // Each client's own part: its results and, when it changed, its inventory. Protobuf
    // parses repeated occurrences of an embedded message field by merging them, so
    // `shared` followed by Envelope{tick{results, inventory}} reads as one TickUpdate
    // whose shared fields were encoded once for everyone.
    std::map<sim::PlayerId, std::vector<const sim::ActionResult *>> resultsByPlayer;
    for (const sim::ActionResult &result : step.actions)
        resultsByPlayer[result.player].push_back(&result);
    const auto &players = m_world.state().players;
    for (Connection &c : m_connections) {
        if (!c.joined)
            continue;
        Envelope own;
        protocol::TickUpdate *ownUpdate = own.mutable_tick();
        if (const auto it = resultsByPlayer.find(c.player); it != resultsByPlayer.end()) {
            for (const sim::ActionResult *result : it->second)
                protocol::encodeActionResult(*result, step.tick, ownUpdate->add_results());
        }
        const auto &inventory = players[c.player].inventory;
        if (!c.inventorySent || inventory != c.sentInventory) {
            // The whole inventory, plus a count of 0 for each item no longer carried, so
            // that an inventory that became empty still says so.
            std::map<sim::ItemId, std::uint32_t> listed = inventory;
            for (const auto &[item, count] : c.sentInventory)
                listed.try_emplace(item, 0);
            if (listed.empty())
                listed.emplace(0, 0);
            for (const auto &[item, count] : listed) {
                protocol::ItemCount *entry = ownUpdate->add_inventory();
                entry->set_item(item);
                entry->set_count(count);
            }
            c.sentInventory = inventory;
            c.inventorySent = true;
        }
        if (ownUpdate->results_size() == 0 && ownUpdate->inventory_size() == 0)
            c.socket->sendBinaryMessage(shared);
        else
            c.socket->sendBinaryMessage(shared + protocol::encodeEnvelope(own));
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
