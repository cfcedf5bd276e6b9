#include "websockettransport.h"

#include "netlog.h"

#include "protocol/codec.h"
#include "protocol/protocolversion.h"

#include <QLoggingCategory>
#include <QTcpSocket>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

#include <QtEndian>

#include <algorithm>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>

// Debug lines (one per connection and per HTTP request) only when asked for, as
// docs/OPERATIONS.md says: QT_LOGGING_RULES="hex.net.debug=true".
Q_LOGGING_CATEGORY(lcNet, "hex.net", QtInfoMsg)

namespace hex::server {

using protocol::Envelope;

namespace {

QPair<QString, quint16> peerOf(const QAbstractSocket &socket)
{
    return {socket.peerAddress().toString(), socket.peerPort()};
}

} // namespace

WebSocketTransport::WebSocketTransport(SessionManager &sessions, int maxConnections,
                                       QObject *parent)
    : QObject(parent)
    , m_sessions(sessions)
    , m_maxConnections(maxConnections)
    , m_server(
          new QWebSocketServer(QStringLiteral("hexsphere"), QWebSocketServer::NonSecureMode, this))
    , m_pingTimer(new QTimer(this))
{
    m_server->setMaxPendingConnections(kMaxPendingHandshakes);
    m_server->setHandshakeTimeout(std::chrono::milliseconds(5'000));
    connect(m_server, &QWebSocketServer::newConnection, this, &WebSocketTransport::onNewConnection);
    connect(&m_sessions, &SessionManager::sessionEnded, this, &WebSocketTransport::onSessionEnded);
    connect(m_pingTimer, &QTimer::timeout, this, &WebSocketTransport::pingAndReap);
    m_pingTimer->start(kPingIntervalMs);
}

WebSocketTransport::~WebSocketTransport()
{
    close();
}

void WebSocketTransport::handleConnection(QTcpSocket *socket)
{
    const auto peer = peerOf(*socket);
    m_handshaking.insert(peer, socket);
    connect(socket, &QObject::destroyed, this, [this, peer] { m_handshaking.remove(peer); });
    m_server->handleConnection(socket);
}

void WebSocketTransport::close()
{
    auto connections = std::move(m_connections);
    m_connections.clear();
    m_bySession.clear();
    for (auto &[socket, c] : connections) {
        socket->disconnect(this);
        if (c.session)
            m_sessions.setWebSocketAttached(*c.session, false);
        socket->close(QWebSocketProtocol::CloseCodeGoingAway, tr("The server is shutting down."));
        socket->deleteLater();
    }
    m_server->close();
}

int WebSocketTransport::joinedCount() const
{
    return int(std::count_if(m_connections.begin(), m_connections.end(),
                             [](const auto &entry) { return entry.second.session != nullptr; }));
}

void WebSocketTransport::onNewConnection()
{
    while (QWebSocket *socket = m_server->nextPendingConnection()) {
        const QPointer<QTcpSocket> tcp
            = m_handshaking.take({socket->peerAddress().toString(), socket->peerPort()});
        if (int(m_connections.size()) >= m_maxConnections) {
            qCWarning(lcNet) << "refusing" << socket->peerAddress().toString()
                             << ": connection limit" << m_maxConnections << "reached";
            // 1013 "Try Again Later" (RFC 6455 registry); Qt 6.4 has no name for it.
            socket->close(QWebSocketProtocol::CloseCode(1013),
                          tr("The server is full (%1 connections).").arg(m_maxConnections));
            socket->deleteLater();
            continue;
        }
        socket->setParent(this);
        socket->setMaxAllowedIncomingMessageSize(quint64(kMaxIncomingBytes));
        socket->setMaxAllowedIncomingFrameSize(quint64(kMaxIncomingBytes));
        Connection connection;
        connection.socket = socket;
        // QWebSocketServer upgrades the very socket it was handed: the same stream.
        if (tcp && tcp->state() == QAbstractSocket::ConnectedState
            && tcp->peerPort() == socket->peerPort())
            connection.tcp = tcp;
        connection.lastHeard.start();
        m_connections.emplace(socket, std::move(connection));
        connect(socket, &QWebSocket::binaryMessageReceived, this,
                [this, socket](const QByteArray &frame) { onBinaryMessage(socket, frame); });
        connect(socket, &QWebSocket::textMessageReceived, this,
                [this, socket] { onTextMessage(socket); });
        connect(socket, &QWebSocket::pong, this, [this, socket] {
            if (Connection *c = find(socket))
                c->lastHeard.restart();
        });
        connect(socket, &QWebSocket::disconnected, this,
                [this, socket] { onDisconnected(socket); });
        QTimer::singleShot(kHelloTimeoutMs, socket, [this, socket] {
            const Connection *c = find(socket);
            if (c && !c->session) {
                socket->close(QWebSocketProtocol::CloseCodePolicyViolated,
                              tr("No Hello within %1 seconds.").arg(kHelloTimeoutMs / 1000));
            }
        });
        qCDebug(lcNet) << "connection from" << socket->peerAddress().toString();
    }
}

WebSocketTransport::Connection *WebSocketTransport::find(QWebSocket *socket)
{
    const auto it = m_connections.find(socket);
    return it == m_connections.end() ? nullptr : &it->second;
}

void WebSocketTransport::onDisconnected(QWebSocket *socket)
{
    if (const Connection *c = find(socket); c && c->session) {
        const auto carried = m_bySession.find(c->session.get());
        if (carried != m_bySession.end() && carried->second == c)
            m_bySession.erase(carried);
    }
    if (Connection *c = find(socket); c && c->session && !c->session->ended) {
        m_sessions.setWebSocketAttached(*c->session, false);
        qCDebug(lcNet).noquote() << c->session->playerName << "disconnected; session kept for"
                                 << m_sessions.limits().detachedTtlMs / 1000 << "s";
    }
    m_connections.erase(socket);
    socket->deleteLater();
}

void WebSocketTransport::onSessionEnded(const SessionManager::SessionPtr &session,
                                        const QString &why)
{
    // A session has at most one connection: the one m_bySession names.
    const auto carried = m_bySession.find(session.get());
    if (carried == m_bySession.end())
        return;
    Connection &c = *carried->second;
    m_bySession.erase(carried);
    c.session.reset();
    sendError(c.socket, protocol::Error::UNAUTHORIZED, why);
    c.socket->close(QWebSocketProtocol::CloseCodePolicyViolated, why.left(120));
}

void WebSocketTransport::pingAndReap()
{
    std::vector<QWebSocket *> silent;
    for (auto &[socket, c] : m_connections) {
        if (c.lastHeard.elapsed() > kIdleTimeoutMs)
            silent.push_back(socket);
        else
            socket->ping();
    }
    for (QWebSocket *socket : silent) {
        socket->close(QWebSocketProtocol::CloseCodePolicyViolated,
                      tr("Nothing heard for %1 seconds.").arg(kIdleTimeoutMs / 1000));
    }
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
    connection->lastHeard.restart();
    const auto envelope = protocol::decodeEnvelope(frame);
    if (!envelope) {
        qCInfo(lcNet) << "bad frame from" << socket->peerAddress().toString() << ":"
                      << protocol::describe(envelope.error());
        sendError(socket, protocol::Error::MALFORMED, protocol::describe(envelope.error()));
        return;
    }
    const bool joined = connection->session != nullptr;
    switch (envelope->body_case()) {
    case Envelope::kHello:
        if (joined || connection->joining) {
            sendError(socket, protocol::Error::UNEXPECTED, tr("Hello was already received."));
            return;
        }
        handleHello(*connection, *envelope);
        return;
    case Envelope::kClientAction:
        if (!joined)
            break;
        handleAction(*connection, *envelope);
        return;
    case Envelope::kCursor:
        if (!joined)
            break;
        if (const auto set = m_sessions.setCursor(*connection->session, envelope->cursor().cell(),
                                                  envelope->cursor().visible());
            !set)
            sendError(socket, set.error().code, set.error().message);
        return;
    case Envelope::kChatSend:
        if (!joined)
            break;
        if (const auto said = m_sessions.say(*connection->session,
                                             QString::fromStdString(envelope->chat_send().text()));
            !said)
            sendError(socket, said.error().code, said.error().message);
        return;
    case Envelope::kView:
        if (!joined)
            break;
        if (const auto set = m_sessions.setView(*connection->session, envelope->view()); !set)
            sendError(socket, set.error().code, set.error().message);
        return;
    default:
        break;
    }
    sendError(socket, protocol::Error::UNEXPECTED,
              joined ? tr("Clients may not send this message.")
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
    // A WebSocket client that says nothing about its view sees the whole planet.
    protocol::View view;
    if (hello.has_view()) {
        view = hello.view();
    } else {
        view.set_radius_degrees(180.0f);
    }
    const QString name = QString::fromStdString(hello.player_name());
    if (!hello.token().empty()) {
        auto resumed = m_sessions.authenticate(QString::fromStdString(hello.token()));
        if (resumed && hello.has_view()) {
            if (const auto set = m_sessions.setView(**resumed, view); !set)
                resumed = tl::unexpected(set.error());
        }
        finishHello(socket, hello.resume_after(), true, std::move(resumed));
        return;
    }
    if (const auto admitted
        = m_sessions.checkJoinPassword(QString::fromStdString(hello.server_password()));
        !admitted) {
        finishHello(socket, 0, false, tl::unexpected(admitted.error()));
        return;
    }
    if (!hello.password().empty()) {
        connection.joining = true;
        const std::uint64_t after = hello.resume_after();
        m_sessions.login(name, QString::fromStdString(hello.password()), view, socket,
                         [this, socket, after](SessionManager::Result result) {
                             finishHello(socket, after, false, std::move(result));
                         });
        return;
    }
    finishHello(socket, 0, false, m_sessions.openGuest(name, view));
}

void WebSocketTransport::finishHello(QWebSocket *socket, std::uint64_t resumeAfter, bool resume,
                                     SessionManager::Result result)
{
    Connection *connection = find(socket);
    if (!connection)
        return;
    connection->joining = false;
    if (!result) {
        const Refusal &refusal = result.error();
        qCInfo(lcNet).noquote() << "refused Hello from" << socket->peerAddress().toString() << ":"
                                << refusal.message;
        sendError(socket, refusal.code, refusal.message);
        socket->close(QWebSocketProtocol::CloseCodePolicyViolated, refusal.message.left(120));
        return;
    }
    SessionManager::SessionPtr session = *result;
    // One WebSocket per session: a resume from a new connection replaces the old one.
    if (const auto carried = m_bySession.find(session.get());
        carried != m_bySession.end() && carried->second != connection) {
        Connection &old = *carried->second;
        m_bySession.erase(carried);
        old.session.reset();
        sendError(old.socket, protocol::Error::UNAUTHORIZED,
                  tr("This session was resumed from another connection."));
        old.socket->close(QWebSocketProtocol::CloseCodePolicyViolated,
                          tr("Session resumed elsewhere."));
        connection = find(socket);
        if (!connection)
            return;
    }
    connection->session = session;
    m_bySession[session.get()] = connection;
    m_sessions.setWebSocketAttached(*session, true);

    Envelope info;
    m_sessions.fillWorldInfo(info.mutable_world_info(), session.get());
    socket->sendBinaryMessage(protocol::encodeEnvelope(info));
    Envelope sessionInfo;
    m_sessions.fillSessionInfo(sessionInfo.mutable_session(), *session);
    socket->sendBinaryMessage(protocol::encodeEnvelope(sessionInfo));
    // A resume replays what the client missed; a new session starts after its last
    // seq (none yet) and gets its snapshot with the next tick.
    connection->deliveredSeq = resume ? std::min(resumeAfter, session->lastSeq) : session->lastSeq;
    if (resume) {
        qCInfo(lcNet).nospace().noquote()
            << session->playerName << " resumed session " << session->id.left(8) << " after seq "
            << connection->deliveredSeq << " (last " << session->lastSeq << ")";
        send(*connection);
    }
}

void WebSocketTransport::handleAction(Connection &connection, const Envelope &envelope)
{
    const auto queued = m_sessions.queueActions(*connection.session, {&envelope.client_action()});
    if (!queued) {
        const Refusal &refusal = queued.error();
        qCDebug(lcNet).noquote() << connection.session->playerName << "action refused:"
                                 << refusal.message;
        sendError(connection.socket, refusal.code, refusal.message);
    }
}

void WebSocketTransport::flush()
{
    for (const Session *session : m_sessions.updatedSessions()) {
        const auto carried = m_bySession.find(session);
        if (carried == m_bySession.end())
            continue;
        Connection &c = *carried->second;
        if (c.session && c.session->lastSeq > c.deliveredSeq)
            send(c);
    }
}

void WebSocketTransport::send(Connection &connection)
{
    Session &session = *connection.session;
    if (connection.socket->bytesToWrite() > kMaxQueuedBytes)
        return; // A slow reader: its messages wait in the mailbox.
    const auto messages = m_sessions.messagesAfter(session, connection.deliveredSeq);
    for (const OutgoingMessage *message : messages) {
        if (connection.tcp)
            writeFrame(connection, *message);
        else
            connection.socket->sendBinaryMessage(message->bytes());
        connection.deliveredSeq = message->seq;
        if (connection.socket->bytesToWrite() > kMaxQueuedBytes)
            break;
    }
    // Written now, in one system call, rather than on a later turn of the event loop:
    // with thousands of sockets every turn polls them all.
    connection.socket->flush();
    m_sessions.markSent(session, connection.deliveredSeq);
}

void WebSocketTransport::writeFrame(Connection &connection, const OutgoingMessage &message)
{
    // QWebSocket::sendBinaryMessage() copies the payload into a frame, and the frame
    // into the TCP socket's buffer, which is written on a later turn of the event loop.
    // Most tick frames go out whole in one sendmsg() straight from the shared pieces.
    // Only when the socket's buffer is empty (nothing of QWebSocket's own, such as a
    // ping, is half-written) is this safe; what the kernel does not take is queued on
    // the TCP socket behind it, so the byte order of the stream is kept.
    QTcpSocket &tcp = *connection.tcp;
    const auto size = std::uint64_t(message.size());
    // RFC 6455 §5.2: FIN + binary opcode, then the length in 7, 7+16 or 7+64 bits;
    // a server's frames are not masked.
    unsigned char header[10];
    std::size_t headerSize = 2;
    header[0] = 0x82;
    if (size < 126) {
        header[1] = static_cast<unsigned char>(size);
    } else if (size <= 0xFFFF) {
        header[1] = 126;
        qToBigEndian(quint16(size), header + 2);
        headerSize = 4;
    } else {
        header[1] = 127;
        qToBigEndian(quint64(size), header + 2);
        headerSize = 10;
    }
    std::size_t written = 0;
    if (tcp.bytesToWrite() == 0) {
        std::vector<iovec> parts;
        parts.reserve(std::size_t(message.pieces.size()) + 1);
        parts.push_back({header, headerSize});
        for (const QByteArray &piece : message.pieces)
            parts.push_back({const_cast<char *>(piece.constData()), std::size_t(piece.size())});
        msghdr out{};
        out.msg_iov = parts.data();
        out.msg_iovlen = parts.size();
        const ssize_t sent = ::sendmsg(int(tcp.socketDescriptor()), &out, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent > 0)
            written = std::size_t(sent);
    }
    // The rest (all of it when the buffer was not empty or the kernel refused) goes
    // through the TCP socket's buffer.
    std::size_t skip = written;
    if (skip < headerSize) {
        tcp.write(reinterpret_cast<const char *>(header) + skip, qint64(headerSize - skip));
        skip = 0;
    } else {
        skip -= headerSize;
    }
    for (const QByteArray &piece : message.pieces) {
        const auto pieceSize = std::size_t(piece.size());
        if (skip >= pieceSize) {
            skip -= pieceSize;
            continue;
        }
        tcp.write(piece.constData() + skip, qint64(pieceSize - skip));
        skip = 0;
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
