#include "gameserver.h"
#include "persistence/statecodec.h"
#include "persistence/writebehind.h"
#include "session/sessionmanager.h"

#include "scriptedworld.h"
#include "support/postgresserver.h"
#include "wsclient.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

using namespace hex;
using namespace hex::server;
using namespace hex::server::persistence;

class tst_WriteBehind : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void durableTickAdvancesEveryTick_data();
    void durableTickAdvancesEveryTick();
    void stoppedWorldLoadsAgain_data();
    void stoppedWorldLoadsAgain();
    void snapshotWhileTickingIsConsistent_data();
    void snapshotWhileTickingIsConsistent();
    void snapshotWritesInGaps_data();
    void snapshotWritesInGaps();
    void savePlayerIsWriteThrough_data();
    void savePlayerIsWriteThrough();
    void serverRestartResumes_data();
    void serverRestartResumes();
    void cancelledStartLeavesTheStoreAsItWas_data();
    void cancelledStartLeavesTheStoreAsItWas();
    void databaseGoneAndBack();
    void fullBacklogRefusesActions();
    void durableAcknowledgementAndStatus_data();
    void durableAcknowledgementAndStatus();

private:
    void backends();
    StoreLocation location(const QString &backend);

    QTemporaryDir m_dir;
    PostgresServer m_pg;
    int m_worlds = 0;
};

namespace {

/// Creates `name` in `location` and writes `world`'s full save there, as GameServer does
/// for a new world. Returns the error, empty on success.
QString createStored(const StoreLocation &location, const QString &name, const sim::World &world)
{
    QString error;
    static int counter = 0;
    auto store
        = WorldStore::open(location, name, QStringLiteral("test-create-%1").arg(++counter), &error);
    if (!store)
        return error;
    WorldMeta meta;
    meta.name = name;
    meta.seed = world.state().seed;
    meta.subdivisions = world.state().sphere->subdivisions();
    meta.contentVersion = world.content().version;
    if (!store->create(meta))
        return store->errorString();
    const FullSave save = encodeFullSave(world, 2);
    if (!store->writeChunks(save.chunks))
        return store->errorString();
    TickRecord first;
    first.tick = world.state().tick;
    first.stateHash = world.stateHash();
    if (!store->commitSnapshot(save.snapshot)
        || !store->appendTicks(std::vector<TickRecord>{first}))
        return store->errorString();
    return {};
}

/// The world as the store has it: the snapshot, then the events replayed.
struct Reloaded
{
    QString error;
    std::unique_ptr<sim::World> world;
    WorldSummary summary;
    std::uint64_t snapshotTick = 0;
};

Reloaded reload(const StoreLocation &location, const QString &name,
                std::shared_ptr<const geometry::HexSphere> sphere)
{
    Reloaded r;
    static int counter = 0;
    auto store = WorldStore::open(location, name, QStringLiteral("test-reload-%1").arg(++counter),
                                  &r.error);
    if (!store)
        return r;
    auto loaded = store->load();
    if (!loaded) {
        r.error = loaded.error();
        return r;
    }
    r.summary = loaded->summary;
    r.snapshotTick = loaded->snapshot.tick;
    auto state = decodeSnapshotState(*loaded, sphere, *test::shippedContent(), 2);
    if (!state) {
        r.error = state.error();
        return r;
    }
    r.world = std::make_unique<sim::World>(std::move(*state), test::shippedContent());
    auto hash = replayEvents(*r.world, loaded->events, loaded->summary.tick);
    if (!hash)
        r.error = hash.error();
    else if (*hash != loaded->summary.stateHash)
        r.error = QStringLiteral("replayed hash %1, stored %2")
                      .arg(*hash)
                      .arg(loaded->summary.stateHash);
    return r;
}

/// One tick as the server runs it: the script's joins and actions, then the step
/// between beforeStep() and afterStep().
void tick(sim::World &world, WriteBehind &writeBehind, const test::Script *script)
{
    if (script)
        script->queue(world);
    writeBehind.beforeStep();
    const sim::StepResult step = world.step();
    writeBehind.afterStep(step);
}

/// POSTs `json` to the server on `port`; returns the HTTP status.
int post(QNetworkAccessManager &http, quint16 port, const QString &path, const char *json)
{
    QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(path)));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    QNetworkReply *reply = http.post(request, QByteArray(json));
    QElapsedTimer timer;
    timer.start();
    while (!reply->isFinished() && timer.elapsed() < 20'000)
        QTest::qWait(10);
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    reply->deleteLater();
    return status;
}

QString why(const QString &error)
{
    return error.isEmpty() ? QStringLiteral("(no error)") : error;
}

} // namespace

void tst_WriteBehind::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY(test::shippedContent());
    QVERIFY2(m_pg.start(), qPrintable(m_pg.errorString()));
}

