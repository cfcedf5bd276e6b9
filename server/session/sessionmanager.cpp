#include "sessionmanager.h"

#include "transport/netlog.h"

#include "protocol/actioncodec.h"
#include "protocol/codec.h"
#include "protocol/protocolversion.h"
#include "protocol/worldcodec.h"
#include "sim/world.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRunnable>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace hex::server {

using protocol::Envelope;

namespace {

/// Auth jobs (argon2id, tens of MiB each) waiting or running at once; more are
/// refused with 503 rather than queued without bound.
constexpr int kMaxAuthJobs = 8;
/// An HTTP client that made a request this recently still holds its name.
constexpr qint64 kHttpPresenceMs = 60'000;
/// Longest chat line, in characters, and how many lines a session may send.
constexpr int kMaxChatLength = 280;
constexpr int kChatPerSecond = 1;
constexpr int kChatBurst = 5;
/// Most players a whole player list carries.
constexpr std::size_t kMaxListedPlayers = 1000;
/// Action results of sent messages kept after the messages leave the resume window.
constexpr std::size_t kMaxTrimmedResults = 256;
/// Action results a Resync marker keeps; older ones are counted in its message.
constexpr int kMaxResyncResults = 4096;

Refusal refusal(protocol::Error::Code code, int status, const char *httpCode, QString message)
{
    Refusal r;
    r.code = code;
    r.httpStatus = status;
    r.httpCode = httpCode;
    r.message = std::move(message);
    return r;
}

/// The first message of `outbox` (ascending seq) with a seq above `seq`.
std::deque<OutgoingMessage>::const_iterator firstAfter(const std::deque<OutgoingMessage> &outbox,
                                                       std::uint64_t seq)
{
    return std::upper_bound(outbox.begin(), outbox.end(), seq,
                            [](std::uint64_t value, const OutgoingMessage &message) {
                                return value < message.seq;
                            });
}

Refusal unauthorized(QString message)
{
    return refusal(protocol::Error::UNAUTHORIZED, 401, "unauthorized", std::move(message));
}

QString lowerName(const QString &name)
{
    return name.toCaseFolded();
}

} // namespace

QByteArray OutgoingMessage::bytes() const
{
    if (pieces.size() == 1)
        return pieces.front();
    return pieces.join();
}

qsizetype OutgoingMessage::size() const
{
    qsizetype total = 0;
    for (const QByteArray &piece : pieces)
        total += piece.size();
    return total;
}

SessionManager::SessionManager(sim::World &world, SessionLimits limits, QObject *parent)
    : QObject(parent)
    , m_world(world)
    , m_limits(limits)
    , m_cover(*world.state().sphere)
    , m_signer(limits.tokenKey.size() == 32 ? TokenSigner(limits.tokenKey) : TokenSigner())
    , m_accounts(PasswordHasher(limits.hashCost))
{
    qRegisterMetaType<SessionPtr>();
    // A loaded world has players already: their names are theirs again.
    const auto &players = world.state().players;
    for (std::size_t id = 0; id < players.size(); ++id)
        m_playersByName.insert(lowerName(players[id].name), sim::PlayerId(id));
    // Hashing is memory-hard: two at a time keeps a login flood from eating the machine.
    m_authPool.setMaxThreadCount(2);
}

SessionManager::~SessionManager()
{
    m_authPool.waitForDone();
}

void SessionManager::setWorldInfo(QString worldName, int ups)
{
    m_worldName = std::move(worldName);
    m_ups = ups;
}

void SessionManager::setPersistence(SessionPersistence persistence)
{
    m_persistence = std::move(persistence);
}

int SessionManager::restoreAccounts(std::span<const persistence::PlayerRecord> records)
{
    int restored = 0;
    for (const persistence::PlayerRecord &record : records) {
        if (record.passwordHash && m_accounts.restore(record.name, *record.passwordHash))
            ++restored;
    }
    return restored;
}

persistence::PlayerRecord SessionManager::playerRecord(const Session &session) const
{
    persistence::PlayerRecord record;
    record.name = session.playerName;
    if (session.account)
        record.passwordHash = m_accounts.passwordHash(session.playerName);
    record.player = session.player;
    if (session.lastView) {
        const std::string bytes = session.lastView->SerializeAsString();
        record.view = QByteArray(bytes.data(), qsizetype(bytes.size()));
    }
    QJsonObject inventory;
    const auto &players = m_world.state().players;
    if (session.player < players.size()) {
        const sim::Content &content = m_world.content();
        for (const auto &[item, count] : players[session.player].inventory) {
            const QString key = item < content.items.size() ? content.items[item].key
                                                            : QString::number(item);
            inventory.insert(key, qint64(count));
        }
    }
    record.inventory = QJsonDocument(inventory).toJson(QJsonDocument::Compact);
    record.lastSeen = QDateTime::currentDateTimeUtc();
    return record;
}

QJsonObject SessionManager::status() const
{
    QJsonObject status;
    status.insert(QStringLiteral("world"), m_worldName);
    status.insert(QStringLiteral("tick"), qint64(m_world.state().tick));
    status.insert(QStringLiteral("ups"), m_ups);
    status.insert(QStringLiteral("sessions"), sessionCount());
    status.insert(QStringLiteral("online"), onlineCount());
    status.insert(QStringLiteral("players"), qint64(m_world.state().players.size()));
    if (m_persistence.status) {
        status.insert(QStringLiteral("persistence"), m_persistence.status());
    } else {
        status.insert(QStringLiteral("persistence"),
                      QJsonObject{{QStringLiteral("kind"), QStringLiteral("none")},
                                  {QStringLiteral("durableTick"), 0}});
    }
    if (m_computeStatus)
        status.insert(QStringLiteral("compute"), m_computeStatus());
    return status;
}

void SessionManager::setComputeStatus(std::function<QJsonObject()> status)
{
    m_computeStatus = std::move(status);
}

int SessionManager::saveAllPlayers()
{
    if (!m_persistence.savePlayer)
        return 0;
    int saved = 0;
    for (const SessionPtr &session : std::as_const(m_sessions)) {
        m_persistence.savePlayer(playerRecord(*session), {});
        ++saved;
    }
    return saved;
}

