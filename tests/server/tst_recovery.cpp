// Recovery from faults against real hexsphere-server processes, on SQLite and on a real
// PostgreSQL: kill -9 under load (every action acknowledged durable is present after the
// restart, and the restarted state hash equals an independent replay of the event log),
// a clean stop that resumes at the same tick and hash, accounts that outlive a kill, and
// tokens from before it that are told their session ended (not that they are forged).
#include "actingbot.h"
#include "httpclient.h"
#include "killableserver.h"
#include "wsclient.h"

#include "persistence/statecodec.h"
#include "persistence/worldstore.h"
#include "support/postgresserver.h"

#include "geometry/hexsphere.h"
#include "sim/content.h"
#include "sim/world.h"

#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <memory>
#include <vector>

using namespace hex;
using namespace hex::tests;
namespace persistence = hex::server::persistence;

namespace {

constexpr int kSize = 16; // 2562 cells
constexpr int kBots = 4;
/// Milliseconds between two actions of one bot: about 14 a second, under the limit of 20.
constexpr int kActionIntervalMs = 70;

enum class Backend { Sqlite, Postgresql };

QString hex64(std::uint64_t value)
{
    return QStringLiteral("%1").arg(value, 16, 16, QLatin1Char('0'));
}

} // namespace

class tst_Recovery : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void killUnderLoad_data();
    void killUnderLoad();
    void accountsSurviveAKill_data();
    void accountsSurviveAKill();
    void oldTokensHearTheirSessionEnded_data();
    void oldTokensHearTheirSessionEnded();

private:
    /// The --database argument for `backend`: a directory in `dir`, or the test's
    /// PostgreSQL (every world in one database, by name).
    QString database(Backend backend, const QTemporaryDir &dir) const;
    /// Replays the store's event log of `world` from its seed up to each of `ticks`
    /// (ascending) and returns the state hash at each, or an error.
    /// Starts a server on a new world, registers the account Dora over HTTP and kills the
    /// server right after the answer; `args` and `registered` are for the restart.
    void registerThenKill(Backend backend, const QString &world, const QTemporaryDir &dir,
                          QStringList *args, protocol::SessionInfo *registered);
    tl::expected<std::vector<std::uint64_t>, QString>
    replayLog(const QString &databaseArg, const QString &world,
              const std::vector<std::uint64_t> &ticks) const;

    PostgresServer m_postgres;
    std::shared_ptr<const sim::Content> m_content;
    sim::PrototypeId m_conveyor = 0;
};

void tst_Recovery::initTestCase()
{
    auto content = sim::loadDefaultContent();
    QVERIFY2(content, qPrintable(content ? QString() : content.error()));
    m_content = std::make_shared<const sim::Content>(std::move(*content));
    QVERIFY(m_content->findPrototype(QStringLiteral("conveyor"), &m_conveyor));
    QVERIFY2(m_postgres.start(), qPrintable(m_postgres.errorString()));
}

QString tst_Recovery::database(Backend backend, const QTemporaryDir &dir) const
{
    return backend == Backend::Sqlite ? QStringLiteral("sqlite:") + dir.path() : m_postgres.url();
}

tl::expected<std::vector<std::uint64_t>, QString>
tst_Recovery::replayLog(const QString &databaseArg, const QString &world,
                        const std::vector<std::uint64_t> &ticks) const
{
    const auto location = persistence::StoreLocation::parse(databaseArg);
    if (!location)
        return tl::unexpected(location.error());
    static int connections = 0;
    QString error;
    auto store = persistence::WorldStore::open(
        *location, world, QStringLiteral("tst_recovery-replay-%1").arg(++connections), &error);
    if (!store)
        return tl::unexpected(QStringLiteral("open: ") + error);
    const auto summary = store->summary();
    if (!summary)
        return tl::unexpected(QStringLiteral("no summary: ") + store->errorString());
    const auto events = store->events(1, ticks.back());
    if (!events)
        return tl::unexpected(QStringLiteral("events: ") + events.error());
    auto sphere = std::make_shared<const geometry::HexSphere>(summary->subdivisions);
    sim::World replayed(sphere, m_content, summary->seed);
    std::vector<std::uint64_t> hashes;
    auto from = events->begin();
    for (const std::uint64_t tick : ticks) {
        const auto to = std::find_if(
            from, events->end(), [&](const persistence::EventRecord &e) { return e.tick > tick; });
        const auto hash
            = persistence::replayEvents(replayed, std::span(&*from, std::size_t(to - from)), tick);
        if (!hash)
            return tl::unexpected(
                QStringLiteral("replay to tick %1: %2").arg(tick).arg(hash.error()));
        hashes.push_back(*hash);
        from = to;
    }
    return hashes;
}