void tst_WriteBehind::cleanupTestCase()
{
    m_pg.stop();
}

void tst_WriteBehind::backends()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << QStringLiteral("sqlite");
    QTest::newRow("postgresql") << QStringLiteral("postgresql");
}

StoreLocation tst_WriteBehind::location(const QString &backend)
{
    auto parsed = backend == QStringLiteral("sqlite")
                      ? StoreLocation::parse(QStringLiteral("sqlite:") + m_dir.filePath("worlds"))
                      : StoreLocation::parse(m_pg.url());
    return parsed.value_or(StoreLocation{});
}

void tst_WriteBehind::durableTickAdvancesEveryTick_data()
{
    backends();
}

void tst_WriteBehind::durableTickAdvancesEveryTick()
{
    QFETCH(QString, backend);
    const StoreLocation where = location(backend);
    const QString name = QStringLiteral("durable %1").arg(++m_worlds);
    auto world = test::newWorld(16);
    QCOMPARE(why(createStored(where, name, *world)), why({}));
    const test::Script script = test::makeScript(world->state(), world->content());
    WriteBehind writeBehind(*world, where, name);
    QVERIFY2(writeBehind.start(0, 0), qPrintable(writeBehind.errorString()));
    QSignalSpy changed(&writeBehind, &WriteBehind::durableTickChanged);
    for (int i = 0; i < 60; ++i) {
        tick(*world, writeBehind, &script);
        // Group commit keeps up: every tick is durable before the next one is due.
        QTRY_COMPARE_WITH_TIMEOUT(writeBehind.durableTick(), world->state().tick, 5000);
    }
    QTRY_VERIFY(!changed.isEmpty());
    QCOMPARE(changed.last().at(0).value<quint64>(), quint64(60));
    const PersistenceStats stats = writeBehind.stats();
    QCOMPARE(stats.durableTick, std::uint64_t(60));
    QCOMPARE(stats.backlogTicks, std::uint64_t(0));
    QCOMPARE(stats.backlogEvents, std::uint64_t(0));
    QVERIFY(stats.connected);
    QVERIFY(writeBehind.stop());
}

void tst_WriteBehind::stoppedWorldLoadsAgain_data()
{
    backends();
}

void tst_WriteBehind::stoppedWorldLoadsAgain()
{
    QFETCH(QString, backend);
    const StoreLocation where = location(backend);
    const QString name = QStringLiteral("reload %1").arg(++m_worlds);
    auto world = test::newWorld(16);
    QCOMPARE(why(createStored(where, name, *world)), why({}));
    const test::Script script = test::makeScript(world->state(), world->content());
    WriteBehindOptions options;
    options.flushIntervalMs = 100;
    options.chunksPerBatch = 7;
    {
        WriteBehind writeBehind(*world, where, name, options);
        QVERIFY2(writeBehind.start(0, 0), qPrintable(writeBehind.errorString()));
        while (world->state().tick < 320) {
            tick(*world, writeBehind, &script);
            if (world->state().tick % 20 == 0)
                QTest::qWait(30);
        }
        QVERIFY(writeBehind.stop());
        QCOMPARE(writeBehind.durableTick(), std::uint64_t(320));
        QCOMPARE(writeBehind.stats().snapshotTick, std::uint64_t(320));
    }
    QCOMPARE(world->state().players.size(), std::size_t(3));
    QVERIFY(test::machinesHoldItems(world->state()));

    const Reloaded again = reload(where, name, world->state().sphere);
    QVERIFY2(again.world, qPrintable(again.error));
    QCOMPARE(why(again.error), why({}));
    QCOMPARE(again.summary.tick, std::uint64_t(320));
    QCOMPARE(again.world->stateHash(), world->stateHash());
    QVERIFY(again.world->state() == world->state());

    // The whole event log, replayed into a freshly generated world, reaches the same hash.
    QString error;
    auto store
        = WorldStore::open(where, name, QStringLiteral("test-events-%1").arg(m_worlds), &error);
    QVERIFY2(store, qPrintable(error));
    auto events = store->events(1, 320);
    QVERIFY2(events, qPrintable(events ? QString() : events.error()));
    auto fresh = test::newWorld(16);
    sim::WorldState start = fresh->state();
    start.players.clear();
    sim::World replay(std::move(start), test::shippedContent());
    auto hash = replayEvents(replay, *events, 320);
    QVERIFY2(hash, qPrintable(hash ? QString() : hash.error()));
    QCOMPARE(*hash, world->stateHash());
}