sim::PlayerId SessionManager::playerFor(const QString &name)
{
    const auto known = m_playersByName.constFind(lowerName(name));
    if (known != m_playersByName.cend())
        return *known;
    if (m_world.state().players.size() >= std::size_t(sim::kNoPlayer))
        return sim::kNoPlayer;
    const sim::PlayerId player = m_world.addPlayer(name);
    m_playersByName.insert(lowerName(name), player);
    return player;
}

SessionManager::Result SessionManager::openGuest(const QString &requested,
                                                 const std::optional<protocol::View> &view)
{
    if (m_limits.requireAccounts) {
        return tl::unexpected(unauthorized(
            tr("This server requires an account: register or log in with a name and password.")));
    }
    QString name;
    if (!requested.trimmed().isEmpty()) {
        const auto normalized = AccountStore::normalizedName(requested);
        if (!normalized) {
            return tl::unexpected(refusal(
                protocol::Error::BAD_ACTION, 400, "bad_name",
                tr("\"%1\" is not a valid player name: use 1 to %2 letters, digits, spaces, '-' "
                   "or '_'.")
                    .arg(requested.left(64))
                    .arg(AccountStore::kMaxNameLength)));
        }
        name = *normalized;
        if (m_accounts.contains(name)) {
            return tl::unexpected(unauthorized(
                tr("\"%1\" is an account on this server: log in with its password.").arg(name)));
        }
    } else {
        // Nameless guests get a fresh player each time, under a name nobody has.
        for (std::size_t n = m_world.state().players.size() + 1;
             name.isEmpty() || m_playersByName.contains(lowerName(name)); ++n)
            name = QStringLiteral("Guest %1").arg(n);
    }
    const auto cap = viewCap(view);
    if (!cap)
        return tl::unexpected(cap.error());
    const sim::PlayerId player = playerFor(name);
    if (player == sim::kNoPlayer) {
        return tl::unexpected(refusal(protocol::Error::UNEXPECTED, 503, "world_full",
                                      tr("The world has no room for more players.")));
    }
    if (const auto it = m_sessionByPlayer.constFind(player); it != m_sessionByPlayer.cend()) {
        const SessionPtr &other = *it;
        // HTTP clients have no connection to lose: one that asked for something in the
        // last minute is still playing.
        const bool inUse = other->webSocketAttached || other->heldPolls > 0
                           || (other->lastHttpRequest.isValid()
                               && other->lastHttpRequest.elapsed() < kHttpPresenceMs);
        if (inUse) {
            return tl::unexpected(refusal(
                protocol::Error::NAME_IN_USE, 409, "name_in_use",
                tr("The name \"%1\" is already playing on this server: choose another.")
                    .arg(name)));
        }
        end(other, tr("Another client joined as %1.").arg(name));
    }
    SessionPtr session = createSession(player, name, false, *cap);
    session->lastView = view;
    return session;
}

SessionManager::SessionPtr SessionManager::createSession(sim::PlayerId player,
                                                         const QString &name, bool account,
                                                         const ViewCap &view)
{
    auto session = std::make_shared<Session>();
    do {
        session->id = TokenSigner::newSessionId();
    } while (m_sessions.contains(session->id));
    session->player = player;
    session->playerName = name;
    session->account = account;
    session->expiresAtMs = QDateTime::currentMSecsSinceEpoch()
                           + std::int64_t(m_limits.tokenTtlSeconds) * 1000;
    session->token = m_signer.issue({session->id, player, session->expiresAtMs});
    const std::uint32_t chunks = m_cover.chunkCount();
    session->subscribed.assign(chunks, false);
    session->pendingSnapshot.assign(chunks, false);
    session->actionTokens = m_limits.actionBurst;
    session->bucketClock.start();
    session->lastActivity.start();
    applyView(*session, view);
    m_sessions.insert(session->id, session);
    m_sessionByPlayer.insert(player, session);
    session->chatTokens = kChatBurst;
    session->chatClock.start();
    m_changedPlayers.insert(player);
    qCInfo(lcNet).nospace().noquote()
        << "tick " << m_world.state().tick << ": " << name << " joined as player " << player
        << (account ? " (account)" : " (guest)") << ", session " << session->id.left(8);
    // The players table lists whoever joined (and when), not only who left.
    if (m_persistence.savePlayer)
        m_persistence.savePlayer(playerRecord(*session), {});
    return session;
}

void SessionManager::startAuthJob(const Done &done, std::function<void()> job)
{
    if (m_authJobs >= kMaxAuthJobs) {
        Refusal busy = refusal(protocol::Error::RATE_LIMITED, 503, "server_busy",
                               tr("The server is busy checking passwords: try again in a "
                                  "second."));
        busy.retryAfterMs = 1000;
        done(tl::unexpected(busy));
        return;
    }
    ++m_authJobs;
    m_authPool.start(std::move(job));
}

void SessionManager::login(const QString &name, const QString &password,
                           const std::optional<protocol::View> &view, QObject *context, Done done)
{
    if (const auto cap = viewCap(view); !cap) {
        done(tl::unexpected(cap.error()));
        return;
    }
    QPointer<QObject> guard(context);
    startAuthJob(done, [this, name, password, view, guard, done] {
        auto verified = m_accounts.verify(name, password);
        QMetaObject::invokeMethod(
            this,
            [this, name, view, guard, done, verified] {
                --m_authJobs;
                finishLogin(name, view, guard, done, verified);
            },
            Qt::QueuedConnection);
    });
}