void tst_Recovery::killUnderLoad_data()
{
    QTest::addColumn<int>("backend");
    QTest::addColumn<int>("flushIntervalMs");
    QTest::addColumn<QString>("world");
    QTest::newRow("SQLite, snapshots every 500 ms")
        << int(Backend::Sqlite) << 500 << QStringLiteral("kill-sqlite-short");
    QTest::newRow("SQLite, no snapshot for a minute: recovery replays every event")
        << int(Backend::Sqlite) << 60'000 << QStringLiteral("kill-sqlite-long");
    QTest::newRow("PostgreSQL, snapshots every 500 ms")
        << int(Backend::Postgresql) << 500 << QStringLiteral("kill-pg-short");
    QTest::newRow("PostgreSQL, no snapshot for a minute: recovery replays every event")
        << int(Backend::Postgresql) << 60'000 << QStringLiteral("kill-pg-long");
}

void tst_Recovery::killUnderLoad()
{
    QFETCH(int, backend);
    QFETCH(int, flushIntervalMs);
    QFETCH(QString, world);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString databaseArg = database(Backend(backend), dir);
    const QStringList args{"--size",           QString::number(kSize),
                           "--world",          world,
                           "--database",       databaseArg,
                           "--flush-interval", QString::number(flushIntervalMs)};

    // The first life: bots act until the server is killed in the middle of it.
    auto first = std::make_unique<KillableServer>();
    QVERIFY2(first->start(args), qPrintable(first->tail()));
    std::vector<std::unique_ptr<ActingBot>> bots;
    for (int i = 0; i < kBots; ++i) {
        bots.push_back(std::make_unique<ActingBot>(first->url(), QStringLiteral("Bot %1").arg(i),
                                                   kSize, m_conveyor, quint32(1000 + i)));
        QVERIFY2(bots.back()->join(), qPrintable(first->tail()));
    }
    const auto land = bots.front()->freeLand();
    QVERIFY(land.size() > std::size_t(kBots));
    for (int i = 0; i < kBots; ++i)
        bots[std::size_t(i)]->setFirstCell(land[land.size() * std::size_t(i) / kBots]);
    bool survived = true;
    runBots(bots, 4'000, kActionIntervalMs, [&] { return survived = first->running(); });
    QVERIFY2(survived, qPrintable(first->tail()));
    first->kill();

    std::uint64_t durableSeen = 0;
    std::uint64_t lastSeen = 0;
    std::map<std::uint64_t, std::uint64_t> hashes;
    int acknowledged = 0;
    for (const auto &bot : bots) {
        bot->absorb();
        durableSeen = std::max(durableSeen, bot->maxDurableTick);
        lastSeen = std::max(lastSeen, bot->lastTick);
        hashes.insert(bot->hashes.begin(), bot->hashes.end());
        acknowledged += int(bot->acks.size());
    }
    QVERIFY2(durableSeen > 0, "TickUpdate.durable_tick never moved while the bots acted");
    QVERIFY2(acknowledged > 50, qPrintable(QStringLiteral("only %1 results").arg(acknowledged)));

    // The second life, on the same store.
    auto second = std::make_unique<KillableServer>();
    QVERIFY2(second->start(args), qPrintable(second->tail()));
    const auto loaded = findLoadLine(second->output());
    QVERIFY2(loaded, qPrintable("no load line in: " + second->tail()));
    QCOMPARE(loaded->world, world);
    QVERIFY2(loaded->tick >= durableSeen,
             qPrintable(QStringLiteral("resumed at tick %1 but tick %2 was acknowledged durable")
                            .arg(loaded->tick)
                            .arg(durableSeen)));
    // The log is written no faster than the ticks go: nothing past what ran.
    QVERIFY(loaded->tick <= lastSeen + 20);
    if (const auto it = hashes.find(loaded->tick); it != hashes.end()) {
        QVERIFY2(it->second == loaded->stateHash,
                 qPrintable(QStringLiteral("tick %1: the killed server broadcast hash %2, the "
                                           "restarted one loaded hash %3")
                                .arg(loaded->tick)
                                .arg(hex64(it->second), hex64(loaded->stateHash))));
    } else {
        qWarning("tick %llu: no client received the killed server's hash of the tick it "
                 "resumed at; checked against the replay only",
                 static_cast<unsigned long long>(loaded->tick));
    }

    // Everything acknowledged durable is in the restarted world.
    ActingBot watcher(second->url(), QStringLiteral("Watcher"), kSize, m_conveyor, 1);
    QVERIFY2(watcher.join(), qPrintable(second->tail()));
    const protocol::VisibleCells cells = watcher.client.mirror(kSize);
    int durable = 0, durableClaims = 0, structureCells = 0, durableAfterSnapshot = 0;
    for (const auto &bot : bots) {
        const DurabilityReport report = checkDurable(*bot, cells, m_conveyor);
        QVERIFY2(report.failure.isEmpty(), qPrintable(report.failure));
        durable += report.durable;
        durableClaims += report.durableClaims;
        structureCells += report.structureCells;
        for (const auto &[seq, ack] : bot->acks)
            durableAfterSnapshot += bot->durable(ack) && ack.tick > loaded->snapshotTick;
    }
    qInfo("%d results, %d acknowledged durable (%d claims, %d cells' last action checked); "
          "durable tick %llu, last tick seen %llu; resumed at tick %llu from the snapshot at "
          "tick %llu with %llu events replayed",
          acknowledged, durable, durableClaims, structureCells,
          static_cast<unsigned long long>(durableSeen), static_cast<unsigned long long>(lastSeen),
          static_cast<unsigned long long>(loaded->tick),
          static_cast<unsigned long long>(loaded->snapshotTick),
          static_cast<unsigned long long>(loaded->eventsReplayed));
    QVERIFY(durableClaims > 10);
    QVERIFY(structureCells > 10);
    // Each durable result after the snapshot is an event the restart had to replay.
    QVERIFY2(loaded->eventsReplayed >= std::uint64_t(durableAfterSnapshot),
             qPrintable(QStringLiteral("%1 events replayed, but %2 durable results came after "
                                       "the snapshot at tick %3")
                            .arg(loaded->eventsReplayed)
                            .arg(durableAfterSnapshot)
                            .arg(loaded->snapshotTick)));
    if (flushIntervalMs >= 60'000) {
        // No snapshot since the world began: the restart replayed the whole run.
        QVERIFY2(durableAfterSnapshot == durable,
                 qPrintable(QStringLiteral("a snapshot at tick %1 cut the replay short")
                                .arg(loaded->snapshotTick)));
    } else {
        QVERIFY2(loaded->snapshotTick > 0, "no snapshot in four seconds of 500 ms flushes");
    }

    // A clean stop, and a third life that resumes exactly where the second stopped.
    QTest::qWait(500);
    QCOMPARE(second->terminate(), 0);
    watcher.absorb();
    const auto saved = findSaveLine(second->output());
    QVERIFY2(saved, qPrintable("no save line at the stop: " + second->tail()));
    QCOMPARE(saved->durableTick, saved->tick);
    QCOMPARE(saved->snapshotTick, saved->tick);
    QVERIFY(saved->tick >= watcher.lastTick);
    auto third = std::make_unique<KillableServer>();
    QVERIFY2(third->start(args), qPrintable(third->tail()));
    const auto resumed = findLoadLine(third->output());
    QVERIFY2(resumed, qPrintable("no load line in: " + third->tail()));
    QCOMPARE(resumed->tick, saved->tick);
    // The clean stop wrote a final snapshot at its last tick: nothing to replay.
    QCOMPARE(resumed->snapshotTick, resumed->tick);
    QCOMPARE(resumed->eventsReplayed, std::uint64_t(0));
    if (const auto it = watcher.hashes.find(resumed->tick); it != watcher.hashes.end())
        QCOMPARE(hex64(resumed->stateHash), hex64(it->second));
    QCOMPARE(third->terminate(), 0);

    // The event log, replayed here from the world's seed, gives the same hashes.
    const auto replayed = replayLog(databaseArg, world, {loaded->tick, resumed->tick});
    QVERIFY2(replayed, qPrintable(replayed ? QString() : replayed.error()));
    QCOMPARE(hex64((*replayed)[0]), hex64(loaded->stateHash));
    QCOMPARE(hex64((*replayed)[1]), hex64(resumed->stateHash));
}

namespace {

QByteArray accountRequest(const char *name, const char *password)
{
    protocol::SessionRequest r;
    r.set_player_name(name);
    r.set_password(password);
    return toJson(r);
}

} // namespace

void tst_Recovery::registerThenKill(Backend backend, const QString &world, const QTemporaryDir &dir,
                                    QStringList *args, protocol::SessionInfo *registered)
{
    // No snapshot for a minute: the account must be written through, not flushed later.
    *args = QStringList{
        "--size",           "8",    "--world", world, "--database", database(backend, dir),
        "--flush-interval", "60000"};
    KillableServer first;
    QVERIFY2(first.start(*args), qPrintable(first.tail()));
    HttpConnection http(first.port());
    const HttpResponse r = http.request("POST", "/api/v1/accounts",
                                        accountRequest("Dora", "correct horse"), {}, 30'000);
    QVERIFY2(r.status == 201,
             qPrintable(QStringLiteral("%1 %2").arg(r.status).arg(QString::fromUtf8(r.body))));
    QVERIFY(fromJson(r.body, registered));
    // The answer came: now the server dies at once.
    first.kill();
}

void tst_Recovery::accountsSurviveAKill_data()
{
    QTest::addColumn<int>("backend");
    QTest::addColumn<QString>("world");
    QTest::newRow("SQLite") << int(Backend::Sqlite) << QStringLiteral("accounts-sqlite");
    QTest::newRow("PostgreSQL") << int(Backend::Postgresql) << QStringLiteral("accounts-pg");
}

void tst_Recovery::accountsSurviveAKill()
{
    QFETCH(int, backend);
    QFETCH(QString, world);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QStringList args;
    protocol::SessionInfo registered;
    registerThenKill(Backend(backend), world, dir, &args, &registered);
    if (QTest::currentTestFailed())
        return;

    KillableServer second;
    QVERIFY2(second.start(args), qPrintable(second.tail()));
    HttpConnection http(second.port());
    HttpResponse r = http.request("POST", "/api/v1/accounts",
                                  accountRequest("dora", "another horse"), {}, 30'000);
    QCOMPARE(r.status, 409);
    QCOMPARE(httpError(r).first, QStringLiteral("name_taken"));
    r = http.request("POST", "/api/v1/session", accountRequest("Dora", "wrong horse"), {}, 30'000);
    QCOMPARE(r.status, 401);
    r = http.request("POST", "/api/v1/session", accountRequest("Dora", "correct horse"), {},
                     30'000);
    QCOMPARE(r.status, 200);
    protocol::SessionInfo login;
    QVERIFY(fromJson(r.body, &login));
    QVERIFY(login.account());
    QCOMPARE(login.player_id(), registered.player_id());
    QCOMPARE(second.terminate(), 0);
}

void tst_Recovery::oldTokensHearTheirSessionEnded_data()
{
    accountsSurviveAKill_data();
}

void tst_Recovery::oldTokensHearTheirSessionEnded()
{
    // Sessions live in memory and end with the process; the key that signs tokens is kept
    // with the world. So a token from before the kill is still recognised as this
    // server's: its holder hears that the session ended (and logs in again, as the
    // desktop client does by itself), not that the token is forged.
    QFETCH(int, backend);
    QFETCH(QString, world);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QStringList args;
    protocol::SessionInfo registered;
    registerThenKill(Backend(backend), world + QStringLiteral("-token"), dir, &args, &registered);
    if (QTest::currentTestFailed())
        return;

    KillableServer second;
    QVERIFY2(second.start(args), qPrintable(second.tail()));
    WsClient client(second.url());
    QVERIFY(client.waitConnected());
    client.resume(QString::fromStdString(registered.token()), 0);
    QVERIFY2(
        client.waitFor([&] { return client.session() != nullptr || !client.errors().empty(); }),
        "no answer to a Hello with the old token");
    QVERIFY2(!client.session(), "a session from before the kill came back");
    QCOMPARE(client.errors().front().code(), protocol::Error::UNAUTHORIZED);
    const QString message = QString::fromStdString(client.errors().front().message());
    QVERIFY2(message.contains(QLatin1String("session has ended")), qPrintable(message));

    // Logging in again gives the same player.
    HttpConnection http(second.port());
    const HttpResponse r = http.request("POST", "/api/v1/session",
                                        accountRequest("Dora", "correct horse"), {}, 30'000);
    QCOMPARE(r.status, 200);
    protocol::SessionInfo login;
    QVERIFY(fromJson(r.body, &login));
    QCOMPARE(login.player_id(), registered.player_id());
    QCOMPARE(second.terminate(), 0);
}

QTEST_MAIN(tst_Recovery)
#include "tst_recovery.moc"
