#pragma once

#include "decodingframe.h"
#include "machinetracks.h"

#include "geometry/hexsphere.h"
#include "geometry/vec3.h"
#include "sim/actions.h"

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace hex::protocol {
class Envelope;
class Resync;
class Snapshot;
class TickUpdate;
class WorldInfo;
struct VisibleCells;
} // namespace hex::protocol

namespace hex::client {

/// One player as the server's player list says.
struct PlayerEntry
{
    QString name;
    bool online = false;
    quint32 cellsOwned = 0;
};

/// The world a server described in its WorldInfo, checked for consistency.
struct WorldDescription
{
    QString name;
    /// n of GP(n,0), 1..ServerConnection::kMaxSubdivisions.
    int subdivisions = 0;
    /// 10n²+2.
    std::uint32_t cellCount = 0;
    int chunkSplit = 0;
    std::uint64_t seed = 0;
    /// Simulation updates per second the server runs at.
    int ups = 0;
    /// The server's tick when it sent the description.
    std::uint64_t tick = 0;
};

/// Who joins, and with which passwords: what the Hello carries besides the protocol
/// version.
struct JoinOptions
{
    /// The player's name; never empty.
    QString playerName;
    /// The account's password to log in with; empty to join as a guest.
    QString accountPassword;
    /// The server's join password (ServerConfig::joinPassword); empty when it has none.
    QString serverPassword;
};

/// One client connection to a Hexsphere server over WebSocket: sends Hello, then
/// decodes and checks every frame the server sends and reports it as a signal. Bad
/// frames never reach the rest of the client: they are reported through
/// errorOccurred() with a sentence that says what was wrong. Lives in the GUI thread.
///
/// It owns the client's picture of the world: the HexSphere built from WorldInfo (with
/// the server's chunk split, since cell ids depend on it) and the mirror of every
/// cell's visible state (cells()), filled by a Snapshot and kept current by each
/// TickUpdate's chunk deltas. A tick is applied whole or not at all, so the mirror
/// always shows the state after one server tick.
///
/// When a joined connection drops, it reconnects and resumes its session with the
/// token from SessionInfo and the seq of the last message it had; the server replays
/// what was missed, so no tick and no action result is lost.
class ServerConnection : public QObject
{
    Q_OBJECT
public:
    /// Largest world the client will build a view of.
    static constexpr int kMaxSubdivisions = 1024;
    /// Attempts to reconnect after a joined connection drops (0.25 s, 0.5 s, 1 s, ...
    /// apart, at most 8 s), before giving up.
    static constexpr int kMaxReconnectAttempts = 8;

    enum class State {
        /// No socket open.
        Disconnected,
        /// The WebSocket handshake is in progress.
        Connecting,
        /// Hello was sent; waiting for WorldInfo.
        Joining,
        /// WorldInfo arrived; snapshots and ticks follow.
        Joined,
    };
    Q_ENUM(State)

    explicit ServerConnection(QObject *parent = nullptr);
    ~ServerConnection() override;

    /// Connects to `url` (ws:// or wss://) and joins as `playerName`. Closes any
    /// previous connection first.
    void open(const QUrl &url, const QString &playerName);
    /// Connects to `url` (ws:// or wss://) and joins as `join` says: a guest, or an
    /// account when it has a password, giving the server's password if set. Closes any
    /// previous connection first.
    void open(const QUrl &url, const JoinOptions &join);
    /// Closes the connection; does nothing when already closed.
    void close();

    /// Where the handling of received frames is scheduled. Without a scheduler (the
    /// default) each frame is handled as it arrives. With one, frames are held, in
    /// order, and the scheduler is given a call of handleHeldFrames() to run later:
    /// the game window runs it right after its next frame is drawn
    /// (PlanetView::runAfterFrame()), so that a tick's work does not delay a frame.
    /// Held frames are handled before anything that must follow them (a disconnect's
    /// report, a resumed session's Hello, which says the last message received) and
    /// dropped by open() and close().
    using FrameScheduler = std::function<void(std::function<void()>)>;
    /// Without one, frames still held are handled soon after, from the event loop.
    void setFrameScheduler(FrameScheduler scheduler);
    /// Handles every held frame, oldest first (see setFrameScheduler()).
    void handleHeldFrames();
    /// Frames received and not handled yet.
    std::size_t heldFrames() const { return m_heldFrames.size(); }

    State state() const { return m_state; }
    QUrl url() const { return m_url; }
    /// The world of the last accepted WorldInfo; meaningful in state Joined.
    const WorldDescription &world() const { return m_world; }
    /// The last problem reported through errorOccurred(); empty if none yet.
    QString errorString() const { return m_errorString; }