void SessionManager::registerAccount(const QString &name, const QString &password,
                                     const std::optional<protocol::View> &view,
                                     QObject *context, Done done)
{
    if (const auto cap = viewCap(view); !cap) {
        done(tl::unexpected(cap.error()));
        return;
    }
    const auto normalized = AccountStore::normalizedName(name);
    if (normalized && m_playersByName.contains(lowerName(*normalized))
        && !m_accounts.contains(*normalized)) {
        done(tl::unexpected(refusal(
            protocol::Error::NAME_IN_USE, 409, "name_taken",
            tr("\"%1\" is a guest's name in this world: choose another.").arg(*normalized))));
        return;
    }
    QPointer<QObject> guard(context);
    startAuthJob(done, [this, name, password, view, guard, done] {
        auto registered = m_accounts.registerAccount(name, password);
        QMetaObject::invokeMethod(
            this,
            [this, name, view, guard, done, registered] {
                --m_authJobs;
                if (!registered || !m_persistence.savePlayer) {
                    finishLogin(name, view, guard, done, registered);
                    return;
                }
                // The answer waits for the account to be committed: an acknowledged
                // account is never lost.
                persistence::PlayerRecord record;
                record.name = AccountStore::normalizedName(name).value_or(name);
                record.passwordHash = m_accounts.passwordHash(record.name);
                if (const auto known = m_playersByName.constFind(lowerName(record.name));
                    known != m_playersByName.cend())
                    record.player = *known;
                record.inventory = QByteArrayLiteral("{}");
                record.lastSeen = QDateTime::currentDateTimeUtc();
                QPointer<SessionManager> self(this);
                m_persistence.savePlayer(
                    std::move(record), [self, name, view, guard, done, registered](bool saved) {
                        if (!self || !guard)
                            return;
                        if (!saved) {
                            Refusal refused = refusal(
                                protocol::Error::STORAGE_UNAVAILABLE, 503, "storage_unavailable",
                                tr("Your account is created, but the server cannot save it "
                                   "right now; it will be saved once the database is back. "
                                   "Log in again in a moment."));
                            refused.retryAfterMs = 5000;
                            done(tl::unexpected(refused));
                            return;
                        }
                        self->finishLogin(name, view, guard, done, registered);
                    });
            },
            Qt::QueuedConnection);
    });
}

void SessionManager::finishLogin(const QString &name, const std::optional<protocol::View> &view,
                                 const QPointer<QObject> &context, const Done &done,
                                 tl::expected<void, AccountStore::Error> verified)
{
    if (!context)
        return;
    if (!verified) {
        const AccountStore::Error error = verified.error();
        const QString message = AccountStore::describe(error);
        switch (error) {
        case AccountStore::Error::UnknownName:
        case AccountStore::Error::WrongPassword:
            // One answer for both, so that names cannot be probed.
            done(tl::unexpected(unauthorized(tr("Wrong name or password."))));
            return;
        case AccountStore::Error::NameTaken:
            done(tl::unexpected(
                refusal(protocol::Error::NAME_IN_USE, 409, "name_taken", message)));
            return;
        case AccountStore::Error::HashFailed:
            done(tl::unexpected(refusal(protocol::Error::UNEXPECTED, 503, "server_busy", message)));
            return;
        case AccountStore::Error::BadName:
        case AccountStore::Error::WeakPassword:
            break;
        }
        done(tl::unexpected(refusal(protocol::Error::BAD_ACTION, 400,
                                    error == AccountStore::Error::BadName ? "bad_name"
                                                                          : "weak_password",
                                    message)));
        return;
    }
    const QString normalized = AccountStore::normalizedName(name).value_or(name);
    const sim::PlayerId player = playerFor(normalized);
    if (player == sim::kNoPlayer) {
        done(tl::unexpected(refusal(protocol::Error::UNEXPECTED, 503, "world_full",
                                    tr("The world has no room for more players."))));
        return;
    }
    if (const auto it = m_sessionByPlayer.constFind(player); it != m_sessionByPlayer.cend())
        end(*it, tr("%1 logged in from another client.").arg(normalized));
    SessionPtr session = createSession(player, normalized, true, viewCap(view).value_or(ViewCap{}));
    session->lastView = view;
    done(session);
}

SessionManager::Result SessionManager::authenticate(QStringView token)
{
    const auto claims = m_signer.verify(token, QDateTime::currentMSecsSinceEpoch());
    if (!claims)
        return tl::unexpected(unauthorized(TokenSigner::describe(claims.error())));
    const auto it = m_sessions.constFind(claims->sessionId);
    if (it == m_sessions.cend() || (*it)->ended) {
        return tl::unexpected(unauthorized(
            tr("This session has ended: start a new one (POST /api/v1/session, or a Hello "
               "without token).")));
    }
    touch(**it);
    return *it;
}

void SessionManager::end(const SessionPtr &ending, const QString &why)
{
    // A copy: callers may pass a reference into m_sessions or m_sessionByPlayer, which
    // the erasures below would leave dangling.
    const SessionPtr session = ending;
    if (session->ended)
        return;
    session->ended = true;
    session->outbox.clear();
    std::erase(m_updated, session.get());
    m_sessions.remove(session->id);
    if (const auto it = m_sessionByPlayer.constFind(session->player);
        it != m_sessionByPlayer.cend() && *it == session)
        m_sessionByPlayer.erase(it);
    qCInfo(lcNet).nospace().noquote()
        << "tick " << m_world.state().tick << ": session " << session->id.left(8) << " of "
        << session->playerName << " ended: " << why;
    m_changedPlayers.insert(session->player);
    if (m_persistence.savePlayer)
        m_persistence.savePlayer(playerRecord(*session), {});
    protocol::CursorUpdate &gone = m_pendingCursors[session->player];
    gone.set_player_id(session->player);
    gone.set_visible(false);
    emit sessionEnded(session, why);
}

void SessionManager::expireIdle()
{
    std::vector<SessionPtr> idle;
    const std::int64_t now = QDateTime::currentMSecsSinceEpoch();
    for (const SessionPtr &session : std::as_const(m_sessions)) {
        const bool detached = !session->webSocketAttached && session->heldPolls == 0;
        if ((detached && session->lastActivity.elapsed() > m_limits.detachedTtlMs)
            || (detached && session->expiresAtMs <= now))
            idle.push_back(session);
    }
    for (const SessionPtr &session : idle)
        end(session, tr("Idle for more than %1 seconds.").arg(m_limits.detachedTtlMs / 1000));
}

