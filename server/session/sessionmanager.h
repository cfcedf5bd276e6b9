#pragma once

#include "auth.h"
#include "machinefeed.h"
#include "session.h"

#include "hexsphere.pb.h"
#include "persistence/worldstore.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThreadPool>

#include <tl/expected.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <span>
#include <vector>

namespace hex::sim {
class World;
struct StepResult;
} // namespace hex::sim

namespace hex::server {

/// Why a session operation was refused, in the terms of both transports: the
/// WebSocket Error code, and the HTTP status with its stable code string.
struct Refusal
{
    protocol::Error::Code code = protocol::Error::UNSPECIFIED;
    int httpStatus = 400;
    const char *httpCode = "bad_request";
    QString message;
    /// RATE_LIMITED and busy refusals: milliseconds until a retry can succeed.
    int retryAfterMs = 0;
};

/// What a session manager is started with.
struct SessionLimits
{
    /// Seconds a token is valid for.
    int tokenTtlSeconds = 24 * 3600;
    /// Guests are refused; only accounts may play.
    bool requireAccounts = false;
    /// Messages a mailbox holds before the oldest are replaced by a Resync marker.
    int mailboxCapacity = 256;
    /// Messages already sent over a WebSocket that are kept for a resume (1.6 s at 20
    /// UPS). Older ones are dropped, but their action results are kept for the Resync
    /// of a resume from before them. Each held message costs a viewer about 0.8 KiB.
    int resumeWindow = 32;
    /// A session with no transport and no request for this long ends.
    int detachedTtlMs = 5 * 60 * 1000;
    /// Actions per second a session may send on average, and at once after a pause.
    int actionsPerSecond = 20;
    int actionBurst = 40;
    /// The password every player must give to join; empty for none.
    QString joinPassword;
    /// Password hashing cost (tests use PasswordHasher::minimal()).
    PasswordHasher::Cost hashCost = PasswordHasher::interactive();
    /// The 32-byte key that signs tokens (the world store keeps it, so tokens outlive a
    /// restart); empty for a fresh random key.
    QByteArray tokenKey;
};

/// What the session manager asks of the world's persistence. Every member may be
/// empty: the server then keeps nothing (tests, the client's throwaway worlds).
/// Called on the tick thread.
struct SessionPersistence
{
    /// Saves a player's record (write-through); `saved` is called on the tick thread with
    /// true once it is committed, false when the store cannot take it now (it is kept
    /// and written later).
    std::function<void(persistence::PlayerRecord record, std::function<void(bool)> saved)>
        savePlayer;
    /// The last tick whose actions are committed: TickUpdate.durable_tick.
    std::function<std::uint64_t()> durableTick;
    /// True while the store's backlog is full: actions are refused.
    std::function<bool()> storageFull;
    /// The "persistence" object of GET /api/v1/status.
    std::function<QJsonObject()> status;
};

/// The one session model behind every transport. A session has a player, a token, a
/// view and an outgoing sequence of messages (its mailbox); the WebSocket, long-poll
/// and mailbox transports only move those messages and forward what clients send.
/// A client can switch transport or reconnect with its token and resume after the last
/// seq it received: nothing in between is lost, and what the bounded mailbox had to
/// drop is replaced by one Resync marker that keeps the dropped action results and
/// brings fresh chunk snapshots. Lives in, and must be used from, the tick thread.
class SessionManager : public QObject
{
    Q_OBJECT
public:
    using SessionPtr = std::shared_ptr<Session>;
    using Result = tl::expected<SessionPtr, Refusal>;
    /// Called on the tick thread when a slow operation (login, registration) is done.
    using Done = std::function<void(Result)>;

    /// `world` must outlive this object; actions are queued into it and players added.
    SessionManager(sim::World &world, SessionLimits limits, QObject *parent = nullptr);
    ~SessionManager() override;

    const SessionLimits &limits() const { return m_limits; }
    const sim::World &world() const { return m_world; }
    const geometry::ChunkCover &cover() const { return m_cover; }

