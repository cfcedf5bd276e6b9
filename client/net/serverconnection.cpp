#include "serverconnection.h"

#include "geometry/hexsphere.h"
#include "protocol/codec.h"
#include "protocol/protocolversion.h"

#include <QLoggingCategory>
#include <QTimer>

namespace hex::client {

namespace {
Q_LOGGING_CATEGORY(lcNet, "hex.client.net")
}

ServerConnection::ServerConnection(QObject *parent)
    : QObject(parent)
{
    m_socket.setMaxAllowedIncomingMessageSize(quint64(protocol::kMaxFrameBytes));
    m_socket.setMaxAllowedIncomingFrameSize(quint64(protocol::kMaxFrameBytes));
    connect(&m_socket, &QWebSocket::connected, this, &ServerConnection::onConnected);
    connect(&m_socket, &QWebSocket::disconnected, this, &ServerConnection::onDisconnected);
    connect(&m_socket, QOverload<QAbstractSocket::SocketError>::of(&QWebSocket::error), this,
            &ServerConnection::onSocketError);
    connect(&m_socket, &QWebSocket::binaryMessageReceived, this, &ServerConnection::handleFrame);
    connect(&m_socket, &QWebSocket::textMessageReceived, this, [this] {
        reportError(tr("The server sent a text frame; Hexsphere servers send binary frames "
                       "only."));
    });
}

ServerConnection::~ServerConnection()
{
    // No signals to half-destroyed listeners while the socket goes down.
    m_socket.disconnect(this);
    m_socket.abort();
}

void ServerConnection::open(const QUrl &url, const QString &playerName)
{
    close();
    m_url = url;
    m_playerName = playerName;
    m_world = {};
    m_errorString.clear();
    ++m_attempt;
    qCInfo(lcNet).noquote() << "connecting to" << url.toString();
    setState(State::Connecting);
    m_socket.open(url);
}

void ServerConnection::close()
{
    if (m_socket.state() == QAbstractSocket::UnconnectedState) {
        setState(State::Disconnected);
        return;
    }
    m_closing = true;
    m_socket.close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("client closed"));
    // A socket that never finished its handshake does not come back with
    // disconnected(): abort it outright.
    if (m_socket.state() != QAbstractSocket::UnconnectedState
        && m_socket.state() != QAbstractSocket::ClosingState)
        m_socket.abort();
    setState(State::Disconnected);
}

void ServerConnection::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    emit stateChanged(state);
}

void ServerConnection::reportError(const QString &message)
{
    qCWarning(lcNet).noquote() << message;
    m_errorString = message;
    emit errorOccurred(message);
}

void ServerConnection::onConnected()
{
    qCInfo(lcNet) << "connected; sending Hello as" << m_playerName;
    protocol::Envelope envelope;
    protocol::Hello *hello = envelope.mutable_hello();
    hello->set_protocol_version(protocol::kProtocolVersion);
    hello->set_player_name(m_playerName.toStdString());
    m_socket.sendBinaryMessage(protocol::encodeEnvelope(envelope));
    setState(State::Joining);
}

void ServerConnection::onDisconnected()
{
    const bool expected = m_closing;
    m_closing = false;
    if (!expected && m_state == State::Connecting) {
        // The handshake failed: the socket error that follows says why. Should none
        // come, still say that the connection did not happen.
        setState(State::Disconnected);
        QTimer::singleShot(0, this, [this, attempt = m_attempt] {
            if (attempt == m_attempt && m_errorString.isEmpty())
                reportError(tr("Could not connect to %1.").arg(m_url.toString()));
        });
        return;
    }
    if (!expected && m_state != State::Disconnected) {
        const QString reason = m_socket.closeReason();
        if (reason.isEmpty())
            reportError(tr("The server closed the connection."));
        else
            reportError(tr("The server closed the connection: %1").arg(reason));
    }
    setState(State::Disconnected);
}

void ServerConnection::onSocketError(QAbstractSocket::SocketError error)
{
    if (m_closing)
        return;
    // RemoteHostClosedError is followed by disconnected(), which says it better.
    if (error == QAbstractSocket::RemoteHostClosedError)
        return;
    reportError(tr("Connection to %1 failed: %2").arg(m_url.toString(), m_socket.errorString()));
    if (m_socket.state() == QAbstractSocket::UnconnectedState)
        setState(State::Disconnected);
}