tl::expected<void, Refusal> SessionManager::checkJoinPassword(const QString &given) const
{
    if (m_limits.joinPassword.isEmpty())
        return {};
    // Compared in constant time, so that the time taken does not leak the password.
    const QByteArray expected = m_limits.joinPassword.toUtf8();
    const QByteArray actual = given.toUtf8();
    bool equal = expected.size() == actual.size();
    unsigned char difference = 0;
    for (qsizetype i = 0; i < expected.size(); ++i)
        difference |= static_cast<unsigned char>(expected[i] ^ (i < actual.size() ? actual[i] : 0));
    if (equal && difference == 0)
        return {};
    return tl::unexpected(unauthorized(given.isEmpty()
                                           ? tr("This server needs a password to join.")
                                           : tr("Wrong server password.")));
}

tl::expected<void, Refusal> SessionManager::say(Session &session, const QString &text)
{
    touch(session);
    const QString line = text.trimmed();
    if (line.isEmpty() || line.size() > kMaxChatLength) {
        return tl::unexpected(refusal(protocol::Error::BAD_ACTION, 400, "bad_chat",
                                      tr("A chat line has 1 to %1 characters.").arg(kMaxChatLength)));
    }
    const double elapsedMs = double(session.chatClock.restart());
    session.chatTokens
        = std::min(double(kChatBurst), session.chatTokens + elapsedMs * kChatPerSecond / 1000.0);
    if (session.chatTokens < 1.0) {
        Refusal limited = refusal(protocol::Error::RATE_LIMITED, 429, "rate_limited",
                                  tr("Too many chat lines: at most %1 per second, %2 at once.")
                                      .arg(kChatPerSecond)
                                      .arg(kChatBurst));
        limited.retryAfterMs
            = int(std::ceil((1.0 - session.chatTokens) * 1000.0 / kChatPerSecond));
        return tl::unexpected(limited);
    }
    session.chatTokens -= 1.0;
    protocol::ChatMessage message;
    message.set_player_id(session.player);
    message.set_player_name(session.playerName.toStdString());
    message.set_text(line.toStdString());
    message.set_server_time_ms(QDateTime::currentMSecsSinceEpoch());
    m_pendingChat.push_back(std::move(message));
    qCInfo(lcNet).nospace().noquote()
        << "tick " << m_world.state().tick << ": chat " << session.playerName << ": " << line;
    return {};
}

tl::expected<void, Refusal> SessionManager::setCursor(Session &session, std::uint32_t cell,
                                                      bool visible)
{
    touch(session);
    if (visible && cell >= m_world.state().sphere->cellCount()) {
        return tl::unexpected(refusal(protocol::Error::BAD_ACTION, 400, "bad_cursor",
                                      tr("The cursor's cell %1 does not exist: the world has "
                                         "%2 cells.")
                                          .arg(cell)
                                          .arg(m_world.state().sphere->cellCount())));
    }
    protocol::CursorUpdate &update = m_pendingCursors[session.player];
    update.set_player_id(session.player);
    update.set_cell(visible ? cell : 0);
    update.set_visible(visible);
    return {};
}

void SessionManager::fillPlayerInfo(sim::PlayerId player, protocol::PlayerInfo *info) const
{
    const sim::Player &p = m_world.state().players[player];
    info->set_player_id(player);
    info->set_name(p.name.toStdString());
    info->set_cells_owned(p.cellsOwned);
    const auto session = m_sessionByPlayer.constFind(player);
    info->set_online(session != m_sessionByPlayer.cend() && isOnline(**session));
}

void SessionManager::fillPlayerList(protocol::PlayerList *out) const
{
    const auto &players = m_world.state().players;
    out->set_full(true);
    out->set_total(std::uint32_t(players.size()));
    // Online players first, then the others, up to the cap; ascending id in the list.
    std::vector<sim::PlayerId> listed;
    for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t p = 0; p < players.size() && listed.size() < kMaxListedPlayers; ++p) {
            const auto session = m_sessionByPlayer.constFind(sim::PlayerId(p));
            const bool online = session != m_sessionByPlayer.cend() && isOnline(**session);
            if (online == (pass == 0))
                listed.push_back(sim::PlayerId(p));
        }
    }
    std::sort(listed.begin(), listed.end());
    for (const sim::PlayerId player : listed)
        fillPlayerInfo(player, out->add_players());
}

bool SessionManager::isOnline(const Session &session)
{
    return session.webSocketAttached || session.heldPolls > 0
           || (session.lastHttpRequest.isValid()
               && session.lastHttpRequest.elapsed() < kHttpPresenceMs);
}

void SessionManager::touch(Session &session)
{
    session.lastActivity.restart();
}

void SessionManager::noteHttpRequest(Session &session)
{
    session.lastActivity.restart();
    session.lastHttpRequest.restart();
}

void SessionManager::applyView(Session &session, const ViewCap &view)
{
    std::vector<geometry::ChunkId> added;
    std::vector<geometry::ChunkId> removed;
    // Half the largest chunk's radius: a view must move that far past a chunk before
    // it is dropped.
    m_cover.update(view.direction, view.radius, m_cover.largestRadius() * 0.5,
                   session.subscribed, &added, &removed);
    for (const geometry::ChunkId chunk : added) {
        if (!session.pendingSnapshot[chunk]) {
            session.pendingSnapshot[chunk] = true;
            ++session.pendingSnapshotCount;
        }
        std::erase(session.pendingUnsubscribed, chunk);
    }
    for (const geometry::ChunkId chunk : removed) {
        if (session.pendingSnapshot[chunk]) {
            session.pendingSnapshot[chunk] = false;
            --session.pendingSnapshotCount;
        }
        session.pendingUnsubscribed.push_back(chunk);
    }
    session.subscribedCount
        = std::uint32_t(session.subscribedCount + added.size() - removed.size());
}