    /// A new guest session for `name` (empty: a generated "Guest N"). Refused when the
    /// server requires accounts, the name is invalid, belongs to an account, or is
    /// playing in a session with a transport right now. A returning guest name gets its
    /// player back; an idle session of that name is ended and replaced.
    Result openGuest(const QString &name, const std::optional<protocol::View> &view);
    /// Checks name and password on a worker thread, then calls `done` with a new session
    /// (ending any other session of that player). `done` is not called if `context` is
    /// destroyed first.
    void login(const QString &name, const QString &password,
               const std::optional<protocol::View> &view, QObject *context, Done done);
    /// Creates an account on a worker thread, then logs it in as login() does.
    void registerAccount(const QString &name, const QString &password,
                         const std::optional<protocol::View> &view, QObject *context,
                         Done done);
    /// The live session `token` names: refused with 401 when missing, malformed,
    /// forged, expired, or when its session has ended.
    Result authenticate(QStringView token);
    /// Ends `session`: its token stops working and its mailbox is dropped. The player
    /// and its structures stay in the world.
    void end(const SessionPtr &session, const QString &why);

    /// Replaces the session's view: chunks now in view get their full state in the
    /// next message, chunks that left are listed there as unsubscribed.
    tl::expected<void, Refusal> setView(Session &session, const protocol::View &view);
    /// Refused with UNAUTHORIZED unless `given` is the server's join password (or the
    /// server has none). Transports check it before a guest join, login or
    /// registration; a resume with a token does not need it again.
    tl::expected<void, Refusal> checkJoinPassword(const QString &given) const;
    /// Says `text` (trimmed, 1 to 280 characters) in chat for everyone, in the next
    /// tick's messages; rate limited to 1 line per second, 5 at once.
    tl::expected<void, Refusal> say(Session &session, const QString &text);
    /// Notes where the player's pointer is (`cell` when `visible`); the last of each
    /// tick goes to the other players. BAD_ACTION for a cell past the last.
    tl::expected<void, Refusal> setCursor(Session &session, std::uint32_t cell, bool visible);
    /// Fills `out` with the whole player list (online players first, at most 1000)
    /// and whether each is online.
    void fillPlayerList(protocol::PlayerList *out) const;
    /// A session with a WebSocket, a held poll, or an HTTP request in the last minute.
    static bool isOnline(const Session &session);

    /// Checks `actions` (rate limit, fields) and queues them all into the world in
    /// order, or refuses them all and queues none. Returns the tick they apply in.
    tl::expected<std::uint64_t, Refusal>
    queueActions(Session &session, const std::vector<const protocol::ClientAction *> &actions);

    /// Adds this tick's message to every session that has something in it (and to
    /// every streaming session), encoding each shared part once.
    void publishTick(const sim::StepResult &step);
    /// The sessions that gained messages in the last publishTick(), so that transports
    /// visit those rather than every connection.
    const std::vector<Session *> &updatedSessions() const { return m_updated; }

    /// Messages of `session` with seq > `after`, oldest first, at most `max`. A Resync
    /// marker whose range contains after+1 counts as after it. When `after` is older
    /// than everything held, a Resync marker for the gap is added first (and the
    /// session gets fresh snapshots), so a resume never silently skips.
    std::vector<const OutgoingMessage *> messagesAfter(Session &session, std::uint64_t after,
                                                       std::size_t max = SIZE_MAX);
    /// The seq of the oldest message `session` holds (for a Resync marker, the first
    /// seq it stands for); lastSeq + 1 when it holds none.
    std::uint64_t firstHeldSeq(const Session &session) const;
    /// The client has every message up to `seq`: they leave the mailbox.
    void acknowledge(Session &session, std::uint64_t seq);
    /// A WebSocket now carries `session` (or no longer does). Sent messages are then
    /// trimmed to the resume window instead of waiting for acknowledgement.
    void setWebSocketAttached(Session &session, bool attached);
    /// Messages up to `seq` were handed to the session's WebSocket.
    void markSent(Session &session, std::uint64_t seq);
    /// Notes a request or frame from the client (it keeps an idle session alive).
    void touch(Session &session);
    /// Notes an HTTP request of the session: for a minute after one, its name counts as
    /// playing, since HTTP clients have no connection whose end would say they left.
    void noteHttpRequest(Session &session);

    /// The WorldInfo of this server for `session` (its player), or for nobody.
    void fillWorldInfo(protocol::WorldInfo *out, const Session *session) const;
    void fillSessionInfo(protocol::SessionInfo *out, const Session &session) const;

