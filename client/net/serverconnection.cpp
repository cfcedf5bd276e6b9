#include "serverconnection.h"

#include "tickdeltas.h"

#include "geometry/hexsphere.h"
#include "protocol/actioncodec.h"
#include "protocol/codec.h"
#include "protocol/protocolversion.h"
#include "protocol/worldcodec.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QPointer>
#include <QTimer>

#include <limits>
#include <utility>

namespace hex::client {

namespace {

Q_LOGGING_CATEGORY(lcNet, "hex.client.net")

using geometry::CellId;
using protocol::VisibleCells;

} // namespace

ServerConnection::ServerConnection(QObject *parent)
    : QObject(parent)
    , m_cells(std::make_unique<VisibleCells>())
{
    m_socket.setMaxAllowedIncomingMessageSize(quint64(protocol::kMaxFrameBytes));
    m_socket.setMaxAllowedIncomingFrameSize(quint64(protocol::kMaxFrameBytes));
    connect(&m_socket, &QWebSocket::connected, this, &ServerConnection::onConnected);
    connect(&m_socket, &QWebSocket::disconnected, this, &ServerConnection::onDisconnected);
    connect(&m_socket, QOverload<QAbstractSocket::SocketError>::of(&QWebSocket::error), this,
            &ServerConnection::onSocketError);
    connect(&m_socket, &QWebSocket::binaryMessageReceived, this,
            &ServerConnection::receiveFrame);
    // The round trip the net graph shows: a WebSocket ping every 2 s while joined.
    m_pingTimer = new QTimer(this);
    connect(m_pingTimer, &QTimer::timeout, this, [this] {
        if (m_state == State::Joined)
            m_socket.ping();
    });
    m_pingTimer->start(2'000);
    connect(&m_socket, &QWebSocket::pong, this, [this](quint64 elapsedMs) {
        m_pingMs = int(std::min<quint64>(elapsedMs, 60'000));
        emit pingMeasured(m_pingMs);
    });
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
    open(url, JoinOptions{playerName, {}, {}});
}

void ServerConnection::open(const QUrl &url, const JoinOptions &join)
{
    close();
    m_resuming = false;
    m_reconnectAttempts = 0;
    m_sessionToken.clear();
    m_url = url;
    m_join = join;
    m_world = {};
    m_errorString.clear();
    resetMirror();
    m_lastClientSeq = 0;
    m_bytesReceived = 0;
    m_pingMs = -1;
    m_sentCursor = geometry::CellId(~0u);
    m_sentView.reset();
    ++m_attempt;
    qCInfo(lcNet).noquote() << "connecting to" << url.toString();
    setState(State::Connecting);
    m_socket.open(url);
}

void ServerConnection::close()
{
    m_heldFrames.clear();
    m_resuming = false;
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

void ServerConnection::resetMirror()
{
    *m_cells = {};
    m_hasSnapshot = false;
    m_changedCells.clear();
    m_lastTick = 0;
    m_lastStateHash = 0;
    m_playerId = sim::kNoPlayer;
    m_inventory.clear();
    m_lastSeq = 0;
    m_players.clear();
    m_playerTotal = 0;
    m_machines.clear();
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
    // A resumed session's Hello says the last message received: count the held ones.
    handleHeldFrames();
    protocol::Envelope envelope;
    protocol::Hello *hello = envelope.mutable_hello();
    hello->set_protocol_version(protocol::kProtocolVersion);
    hello->set_player_name(m_join.playerName.toStdString());
    if (!m_join.serverPassword.isEmpty())
        hello->set_server_password(m_join.serverPassword.toStdString());
    if (m_resuming && !m_sessionToken.isEmpty()) {
        qCInfo(lcNet) << "connected; resuming the session after message" << m_lastSeq;
        hello->set_token(m_sessionToken.toStdString());
        hello->set_resume_after(m_lastSeq);
    } else {
        if (!m_join.accountPassword.isEmpty())
            hello->set_password(m_join.accountPassword.toStdString());
        if (m_joinView) {
            const auto &[direction, radius] = *m_joinView;
            protocol::View *view = hello->mutable_view();
            view->set_x(direction.x);
            view->set_y(direction.y);
            view->set_z(direction.z);
            view->set_radius_degrees(radius);
            m_sentView = m_joinView;
        }
        qCInfo(lcNet) << "connected; sending Hello as" << m_join.playerName
                      << (m_join.accountPassword.isEmpty() ? "(guest)" : "(account)");
    }
    m_socket.sendBinaryMessage(protocol::encodeEnvelope(envelope));
    setState(State::Joining);
}

void ServerConnection::onDisconnected()
{
    // What the server sent before it went (an Error saying why, the last ticks) first.
    handleHeldFrames();
    const bool expected = m_closing;
    m_closing = false;
    // A joined connection that drops (no close frame: a network failure, not the
    // server's decision), or a resume attempt that fails, tries again: the session's
    // messages wait on the server, and the resume picks them up.
    // (Qt reports a connection lost without a close frame as code 1000 or 1006 with no
    // reason; every close the server decides on carries a reason.)
    const QWebSocketProtocol::CloseCode code = m_socket.closeCode();
    const bool dropped = m_socket.closeReason().isEmpty()
                         && (code == QWebSocketProtocol::CloseCodeNormal
                             || code == QWebSocketProtocol::CloseCodeAbnormalDisconnection);
    if (!expected && ((m_state == State::Joined && dropped) || m_resuming)) {
        scheduleReconnect();
        return;
    }
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

void ServerConnection::scheduleReconnect()
{
    if (m_reconnectAttempts >= kMaxReconnectAttempts) {
        m_resuming = false;
        setState(State::Disconnected);
        reportError(tr("The connection to %1 was lost and %n attempt(s) to reconnect failed.",
                       nullptr, kMaxReconnectAttempts)
                        .arg(m_url.toString()));
        return;
    }
    const int delayMs = std::min(250 << m_reconnectAttempts, 8'000);
    ++m_reconnectAttempts;
    if (!m_resuming) {
        qCWarning(lcNet).noquote() << "connection to" << m_url.toString()
                                   << "lost; reconnecting";
        emit reconnecting();
    }
    m_resuming = true;
    setState(State::Connecting);
    QTimer::singleShot(delayMs, this, [this, attempt = m_attempt] {
        if (attempt != m_attempt || !m_resuming)
            return;
        m_socket.abort();
        m_socket.open(m_url);
    });
}

void ServerConnection::onSocketError(QAbstractSocket::SocketError error)
{
    if (m_closing || m_resuming)
        return;
    // RemoteHostClosedError is followed by disconnected(), which says it better.
    if (error == QAbstractSocket::RemoteHostClosedError)
        return;
    reportError(tr("Connection to %1 failed: %2").arg(m_url.toString(), m_socket.errorString()));
    if (m_socket.state() == QAbstractSocket::UnconnectedState)
        setState(State::Disconnected);
}

void ServerConnection::setFrameScheduler(FrameScheduler scheduler)
{
    m_frameScheduler = std::move(scheduler);
    // The old scheduler may never run what it was given (its window is going).
    if (!m_frameScheduler && !m_heldFrames.empty()) {
        QMetaObject::invokeMethod(
            this, [this] { handleHeldFrames(); }, Qt::QueuedConnection);
    }
}

void ServerConnection::receiveFrame(const QByteArray &frame)
{
    m_bytesReceived += quint64(frame.size());
    // Behind any still held, in order; while held, decoded on a pool thread.
    m_heldFrames.emplace_back(frame, bool(m_frameScheduler));
    if (!m_frameScheduler) {
        handleHeldFrames();
        return;
    }
    // One scheduled call handles all the frames held by then; the first frame held
    // asks for it. A call that finds none held (handled earlier) does nothing.
    if (m_heldFrames.size() == 1) {
        m_frameScheduler([self = QPointer<ServerConnection>(this)] {
            if (self)
                self->handleHeldFrames();
        });
    }
}

void ServerConnection::handleHeldFrames()
{
    // One at a time off the front: handling one may close or reopen the connection,
    // which drops the rest.
    while (!m_heldFrames.empty()) {
        DecodingFrame frame = std::move(m_heldFrames.front());
        m_heldFrames.pop_front();
        handleDecoded(frame);
    }
}

void ServerConnection::handleFrame(const QByteArray &frame)
{
    DecodingFrame decoding(frame, false);
    handleDecoded(decoding);
}

void ServerConnection::handleDecoded(DecodingFrame &frame)
{
    // The frame's messages live in its own arena, made and freed in a few large blocks:
    // a tick of an n=512 world holds tens of thousands of them.
    const auto &envelope = frame.envelope();
    if (!envelope) {
        reportError(tr("The server sent a frame that could not be read: %1")
                        .arg(protocol::describe(envelope.error())));
        return;
    }
    handleEnvelope(**envelope);
}

void ServerConnection::handleEnvelope(const protocol::Envelope &envelope)
{
    if (envelope.seq() > 0)
        m_lastSeq = envelope.seq();
    switch (envelope.body_case()) {
    case protocol::Envelope::kSession:
        m_sessionToken = QString::fromStdString(envelope.session().token());
        qCInfo(lcNet).noquote() << "session" << QString::fromStdString(envelope.session().session_id()).left(8)
                                << "as" << QString::fromStdString(envelope.session().player_name());
        return;
    case protocol::Envelope::kResync:
        handleResync(envelope.resync());
        return;
    case protocol::Envelope::kView:
    case protocol::Envelope::kCursor:
    case protocol::Envelope::kChatSend:
    case protocol::Envelope::kLanQuery:
    case protocol::Envelope::kLanAnnouncement:
        reportError(tr("The server sent a message that only clients send."));
        return;
    case protocol::Envelope::kWorldInfo:
        handleWorldInfo(envelope.world_info());
        return;
    case protocol::Envelope::kSnapshot:
        handleSnapshot(envelope.snapshot());
        return;
    case protocol::Envelope::kTick:
        handleTick(envelope.tick());
        return;
    case protocol::Envelope::kError: {
        const protocol::Error &error = envelope.error();
        const QString text = QString::fromStdString(error.message());
        if (error.code() == protocol::Error::UNAUTHORIZED && m_resuming) {
            // The session is gone (expired, or replaced): the next attempt joins afresh
            // by name, and a new snapshot replaces the mirror.
            qCInfo(lcNet).noquote() << "the session cannot be resumed:" << text;
            m_sessionToken.clear();
            return;
        }
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
    case protocol::Envelope::kClientAction:
        reportError(tr("The server sent an action, which only clients send."));
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

    // Cell ids depend on the chunk split, so the server's k must be used.
    const int chunkSplit = info.chunk_split() != 0 ? int(info.chunk_split())
                                                   : geometry::HexSphere::defaultChunkSplit(int(n));
    if (!m_sphere || m_sphere->subdivisions() != int(n) || m_sphere->chunkSplit() != chunkSplit) {
        QElapsedTimer timer;
        timer.start();
        m_sphere = geometry::HexSphere::shared(int(n), chunkSplit);
        qCInfo(lcNet).nospace() << "tick " << info.tick() << ": sphere n=" << n
                                << ", k=" << chunkSplit << " ready in " << timer.elapsed() << " ms";
    }
    const bool sameWorld = m_world.subdivisions == int(n) && m_world.seed == info.seed()
                           && m_playerId == info.player_id();
    if (m_resuming && !m_sessionToken.isEmpty() && sameWorld && m_hasSnapshot) {
        // The session goes on: the mirror stays, and the messages missed are replayed.
        m_resuming = false;
        m_reconnectAttempts = 0;
        qCInfo(lcNet).nospace() << "tick " << info.tick() << ": resumed after message "
                                << m_lastSeq;
        setState(State::Joined);
        emit resumed();
        return;
    }
    m_resuming = false;
    m_reconnectAttempts = 0;
    resetMirror();
    m_lastTick = info.tick();

    m_world.name = QString::fromStdString(info.world_name());
    m_world.subdivisions = int(n);
    m_world.cellCount = info.cell_count();
    m_world.chunkSplit = chunkSplit;
    m_world.seed = info.seed();
    m_world.ups = int(info.ups());
    m_world.tick = info.tick();
    if (info.player_id() >= sim::kNoPlayer) {
        reportError(tr("The server gave this client player number %1, which is not a valid "
                       "player.")
                        .arg(info.player_id()));
        return;
    }
    m_playerId = sim::PlayerId(info.player_id());
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
    const quint64 tick = snapshot.tick();
    auto cells = protocol::decodeSnapshot(snapshot, m_sphere->cellCount());
    if (!cells) {
        reportError(tr("The server sent a snapshot of tick %1 that does not fit the world: %2")
                        .arg(QString::number(tick), cells.error()));
        return;
    }
    *m_cells = std::move(*cells);
    m_hasSnapshot = true;
    m_changedCells.clear();
    // The machines of the whole world come again in the tick that follows.
    m_machines.clear();
    m_lastTick = tick;
    qCInfo(lcNet).nospace() << "tick " << tick << ": snapshot of " << m_cells->cellCount()
                            << " cells";
    emit snapshotReceived(tick);
}

void ServerConnection::handleTick(const protocol::TickUpdate &update)
{
    if (m_state != State::Joined) {
        reportError(tr("The server sent a tick before describing the world."));
        return;
    }
    const quint64 tick = update.tick();
    m_changedCells.clear();
    const bool hadSnapshot = m_hasSnapshot;
    // Chunks newly in view come whole; each is checked before it replaces its cells.
    for (const protocol::ChunkSnapshot &chunk : update.chunks()) {
        if (m_cells->cellCount() != m_sphere->cellCount())
            m_cells->resize(m_sphere->cellCount());
        const auto applied = protocol::applyChunkSnapshot(chunk, *m_sphere, *m_cells, &m_changedCells);
        if (!applied) {
            reportError(tr("The server sent tick %1 with a chunk that does not fit the world: %2")
                            .arg(QString::number(tick), applied.error()));
            return;
        }
        m_hasSnapshot = true;
    }
    // All the deltas or none (each is checked before any is written), on the GUI
    // thread's helpers when the tick is large.
    if (const auto applied = applyChunkDeltas(update.deltas(), *m_sphere, *m_cells, m_changedCells,
                                              &guiStepPool());
        !applied) {
        m_changedCells.clear();
        reportError(tr("The server sent tick %1 with changes that do not fit the world: %2")
                        .arg(QString::number(tick), applied.error()));
        return;
    }
    // Results and inventory are checked before anything is applied, so that a bad one
    // leaves the tick's own part out but keeps the cells (which were fine).
    QString ownProblem;
    for (const protocol::ActionResult &result : update.results()) {
        if (result.client_seq() == 0 || result.client_seq() > m_lastClientSeq) {
            ownProblem = tr("The server sent a result for action %1, which this client did "
                            "not send.")
                             .arg(result.client_seq());
            break;
        }
    }
    // Machines: what is drawn between ticks. A bad entry is skipped and reported; the
    // tick's cells stand.
    for (const std::uint32_t chunk : update.unsubscribed()) {
        if (chunk < m_sphere->chunkCount())
            m_machines.dropChunk(chunk, *m_sphere);
    }
    m_machines.onTick(qint64(update.server_time_ms()));
    QString machineProblem;
    if (update.machines_size() > 0) {
        std::vector<const protocol::ChunkMachines *> machines;
        machines.reserve(std::size_t(update.machines_size()));
        for (const protocol::ChunkMachines &chunk : update.machines())
            machines.push_back(&chunk);
        const auto applied = m_machines.apply(machines, *m_sphere, qint64(update.server_time_ms()));
        if (!applied)
            machineProblem = applied.error();
    }
    m_lastTick = tick;
    m_lastStateHash = update.state_hash();
    if (!hadSnapshot && m_hasSnapshot) {
        // Joined with a view: the chunks in it are the snapshot (the rest of the planet
        // comes as it turns into view).
        qCInfo(lcNet).nospace() << "tick " << tick << ": " << update.chunks_size()
                                << " chunks in view";
        emit snapshotReceived(tick);
    }
    emit tickReceived(tick, qint64(update.server_time_ms()));
    if (!machineProblem.isEmpty()) {
        reportError(tr("The server sent tick %1 with machines that do not fit the world: %2")
                        .arg(QString::number(tick), machineProblem));
    }
    if (!m_changedCells.empty())
        emit cellsChanged(tick);
    if (!ownProblem.isEmpty()) {
        reportError(tr("The server sent tick %1 with results that do not fit: %2")
                        .arg(QString::number(tick), ownProblem));
        return;
    }
    for (const protocol::ActionResult &result : update.results())
        emit actionResult(result.client_seq(), result.cell(), int(result.reason()),
                          QString::fromStdString(result.message()));
    for (const protocol::CursorUpdate &cursor : update.cursors()) {
        if (cursor.player_id() == m_playerId)
            continue;
        emit cursorMoved(cursor.player_id(), cursor.cell(), cursor.visible(),
                         qint64(update.server_time_ms()));
    }
    for (const protocol::ChatMessage &line : update.chat()) {
        emit chatReceived(line.player_id(), QString::fromStdString(line.player_name()),
                          QString::fromStdString(line.text()), qint64(line.server_time_ms()));
    }
    if (update.has_players()) {
        const protocol::PlayerList &list = update.players();
        if (list.full())
            m_players.clear();
        for (const protocol::PlayerInfo &info : list.players()) {
            if (info.player_id() >= sim::kNoPlayer)
                continue;
            m_players[sim::PlayerId(info.player_id())]
                = PlayerEntry{QString::fromStdString(info.name()), info.online(),
                              info.cells_owned()};
        }
        m_playerTotal = int(std::max<std::size_t>(list.total(), m_players.size()));
        emit playersChanged();
    }
    if (update.inventory_size() > 0) {
        std::map<sim::ItemId, std::uint32_t> inventory;
        for (const protocol::ItemCount &entry : update.inventory()) {
            if (entry.count() > 0 && entry.item() <= std::numeric_limits<sim::ItemId>::max())
                inventory[sim::ItemId(entry.item())] = entry.count();
        }
        if (inventory != m_inventory) {
            m_inventory = std::move(inventory);
            emit inventoryChanged();
        }
    }
}

void ServerConnection::setJoinView(const geometry::Vec3 &direction, float radiusDegrees)
{
    if (geometry::length(direction) <= 0.0f)
        return;
    m_joinView = std::pair{geometry::normalized(direction), radiusDegrees};
}

void ServerConnection::setView(const geometry::Vec3 &direction, float radiusDegrees)
{
    if (m_state != State::Joined || geometry::length(direction) <= 0.0f)
        return;
    const geometry::Vec3 unit = geometry::normalized(direction);
    m_joinView = std::pair{unit, radiusDegrees};
    if (m_sentView) {
        const auto &[sentDirection, sentRadius] = *m_sentView;
        // About a degree either way is not worth a message.
        const bool turned = geometry::dot(unit, sentDirection) < 0.99985f;
        if (!turned && std::abs(radiusDegrees - sentRadius) < 1.0f)
            return;
    }
    m_sentView = std::pair{unit, radiusDegrees};
    protocol::Envelope envelope;
    protocol::View *view = envelope.mutable_view();
    view->set_x(unit.x);
    view->set_y(unit.y);
    view->set_z(unit.z);
    view->set_radius_degrees(radiusDegrees);
    m_socket.sendBinaryMessage(protocol::encodeEnvelope(envelope));
}

void ServerConnection::sendCursor(std::optional<geometry::CellId> cell)
{
    if (m_state != State::Joined || cell == m_sentCursor)
        return;
    m_sentCursor = cell;
    protocol::Envelope envelope;
    envelope.mutable_cursor()->set_cell(cell.value_or(0));
    envelope.mutable_cursor()->set_visible(cell.has_value());
    m_socket.sendBinaryMessage(protocol::encodeEnvelope(envelope));
}

bool ServerConnection::sendChat(const QString &text)
{
    const QString line = text.trimmed();
    if (m_state != State::Joined || line.isEmpty())
        return false;
    protocol::Envelope envelope;
    envelope.mutable_chat_send()->set_text(line.toStdString());
    m_socket.sendBinaryMessage(protocol::encodeEnvelope(envelope));
    return true;
}

void ServerConnection::handleResync(const protocol::Resync &resync)
{
    // The server dropped messages it could not deliver in time; the results they held
    // are here, and the next message brings the state afresh.
    qCWarning(lcNet).noquote() << QString::fromStdString(resync.message());
    for (const protocol::ActionResult &result : resync.results()) {
        if (result.client_seq() == 0 || result.client_seq() > m_lastClientSeq)
            continue;
        emit actionResult(result.client_seq(), result.cell(), int(result.reason()),
                          QString::fromStdString(result.message()));
    }
}

quint32 ServerConnection::sendAction(const sim::Action &action)
{
    if (m_state != State::Joined)
        return 0;
    const quint32 seq = ++m_lastClientSeq;
    protocol::Envelope envelope;
    protocol::encodeClientAction(action, seq, envelope.mutable_client_action());
    m_socket.sendBinaryMessage(protocol::encodeEnvelope(envelope));
    return seq;
}

} // namespace hex::client