    /// The sphere of the last accepted WorldInfo, or null before one arrived. Kept
    /// across reconnects and replaced only when a world of another shape arrives;
    /// holders of the pointer keep theirs alive.
    std::shared_ptr<const geometry::HexSphere> sphere() const { return m_sphere; }
    /// The mirror of every cell's visible state, one value per cell of sphere(); empty
    /// until the first snapshot of the current world. The reference stays valid for
    /// this object's lifetime; the contents change when frames arrive, and are cleared
    /// when another WorldInfo arrives or open() is called.
    const protocol::VisibleCells &cells() const { return *m_cells; }
    /// True once a snapshot of the current world was accepted into cells().
    bool hasSnapshot() const { return m_hasSnapshot; }
    /// The cells whose values the last accepted tick changed, in the order its deltas
    /// listed them (ascending within each chunk). Valid until the next tick.
    const std::vector<geometry::CellId> &lastChangedCells() const { return m_changedCells; }
    /// The last tick accepted (from WorldInfo, Snapshot or TickUpdate); 0 before any.
    std::uint64_t lastTick() const { return m_lastTick; }
    /// The simulation's state hash the server sent with the last accepted tick; 0
    /// before any. For checking that client and server agree.
    std::uint64_t lastStateHash() const { return m_lastStateHash; }

    /// The player this connection acts as, from the last accepted WorldInfo;
    /// sim::kNoPlayer before one arrived.
    sim::PlayerId playerId() const { return m_playerId; }
    /// The token of the session this connection joined (from the server's SessionInfo);
    /// empty before it arrived.
    QString sessionToken() const { return m_sessionToken; }
    /// The seq of the last message of the session's sequence received; 0 before any.
    std::uint64_t lastSeq() const { return m_lastSeq; }
    /// The player's inventory (item id → count, counts > 0) as the server last sent
    /// it; empty before the first TickUpdate after joining.
    const std::map<sim::ItemId, std::uint32_t> &inventory() const { return m_inventory; }

    /// Asks the server for the chunks within `radiusDegrees` of `direction` (world
    /// coordinates, any length but zero) instead of the whole planet: chunks that come
    /// into view arrive whole, chunks that leave it are no longer kept current. Sends
    /// nothing unless joined, or when the view moved less than about a degree.
    void setView(const geometry::Vec3 &direction, float radiusDegrees);
    /// The view to join with, sent in Hello: the server then sends the chunks in it
    /// rather than a snapshot of the whole planet (31 MB at n=512), and
    /// snapshotReceived() follows the first of them. Without one the whole planet comes.
    /// May be called at any time; setView() keeps it current for later joins.
    void setJoinView(const geometry::Vec3 &direction, float radiusDegrees);
    /// The view last sent since joining (unit direction, radius in degrees), if any.
    std::optional<std::pair<geometry::Vec3, float>> sentView() const { return m_sentView; }

    /// Tells the server where the player's pointer is (a cell, or none), for the other
    /// players to see. Sends nothing unless joined, or when it has not changed.
    void sendCursor(std::optional<geometry::CellId> cell);

    /// Says `text` in the world's chat. Returns false (and sends nothing) unless the
    /// state is Joined or `text` is empty after trimming; the server may still refuse
    /// it (too long, too fast) with an errorOccurred().
    bool sendChat(const QString &text);
    /// The players of the world as the server last listed them, by player id.
    const std::map<sim::PlayerId, PlayerEntry> &players() const { return m_players; }
    /// How many players the world has (the list holds at most 1000 of them).
    int playerTotal() const { return m_playerTotal; }
    /// The machines of the viewed chunks, with their recent states: what is drawn of
    /// belts' items and machines' progress between ticks.
    const MachineTracks &machines() const { return m_machines; }
    /// The last measured WebSocket ping round trip, in ms; -1 before the first.
    int pingMs() const { return m_pingMs; }
    /// Bytes of frames received since open().
    quint64 bytesReceived() const { return m_bytesReceived; }

    /// Sends `action` (its player and clientSeq fields are ignored) for the server to
    /// apply in a coming tick, and returns the client sequence number it was sent under:
    /// 1, 2, 3, ... per open(). The answer comes through actionResult(), or as an
    /// errorOccurred() when the server refuses to queue it (out-of-range field, rate
    /// limit). Returns 0 and sends nothing unless the state is Joined.
    quint32 sendAction(const sim::Action &action);

