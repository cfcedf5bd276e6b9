#include "gameserver.h"

#include "compute/computegroup.h"
#include "lan/lanannouncer.h"
#include "persistence/statecodec.h"
#include "persistence/worldloader.h"
#include "persistence/writebehind.h"
#include "session/sessionmanager.h"
#include "tick/tickloop.h"
#include "transport/httpfrontdoor.h"
#include "transport/websockettransport.h"

#include "sim/content.h"
#include "sim/world.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonObject>
#include <QThread>
#include <QLoggingCategory>
#include <QRandomGenerator>

#include <atomic>
#include <climits>

Q_LOGGING_CATEGORY(lcServer, "hex.server")

namespace hex::server {

GameServer::GameServer(ServerConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
{}

GameServer::~GameServer()
{
    stop();
}

namespace {

/// Chunk records per transaction in a new world's first save.
constexpr std::size_t kSaveBatch = 256;

QJsonObject persistenceStatus(const persistence::WriteBehind &writeBehind,
                              const persistence::StoreLocation &location)
{
    const persistence::PersistenceStats stats = writeBehind.stats();
    return QJsonObject{
        {QStringLiteral("kind"), location.kind == persistence::StoreLocation::Kind::Postgresql
                                     ? QStringLiteral("postgresql")
                                     : QStringLiteral("sqlite")},
        {QStringLiteral("location"), location.describe()},
        {QStringLiteral("durableTick"), qint64(stats.durableTick)},
        {QStringLiteral("backlogTicks"), qint64(stats.backlogTicks)},
        {QStringLiteral("backlogEvents"), qint64(stats.backlogEvents)},
        {QStringLiteral("backlogFull"), stats.backlogFull},
        {QStringLiteral("connected"), stats.connected},
        {QStringLiteral("snapshotTick"), qint64(stats.snapshotTick)},
        {QStringLiteral("snapshotsWritten"), qint64(stats.snapshotsWritten)},
        {QStringLiteral("chunksWritten"), qint64(stats.chunksWritten)},
        {QStringLiteral("cellsWritten"), qint64(stats.cellsWritten)},
        {QStringLiteral("flushMs"), stats.flushMs},
        {QStringLiteral("packMs"), stats.packMs},
        {QStringLiteral("chunksPending"), qint64(stats.chunksPending)},
        {QStringLiteral("writesDeferred"), qint64(stats.writesDeferred)},
        {QStringLiteral("writesForced"), qint64(stats.writesForced)},
        {QStringLiteral("writesDuringSteps"), qint64(stats.writesDuringSteps)},
        {QStringLiteral("longestStepWaitMs"), stats.longestStepWaitMs},
        {QStringLiteral("totalStepWaitMs"), stats.totalStepWaitMs},
        {QStringLiteral("lastError"), stats.lastError},
    };
}

QJsonObject computeStatus(const compute::ComputeGroup &group)
{
    const compute::ComputeStats stats = group.stats();
    QJsonArray pids;
    for (int slot = 0; slot < stats.workers; ++slot)
        pids.append(group.workerPid(slot));
    QJsonArray partsRun;
    for (const std::uint64_t parts : stats.partsRun)
        partsRun.append(qint64(parts));
    return QJsonObject{
        {QStringLiteral("workers"), stats.workers},
        {QStringLiteral("running"), stats.running},
        {QStringLiteral("pids"), pids},
        {QStringLiteral("segment"), group.segmentName()},
        {QStringLiteral("parts"), stats.parts},
        {QStringLiteral("jobs"), qint64(stats.jobs)},
        {QStringLiteral("partsRun"), partsRun},
        {QStringLiteral("crashes"), qint64(stats.crashes)},
        {QStringLiteral("missedDeadlines"), qint64(stats.missedDeadlines)},
        {QStringLiteral("takenOver"), qint64(stats.takenOver)},
        {QStringLiteral("restarts"), qint64(stats.restarts)},
        {QStringLiteral("givenUp"), QJsonArray::fromStringList(stats.givenUp)},
        {QStringLiteral("lastError"), stats.lastError},
    };
}

} // namespace

bool GameServer::openStoredWorld(std::shared_ptr<const sim::Content> content,
                                 std::uint64_t *snapshotTick, std::uint64_t *durableTick,
                                 QByteArray *tokenKey,
                                 std::vector<persistence::PlayerRecord> *players)
{
    using namespace persistence;
    const StoreLocation &location = m_config.store;
    static std::atomic<int> counter{0};
    const QString connectionName
        = QStringLiteral("hex-gameserver-%1").arg(counter.fetch_add(1));
    QString error;
    std::unique_ptr<WorldStore> store
        = WorldStore::open(location, m_config.worldName, connectionName, &error);
    if (!store) {
        m_errorString = tr("The world store %1 does not open: %2").arg(location.describe(), error);
        return false;
    }
    QElapsedTimer timer;
    timer.start();
    if (store->exists()) {
        emit progress(tr("Loading the world “%1”…").arg(m_config.worldName), 0, 0);
        QString replaying;
        auto restored = restoreWorld(
            *store, content, m_config.threads, [&](std::uint64_t done, std::uint64_t total) {
                if (replaying.isEmpty()) {
                    replaying = tr("Replaying the last %n ticks of “%1”…", nullptr,
                                   int(std::min<std::uint64_t>(total, INT_MAX)))
                                    .arg(m_config.worldName);
                }
                emit progress(replaying, qint64(done), qint64(total));
                return !cancelled();
            });
        if (!restored) {
            m_errorString = restored.error() == replayCancelledError()
                                ? tr("Cancelled.")
                                : tr("World '%1' in %2 does not load: %3")
                                      .arg(m_config.worldName, location.describe(),
                                           restored.error());
            return false;
        }
        const WorldSummary &summary = restored->summary;
        if (summary.subdivisions != m_config.subdivisions || summary.seed != m_config.seed) {
            qCInfo(lcServer).nospace().noquote()
                << "tick " << summary.tick << ": world '" << m_config.worldName
                << "' exists: its size n=" << summary.subdivisions << " and seed "
                << summary.seed << " stand (the options given, n=" << m_config.subdivisions
                << " and seed " << m_config.seed << ", are ignored)";
        }
        m_world = std::move(restored->world);
        m_config.subdivisions = summary.subdivisions;
        m_config.seed = summary.seed;
        *snapshotTick = restored->snapshotTick;
        *durableTick = summary.tick;
        qCInfo(lcServer).nospace().noquote()
            << "tick " << summary.tick << ": world '" << m_config.worldName << "' loaded from "
            << location.describe() << ": snapshot at tick " << restored->snapshotTick << ", "
            << restored->eventsReplayed << " events replayed in " << restored->replayMs << " ms ("
            << summary.tick - restored->snapshotTick << " ticks), state hash "
            << stateHashText(m_world->stateHash()) << " (" << timer.elapsed() << " ms in all)";
    } else {
        WorldMeta meta;
        meta.name = m_config.worldName;
        meta.seed = m_config.seed;
        meta.subdivisions = m_config.subdivisions;
        meta.contentVersion = content->version;
        if (!store->create(meta)) {
            m_errorString = tr("World '%1' cannot be created in %2: %3")
                                .arg(m_config.worldName, location.describe(), store->errorString());
            return false;
        }
        // A world that is not made whole (cancelled, or the store failed) is removed
        // again, so that it is not listed as one to continue.
        const auto giveUp = [&](const QString &why) {
            m_errorString = why;
            m_compute.reset();
            m_world.reset();
            store.reset();
            const auto removed = WorldCatalog(location).remove(m_config.worldName);
            if (!removed) {
                qCWarning(lcServer).noquote() << "tick 0: the unfinished world" << m_config.worldName
                                              << "could not be removed:" << removed.error();
            }
            return false;
        };
        m_world = newWorld(content);
        if (!m_world)
            return giveUp(tr("Cancelled."));
        const auto &sphere = m_world->state().sphere;
        const FullSave save = encodeFullSave(*m_world, 2);
        const std::span<const ChunkRecord> chunks(save.chunks);
        const QString saving = tr("Saving the world “%1”…").arg(m_config.worldName);
        for (std::size_t i = 0; i < chunks.size(); i += kSaveBatch) {
            emit progress(saving, qint64(i), qint64(chunks.size()));
            if (cancelled())
                return giveUp(tr("Cancelled."));
            if (!store->writeChunks(chunks.subspan(i, std::min(kSaveBatch, chunks.size() - i)))) {
                return giveUp(tr("World '%1' cannot be saved in %2: %3")
                                  .arg(m_config.worldName, location.describe(),
                                       store->errorString()));
            }
        }
        emit progress(saving, qint64(chunks.size()), qint64(chunks.size()));
        TickRecord first;
        first.tick = m_world->state().tick;
        first.stateHash = m_world->stateHash();
        const std::vector<TickRecord> ticks{first};
        if (!store->commitSnapshot(save.snapshot) || !store->appendTicks(ticks)) {
            return giveUp(tr("World '%1' cannot be saved in %2: %3")
                              .arg(m_config.worldName, location.describe(),
                                   store->errorString()));
        }
        *snapshotTick = first.tick;
        *durableTick = first.tick;
        qCInfo(lcServer).nospace().noquote()
            << "tick " << first.tick << ": world '" << m_config.worldName << "' generated: n="
            << m_config.subdivisions << ", " << sphere->cellCount() << " cells, "
            << sphere->chunkCount() << " chunks, seed " << m_config.seed << ", content "
            << content->version << ", and saved to " << location.describe() << " in "
            << timer.elapsed() << " ms";
    }

    QByteArray freshKey(32, Qt::Uninitialized);
    QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(freshKey.data()),
                                         reinterpret_cast<quint32 *>(freshKey.data() + 32));
    auto key = store->tokenKey(freshKey);
    if (!key || key->size() != 32) {
        m_errorString = tr("The token key of world '%1' in %2 cannot be read: %3")
                            .arg(m_config.worldName, location.describe(),
                                 key ? tr("it is not 32 bytes") : key.error());
        m_world.reset();
        return false;
    }
    *tokenKey = *key;
    auto saved = store->players();
    if (!saved) {
        m_errorString = tr("The players of world '%1' in %2 cannot be read: %3")
                            .arg(m_config.worldName, location.describe(), saved.error());
        m_world.reset();
        return false;
    }
    *players = std::move(*saved);
    return true;
}

std::unique_ptr<sim::World> GameServer::newWorld(std::shared_ptr<const sim::Content> content)
{
    const QString generating = tr("Generating the world “%1”…").arg(m_config.worldName);
    emit progress(generating, 0, 0);
    auto sphere = geometry::HexSphere::shared(m_config.subdivisions);
    if (const int workers = resolveWorkers(m_config.workers, m_config.subdivisions); workers > 0) {
        removeStaleSegments(0);
        auto group = compute::ComputeGroup::create(sphere, *content, computeOptionsFor(m_config, workers));
        if (!group) {
            qCWarning(lcServer).noquote().nospace()
                << "tick 0: compute workers did not start (" << group.error()
                << "); generating and stepping on " << m_config.threads << " threads instead";
            m_computeTried = true;
        } else {
            // The ground and the noise fields are most of the work: the workers and this
            // thread share them.
            auto state = (*group)->generateWorld(
                *content, m_config.seed, [&](std::uint64_t done, std::uint64_t total) {
                    emit progress(generating, qint64(done), qint64(total));
                    return !cancelled();
                });
            if (!state && cancelled())
                return nullptr;
            if (!state) {
                qCWarning(lcServer).noquote() << "tick 0: the compute workers cannot generate the "
                                                 "world ("
                                              << state.error() << "); generating it here";
                state = sim::generateWorld(sphere, *content, m_config.seed);
            }
            auto world = std::make_unique<sim::World>(std::move(*state), content, m_config.threads);
            if (auto attached = (*group)->attach(*world); attached)
                m_compute = std::move(*group);
            else
                qCWarning(lcServer).noquote() << "tick 0: compute workers cannot step the world ("
                                              << attached.error() << "); stepping on threads";
            m_computeTried = true;
            return world;
        }
    }
    auto world = std::make_unique<sim::World>(sphere, content, m_config.seed, m_config.threads);
    return cancelled() ? nullptr : std::move(world);
}

void GameServer::removeStaleSegments(std::uint64_t tick)
{
    // Whatever a crashed server left behind; never another live server's.
    for (const QString &stale : compute::Segment::removeStale())
        qCInfo(lcServer).noquote() << "tick" << tick << "removed the stale segment" << stale;
}

void GameServer::startCompute()
{
    if (m_compute || m_computeTried)
        return;
    m_computeTried = true;
    const int workers = resolveWorkers(m_config.workers, m_world->state().sphere->subdivisions());
    const std::uint64_t tick = m_world->state().tick;
    if (workers <= 0)
        return;
    removeStaleSegments(tick);
    auto group = compute::ComputeGroup::start(*m_world, computeOptionsFor(m_config, workers));
    if (!group) {
        qCWarning(lcServer).noquote().nospace()
            << "tick " << tick << ": compute workers did not start (" << group.error()
            << "); stepping on " << m_world->threadCount() << " threads instead";
        return;
    }
    m_compute = std::move(*group);
}

bool GameServer::start()
{
    if (m_world) {
        m_errorString = tr("The server is already running.");
        return false;
    }
    QElapsedTimer timer;
    timer.start();
    auto content = sim::loadDefaultContent();
    if (!content) {
        m_errorString = tr("The game content does not load: %1").arg(content.error());
        return false;
    }
    auto sharedContent = std::make_shared<const sim::Content>(std::move(*content));
    m_computeTried = false;
    const bool keep = m_config.store.kind != persistence::StoreLocation::Kind::None;
    QByteArray tokenKey;
    std::vector<persistence::PlayerRecord> savedPlayers;
    if (keep) {
        std::uint64_t snapshotTick = 0;
        std::uint64_t durableTick = 0;
        if (!openStoredWorld(sharedContent, &snapshotTick, &durableTick, &tokenKey,
                             &savedPlayers))
            return false;
        // Before the write-behind: it reads the arrays where the workers keep them.
        startCompute();
        persistence::WriteBehindOptions options;
        options.flushIntervalMs = m_config.flushIntervalMs;
        options.tickPeriodMs = 1000 / std::max(m_config.ups, 1);
        m_writeBehind = std::make_unique<persistence::WriteBehind>(
            *m_world, m_config.store, m_config.worldName, options);
        if (!m_writeBehind->start(snapshotTick, durableTick)) {
            m_errorString = tr("World '%1' cannot be kept in %2: %3")
                                .arg(m_config.worldName, m_config.store.describe(),
                                     m_writeBehind->errorString());
            m_writeBehind.reset();
            m_world.reset();
            return false;
        }
    } else {
        m_world = newWorld(sharedContent);
        if (!m_world) {
            m_errorString = tr("Cancelled.");
            m_compute.reset();
            return false;
        }
        const auto &sphere = m_world->state().sphere;
        qCInfo(lcServer).nospace().noquote()
            << "tick 0: world '" << m_config.worldName << "' generated: n="
            << m_config.subdivisions << ", " << sphere->cellCount() << " cells, "
            << sphere->chunkCount() << " chunks, seed " << m_config.seed << ", content "
            << sharedContent->version << ", in " << timer.elapsed() << " ms (not kept)";
        startCompute();
    }

    SessionLimits limits;
    limits.tokenKey = tokenKey;
    limits.tokenTtlSeconds = m_config.tokenTtlSeconds;
    limits.requireAccounts = m_config.requireAccounts;
    limits.mailboxCapacity = m_config.mailboxCapacity;
    limits.detachedTtlMs = m_config.sessionIdleSeconds * 1000;
    limits.joinPassword = m_config.joinPassword;
    m_sessions = new SessionManager(*m_world, limits, this);
    m_sessions->setWorldInfo(m_config.worldName, m_config.ups);
    if (m_writeBehind) {
        persistence::WriteBehind *writeBehind = m_writeBehind.get();
        const int restored = m_sessions->restoreAccounts(savedPlayers);
        if (restored > 0) {
            qCInfo(lcServer).nospace() << "tick " << m_world->state().tick << ": " << restored
                                       << " accounts restored";
        }
        SessionPersistence hooks;
        hooks.savePlayer = [writeBehind](persistence::PlayerRecord record,
                                         std::function<void(bool)> saved) {
            writeBehind->savePlayer(std::move(record), std::move(saved));
        };
        hooks.durableTick = [writeBehind] { return writeBehind->durableTick(); };
        hooks.storageFull = [writeBehind] { return writeBehind->backlogFull(); };
        const persistence::StoreLocation location = m_config.store;
        hooks.status = [writeBehind, location] { return persistenceStatus(*writeBehind, location); };
        m_sessions->setPersistence(std::move(hooks));
    }
    if (m_compute) {
        compute::ComputeGroup *group = m_compute.get();
        m_sessions->setComputeStatus([group] { return computeStatus(*group); });
    }
    m_webSocket = new WebSocketTransport(*m_sessions, m_config.maxClients, this);
    m_frontDoor = new HttpFrontDoor(*m_sessions, *m_webSocket, m_config.maxHttpConnections,
                                    this);
    if (!m_frontDoor->listen(m_config.bindAddress, m_config.port)) {
        m_errorString = m_frontDoor->errorString();
        stop();
        return false;
    }
    if (m_config.announceOnLan) {
        // Optional: a server nobody finds on the LAN still serves those who know it.
        m_lanAnnouncer = new LanAnnouncer(m_config, *m_sessions, m_frontDoor->port(), this);
        if (!m_lanAnnouncer->start()) {
            qCWarning(lcServer).noquote() << "tick 0:" << m_lanAnnouncer->errorString();
            delete m_lanAnnouncer;
            m_lanAnnouncer = nullptr;
        }
    }

    m_tickLoop = new TickLoop(m_config.ups, this);
    connect(m_tickLoop, &TickLoop::ticked, this, [this](std::uint64_t) {
        if (m_writeBehind)
            m_writeBehind->beforeStep();
        const sim::StepResult result = m_world->step();
        if (m_writeBehind)
            m_writeBehind->afterStep(result);
        m_sessions->publishTick(result);
        m_webSocket->flush();
        m_frontDoor->wakePolls();
        // Once a second is often enough to end idle sessions.
        if (result.tick % std::uint64_t(m_config.ups) == 0)
            m_sessions->expireIdle();
    });
    m_tickLoop->start(m_world->state().tick);
    return true;
}

void GameServer::startAndReport()
{
    if (start())
        emit started(port());
    else
        emit failed(m_errorString);
}

void GameServer::stop()
{
    delete m_lanAnnouncer;
    m_lanAnnouncer = nullptr;
    if (m_tickLoop) {
        m_tickLoop->stop();
        delete m_tickLoop;
        m_tickLoop = nullptr;
    }
    // The players of live sessions are saved with everything else below.
    if (m_writeBehind && m_sessions)
        m_sessions->saveAllPlayers();
    if (m_frontDoor) {
        m_frontDoor->close();
        delete m_frontDoor;
        m_frontDoor = nullptr;
    }
    if (m_webSocket) {
        m_webSocket->close();
        delete m_webSocket;
        m_webSocket = nullptr;
    }
    delete m_sessions;
    m_sessions = nullptr;
    if (m_writeBehind) {
        QElapsedTimer timer;
        timer.start();
        const bool saved = m_writeBehind->stop();
        const persistence::PersistenceStats stats = m_writeBehind->stats();
        if (saved) {
            qCInfo(lcServer).nospace().noquote()
                << "tick " << m_world->state().tick << ": world '" << m_config.worldName
                << "' saved to " << m_config.store.describe() << " in " << timer.elapsed()
                << " ms: events up to tick " << stats.durableTick << ", snapshot at tick "
                << stats.snapshotTick;
        } else {
            qCCritical(lcServer).nospace().noquote()
                << "tick " << m_world->state().tick << ": world '" << m_config.worldName
                << "' NOT fully saved: " << m_writeBehind->errorString();
        }
        m_writeBehind.reset();
    }
    m_compute.reset();
    if (m_world) {
        qCInfo(lcServer).nospace() << "tick " << m_world->state().tick << ": server stopped";
        m_world.reset();
    }
}

quint16 GameServer::port() const
{
    return m_frontDoor ? m_frontDoor->port() : 0;
}

quint64 GameServer::tick() const
{
    return m_world ? m_world->state().tick : 0;
}

} // namespace hex::server