void tst_WriteBehind::snapshotWhileTickingIsConsistent_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<int>("size");
    QTest::addColumn<bool>("allDirty");
    QTest::newRow("sqlite") << QStringLiteral("sqlite") << 16 << false;
    QTest::newRow("postgresql") << QStringLiteral("postgresql") << 16 << false;
    // Started after ticks the store does not have: the first snapshot copies every
    // chunk, over many gaps between ticks.
    QTest::newRow("sqlite, n=64, every chunk dirty") << QStringLiteral("sqlite") << 64 << true;
    QTest::newRow("postgresql, n=64, every chunk dirty")
        << QStringLiteral("postgresql") << 64 << true;
}

void tst_WriteBehind::snapshotWhileTickingIsConsistent()
{
    QFETCH(QString, backend);
    QFETCH(int, size);
    QFETCH(bool, allDirty);
    const StoreLocation where = location(backend);
    const QString name = QStringLiteral("snapshot %1").arg(++m_worlds);
    auto world = test::newWorld(size);
    QCOMPARE(why(createStored(where, name, *world)), why({}));
    if (allDirty)
        world->simulate(3);
    const test::Script script = test::makeScript(world->state(), world->content());
    WriteBehindOptions options;
    options.flushIntervalMs = 50;
    options.chunksPerBatch = 16;
    WriteBehind writeBehind(*world, where, name, options);
    QVERIFY2(writeBehind.start(0, 0), qPrintable(writeBehind.errorString()));
    std::map<std::uint64_t, sim::WorldState> kept;
    // Tick on until two snapshots after the factories run are written, keeping every state.
    QElapsedTimer timer;
    timer.start();
    while ((writeBehind.stats().snapshotTick < 60 || world->state().tick < 120)
           && timer.elapsed() < 30'000) {
        tick(*world, writeBehind, &script);
        kept.emplace(world->state().tick, world->state());
        if (kept.size() > 100)
            kept.erase(kept.begin());
        QTest::qWait(2);
    }
    const PersistenceStats stats = writeBehind.stats();
    QVERIFY2(stats.snapshotTick >= 60, "no snapshot was written while ticking");
    QVERIFY(stats.snapshotsWritten >= 1);
    if (allDirty)
        QVERIFY(stats.chunksWritten >= world->state().sphere->chunkCount());
    qInfo("n=%d: %llu snapshots, %llu chunks (%llu cells) written in %.1f ms; the ticks waited "
          "%.2f ms at most, %.2f ms in all",
          size, qulonglong(stats.snapshotsWritten), qulonglong(stats.chunksWritten),
          qulonglong(stats.cellsWritten), stats.flushMs, stats.longestStepWaitMs,
          stats.totalStepWaitMs);

    // Read while the write-behind runs on: the newest snapshot is the state at its tick.
    QString error;
    auto store
        = WorldStore::open(where, name, QStringLiteral("test-live-%1").arg(m_worlds), &error);
    QVERIFY2(store, qPrintable(error));
    auto loaded = store->load();
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error()));
    const std::uint64_t at = loaded->snapshot.tick;
    QVERIFY(at > 0);
    QVERIFY(kept.contains(at));
    auto state = decodeSnapshotState(*loaded, world->state().sphere, world->content(), 2);
    QVERIFY2(state, qPrintable(state ? QString() : state.error()));
    QVERIFY2(*state == kept.at(at), qPrintable(QStringLiteral("snapshot at tick %1").arg(at)));
    QCOMPARE(loaded->snapshot.stateHash,
             sim::World(std::move(*state), test::shippedContent()).stateHash());
    store.reset();
    QVERIFY(writeBehind.stop());
}

namespace {

/// How the ticks of snapshotWritesInGaps come.
enum class TickPattern {
    GapsLeft,   ///< a short step, a long gap: every snapshot write fits a gap
    NearlyFull, ///< the steps nearly fill the period: no write fits a gap
    Stopping,   ///< as NearlyFull until a snapshot is under way, then no more ticks
};

using SteadyClock = std::chrono::steady_clock;
using Interval = std::pair<SteadyClock::time_point, SteadyClock::time_point>;

bool overlaps(const Interval &a, const Interval &b)
{
    return a.first < b.second && b.first < a.second;
}

} // namespace

void tst_WriteBehind::snapshotWritesInGaps_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<TickPattern>("pattern");
    QTest::newRow("sqlite, 5 ms steps every 50 ms: no write during a step")
        << QStringLiteral("sqlite") << TickPattern::GapsLeft;
    QTest::newRow("postgresql, 5 ms steps every 50 ms: no write during a step")
        << QStringLiteral("postgresql") << TickPattern::GapsLeft;
    QTest::newRow("sqlite, 48 ms steps every 50 ms: snapshots still complete")
        << QStringLiteral("sqlite") << TickPattern::NearlyFull;
    QTest::newRow("postgresql, 48 ms steps every 50 ms: snapshots still complete")
        << QStringLiteral("postgresql") << TickPattern::NearlyFull;
    QTest::newRow("sqlite, ticks stop mid-snapshot: it completes without them")
        << QStringLiteral("sqlite") << TickPattern::Stopping;
    QTest::newRow("postgresql, ticks stop mid-snapshot: it completes without them")
        << QStringLiteral("postgresql") << TickPattern::Stopping;
}