    /// Decodes and handles one binary frame as if the server had sent it. The socket
    /// calls this; tests may too.
    void handleFrame(const QByteArray &frame);

signals:
    void stateChanged(hex::client::ServerConnection::State state);
    /// A valid WorldInfo arrived; the state is now Joined.
    void worldReceived(const hex::client::WorldDescription &world);
    /// The connection dropped; the state is Connecting while it tries to resume.
    void reconnecting();
    /// The dropped connection's session was resumed: the mirror and the world stay, and
    /// the messages missed follow. (When the session could not be resumed, the client
    /// joins afresh instead: worldReceived() and a new snapshot.)
    void resumed();
    /// A valid snapshot of tick `tick` replaced the whole mirror: read it in cells(). After
    /// a join with a view (setJoinView()), the first chunks of that view, filling an
    /// empty mirror, count as the snapshot.
    void snapshotReceived(quint64 tick);
    /// One simulation tick passed on the server, and its deltas (if any) were applied
    /// to cells().
    void tickReceived(quint64 tick, qint64 serverTimeMs);
    /// Tick `tick` changed the cells listed in lastChangedCells(). Follows
    /// tickReceived(); not emitted for ticks that changed nothing.
    void cellsChanged(quint64 tick);
    /// The server applied or refused the action sent as `clientSeq` on `cell`. `reason`
    /// is a sim::RejectReason value, 0 when accepted; `message` is the server's
    /// sentence for a refusal, empty when accepted. Follows the tick's tickReceived().
    void actionResult(quint32 clientSeq, quint32 cell, int reason, const QString &message);
    /// inventory() changed. Follows the tick's tickReceived().
    void inventoryChanged();
    /// `name` (player `playerId`) said `text` in chat at `serverTimeMs`.
    void chatReceived(quint32 playerId, const QString &name, const QString &text,
                      qint64 serverTimeMs);
    /// players() changed.
    void playersChanged();
    /// Another player's pointer moved to `cell` (or went, when !visible), as of the
    /// tick stamped `serverTimeMs`.
    void cursorMoved(quint32 playerId, quint32 cell, bool visible, qint64 serverTimeMs);
    /// A ping round trip was measured: pingMs() is `ms`.
    void pingMeasured(int ms);
    /// Something went wrong: a socket error, an Error frame from the server, or a frame
    /// that failed to decode or check. `message` is one translated sentence.
    void errorOccurred(const QString &message);

private:
    void setState(State state);
    void reportError(const QString &message);
    void receiveFrame(const QByteArray &frame);
    /// Handles `frame` once decoded (waiting for its decoding, if it runs elsewhere).
    void handleDecoded(DecodingFrame &frame);
    void handleEnvelope(const protocol::Envelope &envelope);
    void handleWorldInfo(const protocol::WorldInfo &info);
    void handleSnapshot(const protocol::Snapshot &snapshot);
    void handleTick(const protocol::TickUpdate &update);
    void handleResync(const protocol::Resync &resync);
    /// Empties the mirror: no snapshot of the current world yet.
    void resetMirror();
    void onConnected();
    void onDisconnected();
    void onSocketError(QAbstractSocket::SocketError error);
    void scheduleReconnect();

    QWebSocket m_socket;
    QUrl m_url;
    /// Who joins: name and passwords, sent in each Hello.
    JoinOptions m_join;
    State m_state = State::Disconnected;
    bool m_closing = false;
    /// Counts open() calls, so that late callbacks know if they are stale.
    quint64 m_attempt = 0;
    WorldDescription m_world;
    QString m_errorString;
    std::shared_ptr<const geometry::HexSphere> m_sphere;
    /// Never null.
    std::unique_ptr<protocol::VisibleCells> m_cells;
    bool m_hasSnapshot = false;
    std::vector<geometry::CellId> m_changedCells;
    std::uint64_t m_lastTick = 0;
    std::uint64_t m_lastStateHash = 0;
    sim::PlayerId m_playerId = sim::kNoPlayer;
    std::map<sim::ItemId, std::uint32_t> m_inventory;
    /// The last client sequence number sent; 0 before any action in this connection.
    quint32 m_lastClientSeq = 0;
    /// The seq of the last message of the session's sequence received.
    std::uint64_t m_lastSeq = 0;
    /// The session's token, from SessionInfo.
    QString m_sessionToken;
    std::map<sim::PlayerId, PlayerEntry> m_players;
    MachineTracks m_machines;
    /// The view last sent (unit direction and radius), if any since joining.
    std::optional<std::pair<geometry::Vec3, float>> m_sentView;
    /// See setJoinView().
    std::optional<std::pair<geometry::Vec3, float>> m_joinView;
    /// The cursor last sent; nullopt for none. Unsent: a value no cell has.
    std::optional<geometry::CellId> m_sentCursor = geometry::CellId(~0u);
    int m_playerTotal = 0;
    int m_pingMs = -1;
    quint64 m_bytesReceived = 0;
    /// See setFrameScheduler().
    FrameScheduler m_frameScheduler;
    std::deque<DecodingFrame> m_heldFrames; ///< decoding in the background while held
    /// Pings the server every few seconds while joined.
    QTimer *m_pingTimer = nullptr;
    /// The connection dropped and the current attempt resumes (or rejoins).
    bool m_resuming = false;
    int m_reconnectAttempts = 0;
};

} // namespace hex::client

Q_DECLARE_METATYPE(hex::client::WorldDescription)