    int sessionCount() const { return int(m_sessions.size()); }
    /// Players online now: the sessions isOnline() says are. LAN announcements report it.
    int onlineCount() const
    {
        return int(std::count_if(m_sessions.cbegin(), m_sessions.cend(),
                                 [](const SessionPtr &session) { return isOnline(*session); }));
    }
    /// Ends sessions idle for longer than detachedTtlMs. Called by a timer.
    void expireIdle();

    void setWorldInfo(QString worldName, int ups);

    /// Connects the manager to the world's persistence (see SessionPersistence).
    void setPersistence(SessionPersistence persistence);
    /// The "compute" object of GET /api/v1/status (absent while not set).
    void setComputeStatus(std::function<QJsonObject()> status);
    /// Brings back the accounts among `records` (those with a password hash), at start-up
    /// before any session. Returns how many were restored.
    int restoreAccounts(std::span<const persistence::PlayerRecord> records);
    /// The record the store keeps of `session`'s player: name, password hash (accounts),
    /// player id, last view, inventory as JSON, last seen now.
    persistence::PlayerRecord playerRecord(const Session &session) const;
    /// Saves the record of every live session's player (at shutdown). Returns how many.
    int saveAllPlayers();
    /// GET /api/v1/status: {world, tick, ups, sessions, online, players, persistence,
    /// compute}.
    QJsonObject status() const;

signals:
    /// `session` ended (replaced, logged out, expired): transports close what carries it.
    void sessionEnded(const hex::server::SessionManager::SessionPtr &session,
                      const QString &why);

private:
    /// The cap of `view`, checked; no view is no chunks.
    static tl::expected<ViewCap, Refusal> viewCap(const std::optional<protocol::View> &view);
    SessionPtr createSession(sim::PlayerId player, const QString &name, bool account,
                             const ViewCap &view);
    void finishLogin(const QString &name, const std::optional<protocol::View> &view,
                     const QPointer<QObject> &context, const Done &done,
                     tl::expected<void, AccountStore::Error> verified);
    /// Runs `job` on the auth pool, or refuses through `done` when too many wait.
    void startAuthJob(const Done &done, std::function<void()> job);
    sim::PlayerId playerFor(const QString &name);
    /// Held messages the client has not had yet (not handed to its WebSocket).
    static std::size_t unsentCount(const Session &session);
    void append(Session &session, OutgoingMessage message);
    void overflow(Session &session);
    void applyView(Session &session, const ViewCap &view);
    bool takeActionTokens(Session &session, int count, int *retryMs);

    sim::World &m_world;
    SessionLimits m_limits;
    geometry::ChunkCover m_cover;
    TokenSigner m_signer;
    AccountStore m_accounts;
    QThreadPool m_authPool;
    int m_authJobs = 0;
    QString m_worldName;
    int m_ups = 20;
    QHash<QString, SessionPtr> m_sessions;
    void fillPlayerInfo(sim::PlayerId player, protocol::PlayerInfo *info) const;

    /// Chat lines said since the last tick.
    std::vector<protocol::ChatMessage> m_pendingChat;
    /// Cursors that moved since the last tick: the last position of each player.
    std::map<sim::PlayerId, protocol::CursorUpdate> m_pendingCursors;
    /// Players who joined, left, connected or disconnected since the last tick.
    std::set<sim::PlayerId> m_changedPlayers;
    /// Each acting player's cell count as last listed.
    std::map<sim::PlayerId, std::uint32_t> m_cellsOwned;
    /// See updatedSessions(); valid until the next tick or until a session ends.
    std::vector<Session *> m_updated;
    /// The machines' pieces of each tick.
    MachineFeed m_machineFeed;
    /// The live session of each player, if any.
    QHash<sim::PlayerId, SessionPtr> m_sessionByPlayer;
    /// Every named player that ever joined, by lower-cased name.
    QHash<QString, sim::PlayerId> m_playersByName;
    SessionPersistence m_persistence;
    std::function<QJsonObject()> m_computeStatus;
};

} // namespace hex::server

Q_DECLARE_METATYPE(hex::server::SessionManager::SessionPtr)