tl::expected<ViewCap, Refusal>
SessionManager::viewCap(const std::optional<protocol::View> &view)
{
    if (!view)
        return ViewCap{};
    const float x = view->x();
    const float y = view->y();
    const float z = view->z();
    const float radius = view->radius_degrees();
    if (!std::isfinite(x) || !std::isfinite(y) || !std::isfinite(z) || !std::isfinite(radius)) {
        return tl::unexpected(refusal(protocol::Error::BAD_VIEW, 400, "bad_view",
                                      tr("The view has a coordinate that is not a number.")));
    }
    if (radius < 0.0f) {
        return tl::unexpected(refusal(protocol::Error::BAD_VIEW, 400, "bad_view",
                                      tr("The view's radius_degrees is negative.")));
    }
    const geometry::Vec3 direction{x, y, z};
    const float len = geometry::length(direction);
    const bool hasDirection = len > 1e-6f && std::isfinite(len);
    if (radius > 0.0f && radius < 180.0f && !hasDirection) {
        return tl::unexpected(
            refusal(protocol::Error::BAD_VIEW, 400, "bad_view",
                    tr("The view's direction (x, y, z) is zero: say which way the camera "
                       "looks.")));
    }
    ViewCap cap;
    if (hasDirection)
        cap.direction = geometry::normalized(direction);
    cap.radius = radius >= 180.0f ? std::numbers::pi : double(radius) * std::numbers::pi / 180.0;
    return cap;
}

tl::expected<void, Refusal> SessionManager::setView(Session &session, const protocol::View &view)
{
    touch(session);
    const auto cap = viewCap(view);
    if (!cap)
        return tl::unexpected(cap.error());
    applyView(session, *cap);
    session.lastView = view;
    return {};
}

bool SessionManager::takeActionTokens(Session &session, int count, int *retryMs)
{
    const double elapsedMs = double(session.bucketClock.restart());
    session.actionTokens
        = std::min(double(m_limits.actionBurst),
                   session.actionTokens + elapsedMs * m_limits.actionsPerSecond / 1000.0);
    if (session.actionTokens >= double(count)) {
        session.actionTokens -= double(count);
        return true;
    }
    *retryMs = int(std::ceil((double(count) - session.actionTokens) * 1000.0
                             / m_limits.actionsPerSecond));
    return false;
}

tl::expected<std::uint64_t, Refusal>
SessionManager::queueActions(Session &session,
                             const std::vector<const protocol::ClientAction *> &actions)
{
    touch(session);
    if (m_persistence.storageFull && m_persistence.storageFull()) {
        Refusal full = refusal(protocol::Error::STORAGE_UNAVAILABLE, 503, "storage_unavailable",
                               tr("The server cannot save actions right now (its database is "
                                  "unreachable and its backlog is full); nothing was queued. "
                                  "Try again later."));
        full.retryAfterMs = 1000;
        return tl::unexpected(full);
    }
    if (actions.empty()) {
        return tl::unexpected(refusal(protocol::Error::BAD_ACTION, 400, "bad_action",
                                      tr("There is no action to queue.")));
    }
    if (int(actions.size()) > m_limits.actionBurst) {
        return tl::unexpected(refusal(
            protocol::Error::BAD_ACTION, 400, "bad_action",
            tr("%1 actions at once is more than the %2 a session may send at once.")
                .arg(actions.size())
                .arg(m_limits.actionBurst)));
    }
    std::vector<sim::Action> decoded;
    decoded.reserve(actions.size());
    for (std::size_t i = 0; i < actions.size(); ++i) {
        auto action = protocol::decodeClientAction(
            *actions[i], m_world.state().sphere->cellCount(), session.player);
        if (!action) {
            const QString message
                = actions.size() == 1
                      ? action.error()
                      : tr("Action %1 of %2: %3").arg(i + 1).arg(actions.size()).arg(action.error());
            return tl::unexpected(
                refusal(protocol::Error::BAD_ACTION, 400, "bad_action", message));
        }
        decoded.push_back(*action);
    }
    int retryMs = 0;
    if (!takeActionTokens(session, int(actions.size()), &retryMs)) {
        const QString what
            = actions.size() == 1
                  ? tr("Action %1 was not queued").arg(actions.front()->client_seq())
                  : tr("None of these %1 actions was queued").arg(actions.size());
        Refusal limited
            = refusal(protocol::Error::RATE_LIMITED, 429, "rate_limited",
                      tr("Too many actions: at most %1 per second, %2 at once. %3; try again in "
                         "%4 ms.")
                          .arg(m_limits.actionsPerSecond)
                          .arg(m_limits.actionBurst)
                          .arg(what)
                          .arg(retryMs));
        limited.retryAfterMs = retryMs;
        return tl::unexpected(limited);
    }
    for (const sim::Action &action : decoded) {
        m_world.queueAction(action);
        session.inFlight.push_back(action.clientSeq);
    }
    return m_world.state().tick + 1;
}

std::size_t SessionManager::unsentCount(const Session &session)
{
    // The common case, a WebSocket that took everything: no search.
    if (session.outbox.empty() || session.outbox.back().seq <= session.sentSeq)
        return 0;
    return std::size_t(session.outbox.end() - firstAfter(session.outbox, session.sentSeq));
}

void SessionManager::append(Session &session, OutgoingMessage message)
{
    // Held messages the client has not had: beyond capacity they are replaced by one
    // Resync marker. Messages already sent over a WebSocket only wait for a resume.
    // publishTick() makes room before it builds a tick's messages, so this is a backstop.
    if (unsentCount(session) >= std::size_t(m_limits.mailboxCapacity))
        overflow(session);
    session.outbox.push_back(std::move(message));
}