void ServerConnection::handleFrame(const QByteArray &frame)
{
    const auto envelope = protocol::decodeEnvelope(frame);
    if (!envelope) {
        reportError(tr("The server sent a frame that could not be read: %1")
                        .arg(protocol::describe(envelope.error())));
        return;
    }
    handleEnvelope(*envelope);
}

void ServerConnection::handleEnvelope(const protocol::Envelope &envelope)
{
    switch (envelope.body_case()) {
    case protocol::Envelope::kWorldInfo:
        handleWorldInfo(envelope.world_info());
        return;
    case protocol::Envelope::kSnapshot:
        handleSnapshot(envelope.snapshot());
        return;
    case protocol::Envelope::kTick:
        if (m_state != State::Joined) {
            reportError(tr("The server sent a tick before describing the world."));
            return;
        }
        emit tickReceived(quint64(envelope.tick().tick()),
                          qint64(envelope.tick().server_time_ms()));
        return;
    case protocol::Envelope::kError: {
        const protocol::Error &error = envelope.error();
        const QString text = QString::fromStdString(error.message());
        if (error.code() == protocol::Error::VERSION_MISMATCH) {
            reportError(tr("The server refused this client's version: %1").arg(text));
            close();
            return;
        }
        reportError(tr("The server reported an error: %1").arg(text));
        return;
    }
    case protocol::Envelope::kHello:
        reportError(tr("The server sent a Hello, which only clients send."));
        return;
    case protocol::Envelope::BODY_NOT_SET:
        break;
    }
    reportError(tr("The server sent a message of a kind this client does not know."));
}

void ServerConnection::handleWorldInfo(const protocol::WorldInfo &info)
{
    if (info.protocol_version() != protocol::kProtocolVersion) {
        reportError(tr("The server speaks protocol version %1, but this client speaks "
                       "version %2.")
                        .arg(info.protocol_version())
                        .arg(protocol::kProtocolVersion));
        close();
        return;
    }
    const quint32 n = info.subdivisions();
    if (n < 1 || n > quint32(kMaxSubdivisions)) {
        reportError(tr("The server described a world of size %1, outside 1..%2.")
                        .arg(n)
                        .arg(kMaxSubdivisions));
        return;
    }
    const std::uint64_t expectedCells = geometry::HexSphere::cellCountFor(int(n));
    if (info.cell_count() != expectedCells) {
        reportError(tr("The server described %1 cells, but a world of size %2 has %3.")
                        .arg(info.cell_count())
                        .arg(n)
                        .arg(expectedCells));
        return;
    }
    if (info.chunk_split() > n) {
        reportError(tr("The server described %1 chunk rows per rhombus, more than the "
                       "world size %2.")
                        .arg(info.chunk_split())
                        .arg(n));
        return;
    }

    m_world.name = QString::fromStdString(info.world_name());
    m_world.subdivisions = int(n);
    m_world.cellCount = info.cell_count();
    m_world.chunkSplit = int(info.chunk_split());
    m_world.seed = info.seed();
    m_world.ups = int(info.ups());
    m_world.tick = info.tick();
    qCInfo(lcNet).noquote().nospace()
        << "tick " << m_world.tick << ": joined world '" << m_world.name << "', n=" << n << ", "
        << m_world.cellCount << " cells, " << m_world.ups << " UPS";
    setState(State::Joined);
    emit worldReceived(m_world);
}

void ServerConnection::handleSnapshot(const protocol::Snapshot &snapshot)
{
    if (m_state != State::Joined) {
        reportError(tr("The server sent a snapshot before describing the world."));
        return;
    }
    const std::size_t cells = m_world.cellCount;
    if (snapshot.terrain().size() != cells) {
        reportError(tr("The snapshot has %1 terrain bytes for %2 cells.")
                        .arg(snapshot.terrain().size())
                        .arg(cells));
        return;
    }
    if (snapshot.elevation().size() != cells) {
        reportError(tr("The snapshot has %1 elevation bytes for %2 cells.")
                        .arg(snapshot.elevation().size())
                        .arg(cells));
        return;
    }
    const QByteArray terrain(snapshot.terrain().data(), qsizetype(cells));
    const QByteArray elevation(snapshot.elevation().data(), qsizetype(cells));
    qCInfo(lcNet).nospace() << "tick " << snapshot.tick() << ": snapshot of " << cells << " cells";
    emit snapshotReceived(quint64(snapshot.tick()), terrain, elevation);
}

} // namespace hex::client