void tst_WriteBehind::snapshotWritesInGaps()
{
    QFETCH(QString, backend);
    QFETCH(TickPattern, pattern);
    const StoreLocation where = location(backend);
    const QString name = QStringLiteral("gaps %1").arg(++m_worlds);
    auto world = test::newWorld(64);
    QCOMPARE(why(createStored(where, name, *world)), why({}));
    // Three steps after the stored snapshot: the first snapshot writes every chunk.
    world->simulate(3);
    const std::uint32_t chunkCount = world->state().sphere->chunkCount();

    std::mutex writesMutex;
    std::vector<Interval> writes;
    WriteBehindOptions options;
    options.flushIntervalMs = 300;
    options.chunksPerBatch = 16;
    options.tickPeriodMs = 50;
    options.snapshotWriteObserver
        = [&](SteadyClock::time_point start, SteadyClock::time_point end) {
              std::lock_guard lock(writesMutex);
              writes.emplace_back(start, end);
          };
    WriteBehind writeBehind(*world, where, name, options);
    QVERIFY2(writeBehind.start(0, 0), qPrintable(writeBehind.errorString()));

    // A tick loop at 20 UPS whose steps take stepMs (the step, then a sleep standing for
    // a bigger world's work).
    const auto period = std::chrono::milliseconds(50);
    const auto stepTime = std::chrono::milliseconds(pattern == TickPattern::GapsLeft ? 5 : 48);
    std::vector<Interval> steps;
    std::vector<std::uint64_t> durableLag;
    SteadyClock::time_point next = SteadyClock::now();
    const auto slowTick = [&] {
        std::this_thread::sleep_until(next);
        next += period;
        // The group commit keeps its pace, writes in gaps or not: the step before the
        // last is durable when a step is due.
        if (steps.size() >= 2)
            durableLag.push_back(world->state().tick - writeBehind.durableTick());
        const auto start = SteadyClock::now();
        writeBehind.beforeStep();
        const sim::StepResult step = world->step();
        std::this_thread::sleep_until(start + stepTime);
        writeBehind.afterStep(step);
        steps.emplace_back(start, SteadyClock::now());
    };

    QElapsedTimer timer;
    timer.start();
    if (pattern == TickPattern::Stopping) {
        // Until the copy is taken and some of its chunks wait for a gap.
        while (writeBehind.stats().chunksPending == 0 && timer.elapsed() < 20'000)
            slowTick();
        QVERIFY2(writeBehind.stats().chunksPending > 0, "no snapshot got under way");
        QVERIFY(writeBehind.stats().snapshotsWritten == 0);
        const std::size_t ticked = steps.size();
        // No step comes now: the write-behind must not wait for one.
        QTRY_VERIFY_WITH_TIMEOUT(writeBehind.stats().snapshotsWritten >= 1, 5000);
        QCOMPARE(steps.size(), ticked);
    } else {
        // Two snapshots: the first writes every chunk, the second the chunks changed.
        while (writeBehind.stats().snapshotsWritten < 2 && timer.elapsed() < 30'000)
            slowTick();
    }
    const PersistenceStats stats = writeBehind.stats();
    qInfo("%llu snapshots, %llu chunks in %llu writes over %zu steps; %llu deferred, %llu "
          "forced, %llu during steps (write-behind's count); flush %.1f ms, packing %.1f ms",
          qulonglong(stats.snapshotsWritten), qulonglong(stats.chunksWritten),
          qulonglong(writes.size()), steps.size(), qulonglong(stats.writesDeferred),
          qulonglong(stats.writesForced), qulonglong(stats.writesDuringSteps), stats.flushMs,
          stats.packMs);
    QVERIFY2(stats.snapshotsWritten >= (pattern == TickPattern::Stopping ? 1u : 2u),
             "the snapshots did not complete");
    QVERIFY(stats.chunksWritten >= chunkCount);

    std::vector<Interval> seen;
    {
        std::lock_guard lock(writesMutex);
        seen = writes;
    }
    // The chunks in batches, then the commit: more writes than one.
    QVERIFY(seen.size() > chunkCount / 16);
    // Writes that began while a step ran, and writes that ran into a step, as the test
    // sees them.
    int startedInStep = 0;
    int during = 0;
    for (const Interval &w : seen) {
        startedInStep += std::any_of(steps.begin(), steps.end(), [&](const Interval &s) {
            return s.first <= w.first && w.first < s.second;
        });
        during += std::any_of(steps.begin(), steps.end(),
                              [&](const Interval &s) { return overlaps(w, s); });
    }
    qInfo("the test saw %d writes start during a step, %d overlap one", startedInStep, during);
    // Only a snapshot starved of gaps starts a write while a step runs.
    QVERIFY(std::uint64_t(startedInStep) <= stats.writesForced);
    switch (pattern) {
    case TickPattern::GapsLeft:
        // A write starts only when expected to end before the next step is due; the
        // estimate may miss now and then on a busy machine, not as a rule (writing
        // without regard to the steps, about one write in ten would meet a step here).
        QVERIFY2(
            during <= int(seen.size()) / 10,
            qPrintable(
                QStringLiteral("%1 of %2 writes overlapped a step").arg(during).arg(seen.size())));
        break;
    case TickPattern::NearlyFull:
        // No gap fits a batch: the snapshot progresses by writes started anyway.
        QVERIFY(stats.writesForced > 0);
        QVERIFY(stats.writesDeferred > 0);
        break;
    case TickPattern::Stopping:
        break;
    }
    for (const std::uint64_t lag : durableLag)
        QVERIFY2(lag <= 1, qPrintable(QStringLiteral("a step was %1 ticks from durable").arg(lag)));
    QVERIFY(writeBehind.stop());
}

void tst_WriteBehind::savePlayerIsWriteThrough_data()
{
    backends();
}

void tst_WriteBehind::savePlayerIsWriteThrough()
{
    QFETCH(QString, backend);
    const StoreLocation where = location(backend);
    const QString name = QStringLiteral("players %1").arg(++m_worlds);
    auto world = test::newWorld(8);
    QCOMPARE(why(createStored(where, name, *world)), why({}));
    WriteBehind writeBehind(*world, where, name);
    QVERIFY2(writeBehind.start(0, 0), qPrintable(writeBehind.errorString()));
    PlayerRecord ada;
    ada.name = QStringLiteral("Ada");
    ada.passwordHash = QByteArray("$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA");
    ada.player = 0;
    ada.inventory = QByteArray(R"({"iron_plate":3})");
    ada.lastSeen = QDateTime::currentDateTimeUtc();
    std::optional<bool> answer;
    writeBehind.savePlayer(ada, [&](bool saved) { answer = saved; });
    QTRY_VERIFY_WITH_TIMEOUT(answer.has_value(), 5000);
    QVERIFY(*answer);
    // Committed: another connection sees it at once, no snapshot or stop needed.
    QString error;
    auto store
        = WorldStore::open(where, name, QStringLiteral("test-player-%1").arg(m_worlds), &error);
    QVERIFY2(store, qPrintable(error));
    const auto saved = store->player(QStringLiteral("ada"));
    QVERIFY(saved);
    QCOMPARE(saved->name, QStringLiteral("Ada"));
    QCOMPARE(saved->passwordHash, ada.passwordHash);
    QCOMPARE(saved->player, std::optional<sim::PlayerId>(0));
    QCOMPARE(saved->inventory, ada.inventory);
    store.reset();
    QVERIFY(writeBehind.stop());
}

void tst_WriteBehind::serverRestartResumes_data()
{
    backends();
}

void tst_WriteBehind::serverRestartResumes()
{
    QFETCH(QString, backend);
    ServerConfig config;
    config.worldName = QStringLiteral("restart %1").arg(++m_worlds);
    config.subdivisions = 16;
    config.ups = 60;
    config.port = 0;
    config.bindAddress = QHostAddress::LocalHost;
    config.store = location(backend);
    config.flushIntervalMs = 200;

    std::uint64_t stoppedAt = 0;
    std::uint64_t hash = 0;
    {
        GameServer server(config);
        QVERIFY2(server.start(), qPrintable(server.errorString()));
        QVERIFY(server.writeBehind());
        QTRY_VERIFY_WITH_TIMEOUT(server.tick() >= 40, 10'000);
        QTRY_VERIFY_WITH_TIMEOUT(server.writeBehind()->durableTick() >= 30, 10'000);
        // No event is processed between here and stop(): no tick runs in between.
        stoppedAt = server.tick();
        hash = server.world()->stateHash();
        server.stop();
    }
    {
        // The same world with another seed and size given: the saved world stands.
        ServerConfig other = config;
        other.seed = 99;
        other.subdivisions = 8;
        GameServer server(other);
        QVERIFY2(server.start(), qPrintable(server.errorString()));
        QCOMPARE(server.tick(), stoppedAt);
        QCOMPARE(server.world()->stateHash(), hash);
        QCOMPARE(server.world()->state().sphere->subdivisions(), 16);
        QCOMPARE(server.world()->state().seed, config.seed);
        QCOMPARE(server.writeBehind()->durableTick(), stoppedAt);
        QTRY_VERIFY_WITH_TIMEOUT(server.tick() >= stoppedAt + 10, 10'000);
        stoppedAt = server.tick();
        hash = server.world()->stateHash();
        server.stop();
    }
    {
        GameServer server(config);
        QVERIFY2(server.start(), qPrintable(server.errorString()));
        QCOMPARE(server.tick(), stoppedAt);
        QCOMPARE(server.world()->stateHash(), hash);
        server.stop();
    }
}

void tst_WriteBehind::cancelledStartLeavesTheStoreAsItWas_data()
{
    backends();
}

void tst_WriteBehind::cancelledStartLeavesTheStoreAsItWas()
{
    QFETCH(QString, backend);
    ServerConfig config;
    config.worldName = QStringLiteral("cancel %1").arg(++m_worlds);
    config.subdivisions = 16;
    config.ups = 60;
    config.port = 0;
    config.bindAddress = QHostAddress::LocalHost;
    config.store = location(backend);
    config.flushIntervalMs = 3'600'000;

    // A new world given up on while it was made: nothing is left of it.
    {
        GameServer server(config);
        server.requestCancel();
        QVERIFY(!server.start());
        QCOMPARE(server.errorString(), QStringLiteral("Cancelled."));
    }
    QVERIFY(!WorldCatalog(config.store).exists(config.worldName));

    // A saved world given up on while it loaded (the replay asks whether to go on, at
    // least once) stays as it was saved.
    std::uint64_t savedAt = 0;
    std::uint64_t hash = 0;
    {
        GameServer server(config);
        QSignalSpy progress(&server, &GameServer::progress);
        QVERIFY2(server.start(), qPrintable(server.errorString()));
        QVERIFY(!progress.isEmpty()); // generating, then saving batches
        QTRY_VERIFY_WITH_TIMEOUT(server.writeBehind()->durableTick() >= 100, 20'000);
        server.stop();
        auto summary = WorldStore::open(config.store, config.worldName,
                                        QStringLiteral("cancel-check-%1").arg(m_worlds), nullptr);
        QVERIFY(summary);
        savedAt = summary->summary()->tick;
        hash = summary->summary()->stateHash;
    }
    {
        GameServer server(config);
        QSignalSpy progress(&server, &GameServer::progress);
        server.requestCancel();
        QVERIFY(!server.start());
        QCOMPARE(server.errorString(), QStringLiteral("Cancelled."));
        QVERIFY(!progress.isEmpty());
    }
    GameServer server(config);
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    QCOMPARE(server.tick(), savedAt);
    QCOMPARE(server.world()->stateHash(), hash);
    server.stop();
}

void tst_WriteBehind::databaseGoneAndBack()
{
    const StoreLocation where = location(QStringLiteral("postgresql"));
    const QString name = QStringLiteral("outage %1").arg(++m_worlds);
    auto world = test::newWorld(16);
    QCOMPARE(why(createStored(where, name, *world)), why({}));
    const test::Script script = test::makeScript(world->state(), world->content());
    WriteBehindOptions options;
    options.flushIntervalMs = 200;
    options.reconnectIntervalMs = 100;
    options.maxBacklogEvents = 20;
    WriteBehind writeBehind(*world, where, name, options);
    QVERIFY2(writeBehind.start(0, 0), qPrintable(writeBehind.errorString()));
    while (world->state().tick < 20) {
        tick(*world, writeBehind, &script);
        QTest::qWait(5);
    }
    QTRY_COMPARE_WITH_TIMEOUT(writeBehind.durableTick(), std::uint64_t(20), 5000);

    QVERIFY2(m_pg.stopServer(), qPrintable(m_pg.errorString()));
    const std::uint64_t goneAt = world->state().tick;
    // Ticks go on; a claim every tick, the join at 40 and its claim pile up in memory.
    bool sawFull = false;
    while (world->state().tick < goneAt + 60) {
        sim::Action claim;
        claim.kind = sim::ActionKind::Claim;
        claim.player = 1;
        claim.cell = sim::CellId(100 + world->state().tick);
        claim.clientSeq = std::uint32_t(1000 + world->state().tick);
        world->queueAction(claim);
        tick(*world, writeBehind, &script);
        QTest::qWait(10);
        sawFull = sawFull || writeBehind.backlogFull();
    }
    QTRY_VERIFY_WITH_TIMEOUT(!writeBehind.stats().connected, 5000);
    PersistenceStats stats = writeBehind.stats();
    QCOMPARE(writeBehind.durableTick(), goneAt);
    QVERIFY2(stats.backlogTicks >= 60, qPrintable(QString::number(stats.backlogTicks)));
    QVERIFY2(stats.backlogEvents >= 20, qPrintable(QString::number(stats.backlogEvents)));
    QVERIFY(sawFull);
    QVERIFY(writeBehind.backlogFull());
    QVERIFY(!stats.lastError.isEmpty());
    // A logout save now is answered "not saved" at once, and kept.
    PlayerRecord bo;
    bo.name = QStringLiteral("Bo");
    bo.player = 1;
    bo.inventory = QByteArrayLiteral("{}");
    std::optional<bool> answer;
    writeBehind.savePlayer(bo, [&](bool saved) { answer = saved; });
    QTRY_VERIFY_WITH_TIMEOUT(answer.has_value(), 3000);
    QCOMPARE(*answer, false);

    QVERIFY2(m_pg.startServer(), qPrintable(m_pg.errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(writeBehind.durableTick(), world->state().tick, 30'000);
    stats = writeBehind.stats();
    QVERIFY(stats.connected);
    QCOMPARE(stats.backlogEvents, std::uint64_t(0));
    QVERIFY(!writeBehind.backlogFull());
    while (world->state().tick < 150)
        tick(*world, writeBehind, &script);
    QVERIFY(writeBehind.stop());

    const Reloaded again = reload(where, name, world->state().sphere);
    QVERIFY2(again.world, qPrintable(again.error));
    QCOMPARE(why(again.error), why({}));
    QCOMPARE(again.summary.tick, std::uint64_t(150));
    QVERIFY(again.world->state() == world->state());
    QString error;
    auto store = WorldStore::open(where, name, QStringLiteral("test-outage-player"), &error);
    QVERIFY2(store, qPrintable(error));
    const auto savedBo = store->player(QStringLiteral("Bo"));
    QVERIFY2(savedBo, "the record kept during the outage was written once the database came back");
    QCOMPARE(savedBo->player, std::optional<sim::PlayerId>(1));
}

void tst_WriteBehind::fullBacklogRefusesActions()
{
    const StoreLocation where = location(QStringLiteral("postgresql"));
    const QString name = QStringLiteral("refuse %1").arg(++m_worlds);
    auto world = test::newWorld(16);
    QCOMPARE(why(createStored(where, name, *world)), why({}));
    WriteBehindOptions options;
    options.reconnectIntervalMs = 100;
    options.maxBacklogEvents = 5;
    WriteBehind writeBehind(*world, where, name, options);
    QVERIFY2(writeBehind.start(0, 0), qPrintable(writeBehind.errorString()));
    SessionLimits limits;
    limits.hashCost = PasswordHasher::minimal();
    SessionManager sessions(*world, limits);
    SessionPersistence hooks;
    hooks.durableTick = [&] {
        return writeBehind.durableTick();
    };
    hooks.storageFull = [&] {
        return writeBehind.backlogFull();
    };
    sessions.setPersistence(hooks);
    auto session = sessions.openGuest(QStringLiteral("Cy"), std::nullopt);
    QVERIFY(session);
    std::uint32_t seq = 0;
    auto act = [&] {
        protocol::ClientAction action;
        action.set_kind(protocol::CLAIM);
        action.set_cell(100 + seq);
        action.set_client_seq(++seq);
        return sessions.queueActions(**session, {&action});
    };
    auto step = [&] {
        writeBehind.beforeStep();
        const sim::StepResult result = world->step();
        writeBehind.afterStep(result);
        sessions.publishTick(result);
    };
    QVERIFY(act());
    step();
    QTRY_COMPARE_WITH_TIMEOUT(writeBehind.durableTick(), world->state().tick, 5000);

    QVERIFY2(m_pg.stopServer(), qPrintable(m_pg.errorString()));
    // One action a tick until the backlog is full: then actions are refused, whole.
    tl::expected<std::uint64_t, Refusal> queued;
    for (int i = 0; i < 40; ++i) {
        queued = act();
        if (!queued)
            break;
        step();
        QTest::qWait(20);
    }
    QVERIFY2(!queued, "actions were still taken with a full backlog");
    QCOMPARE(queued.error().code, protocol::Error::STORAGE_UNAVAILABLE);
    QCOMPARE(queued.error().httpStatus, 503);
    QCOMPARE(queued.error().httpCode, "storage_unavailable");
    QVERIFY(queued.error().retryAfterMs > 0);
    QVERIFY(writeBehind.backlogFull());

    QVERIFY2(m_pg.startServer(), qPrintable(m_pg.errorString()));
    QTRY_VERIFY_WITH_TIMEOUT(!writeBehind.backlogFull(), 30'000);
    QVERIFY(act());
    step();
    QTRY_COMPARE_WITH_TIMEOUT(writeBehind.durableTick(), world->state().tick, 10'000);
    QVERIFY(writeBehind.stop());
}

void tst_WriteBehind::durableAcknowledgementAndStatus_data()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << QStringLiteral("sqlite");
    QTest::newRow("postgresql") << QStringLiteral("postgresql");
    QTest::newRow("nothing kept") << QStringLiteral("none");
}

void tst_WriteBehind::durableAcknowledgementAndStatus()
{
    QFETCH(QString, backend);
    const bool keep = backend != QStringLiteral("none");
    ServerConfig config;
    config.worldName = QStringLiteral("ack %1").arg(++m_worlds);
    config.subdivisions = 16;
    config.ups = 30;
    config.port = 0;
    config.bindAddress = QHostAddress::LocalHost;
    if (keep)
        config.store = location(backend);
    GameServer server(config);
    QVERIFY2(server.start(), qPrintable(server.errorString()));

    hex::tests::WsClient client(QStringLiteral("ws://127.0.0.1:%1/ws").arg(server.port()));
    QVERIFY(client.join("Ada"));
    // A land cell: the claim is accepted, so it is an event of the log.
    const sim::WorldState &state = server.world()->state();
    sim::CellId land = 12;
    while (!test::isLand(state, land))
        ++land;
    const std::uint32_t seq = client.act(protocol::CLAIM, land);
    QVERIFY(client.waitResult(seq));
    const protocol::ActionResult result = *client.result(seq);
    QVERIFY(result.tick() > 0);
    auto durable = [&] {
        std::uint64_t best = 0;
        for (const protocol::Envelope *e : client.all(protocol::Envelope::kTick))
            best = std::max<std::uint64_t>(best, e->tick().durable_tick());
        return best;
    };
    if (keep) {
        // The client hears that its action is durable without viewing anything.
        QVERIFY(client.waitFor([&] { return durable() >= result.tick(); }, 10'000));
        QVERIFY(server.writeBehind()->durableTick() >= result.tick());
    } else {
        QTest::qWait(300);
        QCOMPARE(durable(), std::uint64_t(0));
    }

    QNetworkAccessManager http;
    QNetworkReply *reply = http.get(QNetworkRequest(
        QUrl(QStringLiteral("http://127.0.0.1:%1/api/v1/status").arg(server.port()))));
    QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 10'000);
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    const QJsonObject status = QJsonDocument::fromJson(reply->readAll()).object();
    reply->deleteLater();
    QVERIFY(status.value("tick").toInteger() >= qint64(result.tick()));
    QCOMPARE(status.value("ups").toInt(), 30);
    QCOMPARE(status.value("sessions").toInt(), 1);
    const QJsonObject persistence = status.value("persistence").toObject();
    QCOMPARE(persistence.value("kind").toString(), keep ? backend : QStringLiteral("none"));
    if (keep) {
        QVERIFY(persistence.value("durableTick").toInteger() >= qint64(result.tick()));
        QCOMPARE(persistence.value("connected").toBool(), true);
        QCOMPARE(persistence.value("backlogFull").toBool(), false);
        QVERIFY(persistence.contains("backlogEvents"));
        QVERIFY(persistence.contains("snapshotTick"));
    }
    // An account registered now is answered only once it is saved.
    const int registered = post(http, server.port(), QStringLiteral("/api/v1/accounts"),
                                R"({"player_name": "Bea", "password": "correct horse"})");
    QCOMPARE(registered, 201);
    server.stop();
    if (!keep)
        return;

    // Shutdown saved the live sessions' players.
    QString error;
    {
        auto store = WorldStore::open(config.store, config.worldName,
                                      QStringLiteral("test-ack-%1").arg(m_worlds), &error);
        QVERIFY2(store, qPrintable(error));
        const auto ada = store->player(QStringLiteral("Ada"));
        QVERIFY(ada);
        QCOMPARE(ada->player, std::optional<sim::PlayerId>(0));
        QVERIFY(!ada->passwordHash);
        QVERIFY(ada->lastSeen.isValid());
        QVERIFY(ada->inventory.startsWith('{'));
        const auto bea = store->player(QStringLiteral("bea"));
        QVERIFY(bea);
        QVERIFY(bea->passwordHash && bea->passwordHash->startsWith("$argon2id$"));
    }

    // The claim survived the restart, and so did the account.
    GameServer again(config);
    QVERIFY2(again.start(), qPrintable(again.errorString()));
    QCOMPARE(again.world()->state().owner[land], sim::PlayerId(0));
    QCOMPARE(again.world()->state().players.at(0).name, QStringLiteral("Ada"));
    QCOMPARE(post(http, again.port(), QStringLiteral("/api/v1/session"),
                  R"({"player_name": "Bea", "password": "correct horse"})"),
             200);
    QCOMPARE(post(http, again.port(), QStringLiteral("/api/v1/session"),
                  R"({"player_name": "Bea", "password": "wrong horse!"})"),
             401);
    again.stop();
}

QTEST_GUILESS_MAIN(tst_WriteBehind)
#include "tst_writebehind.moc"