void SessionManager::overflow(Session &session)
{
    // Every unsent message is replaced, not just the oldest: the next message brings a
    // fresh snapshot of every viewed chunk and the whole inventory, which supersede the
    // dropped deltas. The action results they carried are kept in the marker.
    protocol::Resync resync;
    std::uint64_t firstSeq = 0;
    std::uint64_t lastSeq = 0;
    int droppedResults = 0;
    while (!session.outbox.empty() && session.outbox.back().seq > session.sentSeq) {
        const OutgoingMessage &message = session.outbox.back();
        Envelope envelope;
        if (envelope.ParseFromArray(message.bytes().constData(), int(message.size()))) {
            const auto &results = envelope.has_resync() ? envelope.resync().results()
                                                        : envelope.tick().results();
            // Walking backwards: prepend so the marker keeps ascending order.
            for (int i = results.size() - 1; i >= 0; --i) {
                if (resync.results_size() < kMaxResyncResults) {
                    resync.add_results()->CopyFrom(results.Get(i));
                } else {
                    ++droppedResults;
                }
            }
            if (envelope.has_resync()) {
                firstSeq = envelope.resync().first_seq();
                lastSeq = std::max(lastSeq, envelope.resync().last_seq());
            }
        }
        if (lastSeq == 0)
            lastSeq = message.seq;
        if (!envelope.has_resync())
            firstSeq = message.seq;
        session.outbox.pop_back();
    }
    std::reverse(resync.mutable_results()->begin(), resync.mutable_results()->end());
    resync.set_first_seq(firstSeq);
    resync.set_last_seq(lastSeq);
    QString message = tr("Messages %1 to %2 were dropped because they were not fetched in "
                         "time; the next message carries the state of every viewed chunk.")
                          .arg(firstSeq)
                          .arg(lastSeq);
    if (droppedResults > 0)
        message += QLatin1Char(' ') + tr("%n older action result(s) were dropped too.", nullptr,
                                         droppedResults);
    resync.set_message(message.toStdString());
    Envelope envelope;
    *envelope.mutable_resync() = std::move(resync);
    envelope.set_seq(lastSeq);
    OutgoingMessage marker;
    marker.seq = lastSeq;
    marker.pieces.push_back(protocol::encodeEnvelope(envelope));
    marker.resync = true;
    session.outbox.push_back(std::move(marker));
    // Fresh state for the client to start over from.
    for (std::uint32_t chunk = 0; chunk < m_cover.chunkCount(); ++chunk) {
        if (session.subscribed[chunk] && !session.pendingSnapshot[chunk]) {
            session.pendingSnapshot[chunk] = true;
            ++session.pendingSnapshotCount;
        }
    }
    session.inventorySent = false;
    qCInfo(lcNet).nospace() << "tick " << m_world.state().tick << ": mailbox of "
                            << session.playerName << " overflowed; messages " << firstSeq
                            << ".." << lastSeq << " replaced by a resync marker";
}

void SessionManager::publishTick(const sim::StepResult &step)
{
    m_updated.clear();
    if (m_sessions.isEmpty())
        return;
    const sim::WorldState &state = m_world.state();
    const std::uint32_t chunkCount = m_cover.chunkCount();

    const std::uint64_t durableTick = m_persistence.durableTick ? m_persistence.durableTick() : 0;
    Envelope headerEnvelope;
    {
        protocol::TickUpdate *update = headerEnvelope.mutable_tick();
        update->set_tick(step.tick);
        update->set_server_time_ms(QDateTime::currentMSecsSinceEpoch());
        update->set_state_hash(step.stateHash);
        update->set_durable_tick(durableTick);
    }
    const QByteArray header = protocol::encodeEnvelope(headerEnvelope);
    m_machineFeed.beginTick(state, m_world.content());

    // Each changed chunk's delta is encoded once, when a first session needs it, and
    // the same bytes go to every session that views the chunk.
    std::vector<QByteArray> deltaPieces(step.deltas.size());
    auto deltaPiece = [&](std::size_t i) -> const QByteArray & {
        if (deltaPieces[i].isEmpty()) {
            Envelope e;
            protocol::encodeChunkDelta(state, step.deltas[i], e.mutable_tick()->add_deltas());
            deltaPieces[i] = protocol::encodeEnvelope(e);
        }
        return deltaPieces[i];
    };
    QByteArray allDeltas;
    bool allDeltasReady = false;
    std::vector<QByteArray> snapshotPieces(chunkCount);
    auto snapshotPiece = [&](geometry::ChunkId chunk) -> const QByteArray & {
        if (snapshotPieces[chunk].isEmpty()) {
            Envelope e;
            protocol::encodeChunkSnapshot(state, chunk, e.mutable_tick()->add_chunks());
            snapshotPieces[chunk] = protocol::encodeEnvelope(e);
        }
        return snapshotPieces[chunk];
    };
    QByteArray fullSnapshot;

    std::map<sim::PlayerId, std::vector<const sim::ActionResult *>> resultsByPlayer;
    for (const sim::ActionResult &result : step.actions)
        resultsByPlayer[result.player].push_back(&result);

    // A player's cell count changes only through its own actions.
    for (const auto &[player, results] : resultsByPlayer) {
        if (player >= state.players.size())
            continue;
        auto [known, added] = m_cellsOwned.try_emplace(player, state.players[player].cellsOwned);
        if (added || known->second != state.players[player].cellsOwned) {
            known->second = state.players[player].cellsOwned;
            m_changedPlayers.insert(player);
        }
    }

    // The tick's chat lines and, when it changed, the player list: one piece each, the
    // same bytes for every session.
    QByteArray chatPiece;
    if (!m_pendingChat.empty()) {
        Envelope e;
        for (protocol::ChatMessage &line : m_pendingChat)
            *e.mutable_tick()->add_chat() = std::move(line);
        m_pendingChat.clear();
        chatPiece = protocol::encodeEnvelope(e);
    }
    QByteArray cursorsPiece;
    if (!m_pendingCursors.empty()) {
        Envelope e;
        for (const auto &[player, update] : m_pendingCursors)
            *e.mutable_tick()->add_cursors() = update;
        m_pendingCursors.clear();
        cursorsPiece = protocol::encodeEnvelope(e);
    }
    QByteArray fullPlayersPiece;
    auto fullPlayerListPiece = [&]() -> const QByteArray & {
        if (fullPlayersPiece.isEmpty()) {
            Envelope e;
            fillPlayerList(e.mutable_tick()->mutable_players());
            fullPlayersPiece = protocol::encodeEnvelope(e);
        }
        return fullPlayersPiece;
    };
    QByteArray changedPlayersPiece;
    if (!m_changedPlayers.empty()) {
        Envelope e;
        protocol::PlayerList *list = e.mutable_tick()->mutable_players();
        list->set_total(std::uint32_t(state.players.size()));
        for (const sim::PlayerId player : m_changedPlayers)
            fillPlayerInfo(player, list->add_players());
        m_changedPlayers.clear();
        changedPlayersPiece = protocol::encodeEnvelope(e);
    }

    for (const SessionPtr &sessionPtr : std::as_const(m_sessions)) {
        Session &session = *sessionPtr;
        // Room first, for the (at most two) messages of this tick: a marker made now is
        // followed by this tick's message, which then carries the fresh chunk state and
        // inventory the marker promises.
        if (unsentCount(session) + 2 > std::size_t(m_limits.mailboxCapacity))
            overflow(session);
        const auto results = resultsByPlayer.find(session.player);
        const bool hasResults = results != resultsByPlayer.end();
        // Most sessions of a crowded server view nothing and did nothing this tick: they
        // get no message, and cost no more than this check.
        // A session waiting to hear that its actions are durable gets the tick header
        // until durable_tick reaches them.
        const bool awaitingDurable = session.awaitingDurableTick > 0;
        if (!hasResults && session.inventorySent && session.subscribedCount == 0
            && session.pendingSnapshotCount == 0 && session.pendingUnsubscribed.empty()
            && !awaitingDurable)
            continue;
        Envelope own;
        protocol::TickUpdate *ownUpdate = own.mutable_tick();
        if (const auto &it = results; hasResults) {
            for (const sim::ActionResult *result : it->second) {
                // Only results of actions this session queued: a replaced session's
                // client is gone, and its sequence numbers mean nothing to this one.
                const auto queued
                    = std::find(session.inFlight.begin(), session.inFlight.end(), result->clientSeq);
                if (queued == session.inFlight.end())
                    continue;
                session.inFlight.erase(queued);
                protocol::encodeActionResult(*result, step.tick, ownUpdate->add_results());
            }
        }
        // Only a player's own actions change its inventory.
        const auto &inventory = state.players[session.player].inventory;
        if (!session.inventorySent || (hasResults && inventory != session.sentInventory)) {
            // The whole inventory, plus a count of 0 for each item no longer carried, so
            // that an inventory that became empty still says so.
            std::map<sim::ItemId, std::uint32_t> listed = inventory;
            for (const auto &[item, count] : session.sentInventory)
                listed.try_emplace(item, 0);
            if (listed.empty())
                listed.emplace(0, 0);
            for (const auto &[item, count] : listed) {
                protocol::ItemCount *entry = ownUpdate->add_inventory();
                entry->set_item(item);
                entry->set_count(count);
            }
            session.sentInventory = inventory;
            session.inventorySent = true;
        }
        for (const geometry::ChunkId chunk : session.pendingUnsubscribed)
            ownUpdate->add_unsubscribed(chunk);
        std::sort(ownUpdate->mutable_unsubscribed()->begin(),
                  ownUpdate->mutable_unsubscribed()->end());
        session.pendingUnsubscribed.clear();

        OutgoingMessage message;
        bool wholeWorldSent = false;
        // A session that needs every chunk at once gets one Snapshot first.
        if (session.pendingSnapshotCount == chunkCount && chunkCount > 0) {
            if (fullSnapshot.isEmpty()) {
                Envelope e;
                protocol::encodeSnapshot(state, e.mutable_snapshot());
                fullSnapshot = protocol::encodeEnvelope(e);
            }
            OutgoingMessage snapshot;
            snapshot.seq = ++session.lastSeq;
            Envelope seqOnly;
            seqOnly.set_seq(snapshot.seq);
            snapshot.pieces = {fullSnapshot, protocol::encodeEnvelope(seqOnly)};
            append(session, std::move(snapshot));
            session.pendingSnapshot.assign(chunkCount, false);
            session.pendingSnapshotCount = 0;
            wholeWorldSent = true;
        }
        bool hasContent = ownUpdate->results_size() > 0 || ownUpdate->inventory_size() > 0
                          || ownUpdate->unsubscribed_size() > 0;
        if (awaitingDurable) {
            hasContent = true;
            if (durableTick >= session.awaitingDurableTick)
                session.awaitingDurableTick = 0;
        }
        if (ownUpdate->results_size() > 0 && m_persistence.durableTick && durableTick < step.tick)
            session.awaitingDurableTick = step.tick;
        message.pieces.push_back(header);
        // Chat and the player list are for sessions in the game, those that view
        // something: a crowd of idle connections must not multiply them.
        if (session.subscribedCount > 0) {
            if (!chatPiece.isEmpty()) {
                message.pieces.push_back(chatPiece);
                hasContent = true;
            }
            if (!cursorsPiece.isEmpty()) {
                message.pieces.push_back(cursorsPiece);
                hasContent = true;
            }
            if (!session.playersSent) {
                message.pieces.push_back(fullPlayerListPiece());
                session.playersSent = true;
                hasContent = true;
            } else if (!changedPlayersPiece.isEmpty()) {
                message.pieces.push_back(changedPlayersPiece);
                hasContent = true;
            }
        }
        // The machines' moving parts: every machine of the chunks seen anew (after a
        // Snapshot, of all of them), what changed in the others.
        if (session.subscribedCount > 0) {
            for (const geometry::ChunkId chunk : m_machineFeed.activeChunks()) {
                if (!session.subscribed[chunk])
                    continue;
                const bool fresh = wholeWorldSent
                                   || (session.pendingSnapshotCount > 0
                                       && session.pendingSnapshot[chunk]);
                const QByteArray &piece = fresh ? m_machineFeed.fullPiece(chunk)
                                                : m_machineFeed.changedPiece(chunk);
                if (!piece.isEmpty()) {
                    message.pieces.push_back(piece);
                    hasContent = true;
                }
            }
        }
        if (session.pendingSnapshotCount > 0) {
            for (geometry::ChunkId chunk = 0; chunk < chunkCount; ++chunk) {
                if (!session.pendingSnapshot[chunk])
                    continue;
                message.pieces.push_back(snapshotPiece(chunk));
                // A chunk without machines: its empty list clears what the client had.
                if (!std::binary_search(m_machineFeed.activeChunks().begin(),
                                        m_machineFeed.activeChunks().end(), chunk))
                    message.pieces.push_back(m_machineFeed.fullPiece(chunk));
            }
            session.pendingSnapshot.assign(chunkCount, false);
            session.pendingSnapshotCount = 0;
            hasContent = true;
        }
        if (session.subscribedCount == chunkCount && !step.deltas.empty()) {
            if (!allDeltasReady) {
                for (std::size_t i = 0; i < step.deltas.size(); ++i)
                    allDeltas += deltaPiece(i);
                allDeltasReady = true;
            }
            message.pieces.push_back(allDeltas);
            hasContent = true;
        } else if (session.subscribedCount > 0) {
            for (std::size_t i = 0; i < step.deltas.size(); ++i) {
                if (session.subscribed[step.deltas[i].chunk]) {
                    message.pieces.push_back(deltaPiece(i));
                    hasContent = true;
                }
            }
        }
        if (!hasContent && !session.streaming())
            continue;
        message.seq = ++session.lastSeq;
        message.hasResults = ownUpdate->results_size() > 0;
        own.set_seq(message.seq);
        message.pieces.push_back(protocol::encodeEnvelope(own));
        append(session, std::move(message));
        m_updated.push_back(&session);
    }
}

std::uint64_t SessionManager::firstHeldSeq(const Session &session) const
{
    if (session.outbox.empty())
        return session.lastSeq + 1;
    const OutgoingMessage &front = session.outbox.front();
    if (front.resync) {
        Envelope e;
        if (e.ParseFromArray(front.bytes().constData(), int(front.size())))
            return e.resync().first_seq();
    }
    return front.seq;
}

std::vector<const OutgoingMessage *>
SessionManager::messagesAfter(Session &session, std::uint64_t after, std::size_t max)
{
    std::vector<const OutgoingMessage *> out;
    if (after < session.lastSeq) {
        const std::uint64_t firstHeld = firstHeldSeq(session);
        if (after + 1 < firstHeld) {
            // The client asks for messages no longer held: say so with a marker and
            // start it over from fresh snapshots. The marker takes seq firstHeld - 1,
            // which the client has not had.
            protocol::Resync resync;
            resync.set_first_seq(after + 1);
            resync.set_last_seq(firstHeld - 1);
            // The results those messages carried were kept when they were trimmed.
            for (const auto &[seq, result] : session.trimmedResults) {
                if (seq > after && seq < firstHeld)
                    *resync.add_results() = result;
            }
            resync.set_message(tr("Messages %1 to %2 are no longer held; the next message "
                                  "carries the state of every viewed chunk.")
                                   .arg(after + 1)
                                   .arg(firstHeld - 1)
                                   .toStdString());
            Envelope envelope;
            *envelope.mutable_resync() = std::move(resync);
            envelope.set_seq(firstHeld - 1);
            OutgoingMessage marker;
            marker.seq = firstHeld - 1;
            marker.resync = true;
            marker.pieces.push_back(protocol::encodeEnvelope(envelope));
            session.outbox.push_front(std::move(marker));
            for (std::uint32_t chunk = 0; chunk < m_cover.chunkCount(); ++chunk) {
                if (session.subscribed[chunk] && !session.pendingSnapshot[chunk]) {
                    session.pendingSnapshot[chunk] = true;
                    ++session.pendingSnapshotCount;
                }
            }
            session.inventorySent = false;
        }
    }
    for (auto it = firstAfter(session.outbox, after); it != session.outbox.end() && out.size() < max;
         ++it)
        out.push_back(&*it);
    return out;
}

void SessionManager::acknowledge(Session &session, std::uint64_t seq)
{
    while (!session.outbox.empty() && session.outbox.front().seq <= seq)
        session.outbox.pop_front();
    session.sentSeq = std::max(session.sentSeq, std::min(seq, session.lastSeq));
}

void SessionManager::setWebSocketAttached(Session &session, bool attached)
{
    if (session.webSocketAttached != attached)
        m_changedPlayers.insert(session.player);
    if (!attached) {
        // A player who left points nowhere.
        protocol::CursorUpdate &gone = m_pendingCursors[session.player];
        gone.set_player_id(session.player);
        gone.set_cell(0);
        gone.set_visible(false);
    }
    session.webSocketAttached = attached;
    touch(session);
}

void SessionManager::markSent(Session &session, std::uint64_t seq)
{
    session.sentSeq = std::max(session.sentSeq, seq);
    // Keep the last resumeWindow sent messages for a resume; older ones are gone.
    std::size_t sent
        = std::size_t(firstAfter(session.outbox, session.sentSeq) - session.outbox.begin());
    while (sent > std::size_t(m_limits.resumeWindow) && !session.outbox.empty()) {
        const OutgoingMessage &oldest = session.outbox.front();
        if (oldest.hasResults) {
            // Sent is not received: keep the action results, for the Resync of a resume
            // from before this message.
            Envelope own;
            if (own.ParseFromArray(oldest.pieces.back().constData(),
                                   int(oldest.pieces.back().size()))) {
                for (const protocol::ActionResult &result : own.tick().results())
                    session.trimmedResults.emplace_back(oldest.seq, result);
            }
            while (session.trimmedResults.size() > kMaxTrimmedResults)
                session.trimmedResults.pop_front();
        }
        session.outbox.pop_front();
        --sent;
    }
}

void SessionManager::fillWorldInfo(protocol::WorldInfo *w, const Session *session) const
{
    const sim::WorldState &state = m_world.state();
    const geometry::HexSphere &sphere = *state.sphere;
    w->set_protocol_version(protocol::kProtocolVersion);
    w->set_world_name(m_worldName.toStdString());
    w->set_subdivisions(std::uint32_t(sphere.subdivisions()));
    w->set_cell_count(sphere.cellCount());
    w->set_chunk_split(std::uint32_t(sphere.chunkSplit()));
    w->set_chunk_count(sphere.chunkCount());
    w->set_seed(state.seed);
    w->set_tick(state.tick);
    w->set_ups(std::uint32_t(m_ups));
    if (session)
        w->set_player_id(session->player);
}

void SessionManager::fillSessionInfo(protocol::SessionInfo *out, const Session &session) const
{
    out->set_token(session.token.toStdString());
    out->set_session_id(session.id.toStdString());
    out->set_player_id(session.player);
    out->set_player_name(session.playerName.toStdString());
    out->set_expires_at_ms(session.expiresAtMs);
    out->set_last_seq(session.lastSeq);
    out->set_account(session.account);
}

} // namespace hex::server
