// `hexsphere-server world list|branch|delete|simulate` as a user runs it, against SQLite
// files and a real PostgreSQL server.
#include "killableserver.h"
#include "scriptedworld.h"

#include "persistence/statecodec.h"
#include "persistence/worldstore.h"

#include "support/postgresserver.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

#include <signal.h>

using namespace hex;
using namespace hex::server::persistence;

namespace {

struct Run
{
    int exitCode = -1;
    QString out;
    QString err;
};

TickRecord someTick(std::uint64_t tick)
{
    TickRecord record{tick, 1000 + tick, {}};
    EventRecord join;
    join.tick = tick;
    join.kind = EventRecord::Kind::Join;
    join.player = 0;
    join.name = QStringLiteral("Ada");
    record.events.push_back(join);
    return record;
}

} // namespace

class tst_WorldCli : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void listBranchDelete_data() { addBackends(); }
    void listBranchDelete();
    void errors_data();
    void errors();
    void defaultLocationIsTheDataDirectory();
    void simulate_data();
    void simulate();
    void simulateInterrupted_data() { addBackends(); }
    void simulateInterrupted();
    void simulateCutShortStillLoads_data() { addBackends(); }
    void simulateCutShortStillLoads();
    void simulateThenServe_data() { addBackends(); }
    void simulateThenServe();
    void simulateErrors_data();
    void simulateErrors();

private:
    void addBackends();
    /// `hexsphere-server world <arguments> --database <database>`.
    Run world(const QStringList &arguments, const QString &database,
              const QProcessEnvironment &environment = QProcessEnvironment::systemEnvironment());
    QString databaseFor(const QString &backend);
    /// Opens the world `name` in `database` through the store API on a connection of its
    /// own; null, with the reason in `error` (and a warning), when it does not open.
    std::unique_ptr<WorldStore> openStore(const QString &database, const QString &name,
                                          QString *error = nullptr);
    /// Creates `name` through the store API: 2 players, ticks up to `ticks`.
    bool createWorld(const QString &database, const QString &name, int ticks);
    /// The line of `world list` output that starts with `name`.
    static QString lineOf(const QString &listing, const QString &name);
    /// Creates `name` as a server would, with a real world of n=16: generated and saved
    /// at tick 0, then 60 steps of players joining and building (tests/server/
    /// scriptedworld.h) in the event log only, so that loading it replays them. Returns
    /// the world as it is at tick 60, or null.
    std::unique_ptr<sim::World> createPlayedWorld(const QString &database, const QString &name);
    /// The world `name` rebuilt from the store with the store API and statecodec alone
    /// (not the code under test): newest snapshot, then its events replayed, stepping on
    /// `threads` threads. Null, with a warning, when it does not load.
    std::unique_ptr<sim::World> loadInTest(const QString &database, const QString &name,
                                           int threads, WorldSummary *summary = nullptr);
    /// Every file under a SQLite world directory with a hash of its bytes; for PostgreSQL
    /// the summary of every world. What must not change when a command is refused.
    QStringList storeFingerprint(const QString &database);

    PostgresServer m_pg;
    QTemporaryDir m_dir;
    int m_serial = 0;
};

void tst_WorldCli::initTestCase()
{
    QVERIFY(QFile::exists(QStringLiteral(HEX_BIN_DIR "/hexsphere-server")));
    QVERIFY(m_dir.isValid());
    // Servers and commands started here never see the user's own worlds.
    qputenv("XDG_DATA_HOME", m_dir.filePath(QStringLiteral("data")).toUtf8());
    QVERIFY2(m_pg.start(), qPrintable(m_pg.errorString()));
}

void tst_WorldCli::addBackends()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("SQLite") << QStringLiteral("sqlite");
    QTest::newRow("PostgreSQL") << QStringLiteral("postgresql");
}

Run tst_WorldCli::world(const QStringList &arguments, const QString &database,
                        const QProcessEnvironment &environment)
{
    QProcess process;
    process.setProcessEnvironment(environment);
    QStringList all{QStringLiteral("world")};
    all += arguments;
    if (!database.isEmpty())
        all << QStringLiteral("--database") << database;
    process.start(QStringLiteral(HEX_BIN_DIR "/hexsphere-server"), all);
    Run run;
    if (!process.waitForFinished(60'000)) {
        process.kill();
        process.waitForFinished();
        run.err = QStringLiteral("did not finish");
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

QString tst_WorldCli::databaseFor(const QString &backend)
{
    // Each test its own worlds: a directory, or a world-name prefix in the one database.
    if (backend == QStringLiteral("sqlite"))
        return QStringLiteral("sqlite:") + m_dir.filePath(QStringLiteral("w%1").arg(++m_serial));
    return m_pg.url();
}

std::unique_ptr<WorldStore> tst_WorldCli::openStore(const QString &database, const QString &name,
                                                    QString *error)
{
    QString why;
    const auto location = StoreLocation::parse(database);
    std::unique_ptr<WorldStore> store;
    if (!location)
        why = location.error();
    else
        store = WorldStore::open(*location, name, QStringLiteral("cli-%1").arg(++m_serial), &why);
    if (!store)
        qWarning("%s", qPrintable(why));
    if (error)
        *error = why;
    return store;
}

bool tst_WorldCli::createWorld(const QString &database, const QString &name, int ticks)
{
    auto store = openStore(database, name);
    if (!store)
        return false;
    if (!store->create({name, 77, 16, QStringLiteral("c1")}))
        return false;
    if (!store->writeChunks(std::vector<ChunkRecord>{{0, 0, "cells"}})
        || !store->commitSnapshot({0, 1000, "m", "p"}))
        return false;
    std::vector<TickRecord> records;
    for (int t = 1; t <= ticks; ++t)
        records.push_back(someTick(std::uint64_t(t)));
    return store->appendTicks(records)
           && store->savePlayers(
               std::vector<PlayerRecord>{{QStringLiteral("Ada"), {}, 0, {}, "{}", {}},
                                         {QStringLiteral("Bob"), {}, 1, {}, "{}", {}}});
}

std::unique_ptr<sim::World> tst_WorldCli::createPlayedWorld(const QString &database,
                                                            const QString &name)
{
    auto store = openStore(database, name);
    if (!store)
        return nullptr;
    const auto content = test::shippedContent();
    auto world = std::make_unique<sim::World>(std::make_shared<const geometry::HexSphere>(16),
                                              content, 4242, 1);
    const FullSave save = encodeFullSave(*world, 2);
    const TickRecord first{world->state().tick, world->stateHash(), {}};
    if (!store->create({name, 4242, 16, content->version}) || !store->writeChunks(save.chunks)
        || !store->commitSnapshot(save.snapshot)
        || !store->appendTicks(std::vector<TickRecord>{first})) {
        qWarning("%s", qPrintable(store->errorString()));
        return nullptr;
    }
    world->addPlayer(QStringLiteral("Ada"));
    world->addPlayer(QStringLiteral("Bo"));
    const test::Script script = test::makeScript(world->state(), world->content());
    std::vector<TickRecord> records;
    while (world->state().tick < 60) {
        script.queue(*world);
        const sim::StepResult step = world->step();
        records.push_back(tickRecord(step, world->state()));
    }
    if (!store->appendTicks(records)) {
        qWarning("%s", qPrintable(store->errorString()));
        return nullptr;
    }
    return world;
}

std::unique_ptr<sim::World> tst_WorldCli::loadInTest(const QString &database,
                                                     const QString &name, int threads,
                                                     WorldSummary *summary)
{
    auto store = openStore(database, name);
    if (!store)
        return nullptr;
    auto loaded = store->load();
    if (!loaded) {
        qWarning("%s", qPrintable(loaded.error()));
        return nullptr;
    }
    auto state = decodeSnapshotState(
        *loaded, std::make_shared<const geometry::HexSphere>(loaded->summary.subdivisions),
        *test::shippedContent());
    if (!state) {
        qWarning("%s", qPrintable(state.error()));
        return nullptr;
    }
    auto world
        = std::make_unique<sim::World>(std::move(*state), test::shippedContent(), threads);
    const auto hash = replayEvents(*world, loaded->events, loaded->summary.tick);
    if (!hash || *hash != loaded->summary.stateHash) {
        qWarning("the replay of %s failed", qPrintable(name));
        return nullptr;
    }
    if (summary)
        *summary = loaded->summary;
    return world;
}

QStringList tst_WorldCli::storeFingerprint(const QString &database)
{
    const auto location = StoreLocation::parse(database);
    QStringList lines;
    if (location->kind == StoreLocation::Kind::Sqlite) {
        const QDir dir(location->directory);
        for (const QString &file : dir.entryList(QDir::Files | QDir::Hidden, QDir::Name)) {
            QFile f(dir.filePath(file));
            if (!f.open(QIODevice::ReadOnly))
                return {QStringLiteral("cannot read ") + file};
            lines << file + QLatin1Char(' ')
                         + QString::fromLatin1(
                             QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256)
                                 .toHex());
        }
        return lines;
    }
    const auto worlds = WorldCatalog(*location).list();
    if (!worlds)
        return {worlds.error()};
    for (const WorldSummary &w : *worlds) {
        lines << QStringLiteral("%1 %2 %3 %4 %5")
                     .arg(w.name)
                     .arg(w.tick)
                     .arg(w.stateHash)
                     .arg(w.updatedAt.toString(Qt::ISODateWithMs))
                     .arg(w.players);
    }
    return lines;
}

QString tst_WorldCli::lineOf(const QString &listing, const QString &name)
{
    for (const QString &line : listing.split(QLatin1Char('\n'))) {
        if (line.startsWith(name + QStringLiteral("  ")))
            return line;
    }
    return {};
}

void tst_WorldCli::listBranchDelete()
{
    QFETCH(QString, backend);
    const QString database = databaseFor(backend);
    const QString origin = QStringLiteral("Origin %1").arg(++m_serial);
    const QString copy = origin + QStringLiteral(" copy");
    QVERIFY(createWorld(database, origin, 5));

    Run run = world({QStringLiteral("list")}, database);
    QCOMPARE(run.exitCode, 0);
    QVERIFY2(run.err.isEmpty(), qPrintable(run.err));
    QVERIFY(run.out.startsWith(QStringLiteral("NAME")));
    const QString line = lineOf(run.out, origin);
    QVERIFY2(!line.isEmpty(), qPrintable(run.out));
    // name, size n, seed, tick, players, updated, size on disk
    const QRegularExpression columns(
        QStringLiteral(
            "^%1\\s+16\\s+77\\s+5\\s+2\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\s+[0-9.]+ "
            "(B|KiB|MiB)$")
            .arg(QRegularExpression::escape(origin)));
    QVERIFY2(columns.match(line).hasMatch(), qPrintable(line));

    run = world({QStringLiteral("branch"), origin, copy}, database);
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QCOMPARE(run.out.trimmed(), QStringLiteral("Branched '%1' to '%2'.").arg(origin, copy));
    run = world({QStringLiteral("list")}, database);
    QCOMPARE(run.exitCode, 0);
    QVERIFY2(!lineOf(run.out, origin).isEmpty(), qPrintable(run.out));
    QVERIFY2(columns.pattern().size() > 0 && !lineOf(run.out, copy).isEmpty(), qPrintable(run.out));

    // The copy is independent: a step on it leaves the origin at tick 5.
    {
        const auto location = StoreLocation::parse(database);
        QString error;
        auto store = WorldStore::open(*location, copy, QStringLiteral("cli-copy"), &error);
        QVERIFY2(store, qPrintable(error));
        QCOMPARE(store->summary()->tick, 5u);
        QVERIFY(store->appendTicks(std::vector<TickRecord>{someTick(6), someTick(7)}));
    }
    run = world({QStringLiteral("list")}, database);
    QVERIFY2(
        QRegularExpression(QStringLiteral("\\s7\\s+2\\s")).match(lineOf(run.out, copy)).hasMatch(),
        qPrintable(run.out));
    QVERIFY2(QRegularExpression(QStringLiteral("\\s5\\s+2\\s"))
                 .match(lineOf(run.out, origin))
                 .hasMatch(),
             qPrintable(run.out));

    run = world({QStringLiteral("delete"), copy}, database);
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QCOMPARE(run.out.trimmed(), QStringLiteral("Deleted the world '%1'.").arg(copy));
    run = world({QStringLiteral("list")}, database);
    QCOMPARE(run.exitCode, 0);
    QVERIFY(lineOf(run.out, copy).isEmpty());
    QVERIFY(!lineOf(run.out, origin).isEmpty());
}

void tst_WorldCli::errors_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");
    for (const QString &backend : {QStringLiteral("sqlite"), QStringLiteral("postgresql")}) {
        const QByteArray b = backend.toUtf8();
        QTest::addRow("%s: branching an unknown world", b.constData())
            << backend << QStringList{"branch", "Nowhere", "Somewhere"} << "no world 'Nowhere'";
        QTest::addRow("%s: branching onto an existing world", b.constData())
            << backend << QStringList{"branch", "Here", "There"} << "'There' exists already";
        QTest::addRow("%s: a target name that is a path", b.constData())
            << backend << QStringList{"branch", "Here", "../evil"}
            << "'../evil' is not a valid world name";
        QTest::addRow("%s: deleting an unknown world", b.constData())
            << backend << QStringList{"delete", "Nowhere"} << "no world 'Nowhere'";
        QTest::addRow("%s: an unknown command", b.constData())
            << backend << QStringList{"rename", "Here"} << "Unknown command 'rename'.";
        QTest::addRow("%s: branch without a target", b.constData())
            << backend << QStringList{"branch", "Here"} << "'branch' takes a SOURCE and a TARGET";
        QTest::addRow("%s: nothing to do", b.constData())
            << backend << QStringList{} << "Say what to do";
    }
    QTest::addRow("a database URL without a database")
        << QString() << QStringList{"list", "--database", "postgresql://hex@127.0.0.1/"}
        << "names no database";
}

void tst_WorldCli::errors()
{
    QFETCH(QString, backend);
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);
    QString database;
    QStringList before;
    if (!backend.isEmpty()) {
        database = databaseFor(backend);
        // PostgreSQL: one database for every row, so the fixed names are made afresh.
        if (backend == QStringLiteral("postgresql")) {
            database = m_pg.url();
            // Here and There may exist from an earlier row: delete them first.
            (void)world({QStringLiteral("delete"), QStringLiteral("Here")}, database);
            (void)world({QStringLiteral("delete"), QStringLiteral("There")}, database);
        }
        QVERIFY(createWorld(database, QStringLiteral("Here"), 1));
        QVERIFY(createWorld(database, QStringLiteral("There"), 2));
        before = world({QStringLiteral("list")}, database).out.split(QLatin1Char('\n'));
    }
    const Run run = world(arguments, database);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(message), qPrintable(run.err));
    QVERIFY2(run.err.startsWith(QStringLiteral("hexsphere-server world: ")), qPrintable(run.err));
    QCOMPARE(run.err.count(QLatin1Char('\n')), 1); // one line
    QVERIFY(run.out.isEmpty());
    if (!backend.isEmpty()) {
        // Nothing changed.
        const QStringList after
            = world({QStringLiteral("list")}, database).out.split(QLatin1Char('\n'));
        QCOMPARE(after, before);
    }
}

void tst_WorldCli::defaultLocationIsTheDataDirectory()
{
    QTemporaryDir home;
    QVERIFY(home.isValid());
    const QString worlds = home.filePath(QStringLiteral("hexsphere/worlds"));
    QVERIFY(createWorld(QStringLiteral("sqlite:") + worlds, QStringLiteral("Home"), 3));
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("XDG_DATA_HOME"), home.path());
    Run run = world({QStringLiteral("list")}, QString(), environment);
    QCOMPARE(run.exitCode, 0);
    QVERIFY2(!lineOf(run.out, QStringLiteral("Home")).isEmpty(), qPrintable(run.out));
    run = world({QStringLiteral("branch"), QStringLiteral("Home"), QStringLiteral("Away")},
                QString(), environment);
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QVERIFY(QFile::exists(worlds + QStringLiteral("/Away.hexworld")));
    // The same directory given explicitly lists the same.
    run = world({QStringLiteral("list")}, QStringLiteral("sqlite:") + worlds);
    QVERIFY(!lineOf(run.out, QStringLiteral("Away")).isEmpty());
    // Listing leaves no -wal or -shm files behind.
    QCOMPARE(QDir(worlds).entryList(QDir::Files, QDir::Name),
             (QStringList{QStringLiteral("Away.hexworld"), QStringLiteral("Home.hexworld")}));
}

namespace {

/// "simulate: tick 1200/5000 (24%), 812 ticks/s, eta 5 s"
const QRegularExpression kProgressLine(
    QStringLiteral(R"(^simulate: tick (\d+)/(\d+) \((\d+)%\), (\d+) ticks/s, eta (\d+) s$)"));

struct Progress
{
    std::uint64_t done = 0;
    std::uint64_t total = 0;
    int percent = 0;
};

std::vector<Progress> progressLines(const QString &err)
{
    std::vector<Progress> lines;
    for (const QString &line : err.split(QLatin1Char('\n'))) {
        const auto m = kProgressLine.match(line);
        if (m.hasMatch())
            lines.push_back({m.captured(1).toULongLong(), m.captured(2).toULongLong(),
                             m.captured(3).toInt()});
    }
    return lines;
}

std::uint64_t hexHash(const QString &text)
{
    bool ok = false;
    const std::uint64_t hash = text.toULongLong(&ok, 16);
    return ok ? hash : 0;
}

} // namespace

void tst_WorldCli::simulate_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<int>("workers");
    QTest::newRow("SQLite, 2 compute workers") << QStringLiteral("sqlite") << 2;
    QTest::newRow("SQLite, threads (--workers 0)") << QStringLiteral("sqlite") << 0;
    QTest::newRow("PostgreSQL, 2 compute workers") << QStringLiteral("postgresql") << 2;
    QTest::newRow("PostgreSQL, threads (--workers 0)") << QStringLiteral("postgresql") << 0;
}

void tst_WorldCli::simulate()
{
    QFETCH(QString, backend);
    QFETCH(int, workers);
    const QString database = databaseFor(backend);
    const QString name = QStringLiteral("Sim %1").arg(++m_serial);
    QVERIFY(createPlayedWorld(database, name));
    // The expected result, computed here from the saved world: loaded with the store API,
    // 300 ticks on two threads.
    auto expected = loadInTest(database, name, 2);
    QVERIFY(expected);
    QCOMPARE(expected->state().tick, 60u);
    QCOMPARE(expected->state().players.size(), std::size_t(3));
    expected->simulate(300);

    QElapsedTimer timer;
    timer.start();
    const Run run = world({QStringLiteral("simulate"), name, QStringLiteral("300"),
                           QStringLiteral("--workers"), QString::number(workers)},
                          database);
    const qint64 seconds = timer.elapsed() / 1000;
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QVERIFY2(run.err.contains(QStringLiteral("world '%1' loaded at tick 60").arg(name)),
             qPrintable(run.err));
    QVERIFY2(run.err.contains(workers == 2 ? QStringLiteral("2 compute workers")
                                           : QStringLiteral("no compute workers")),
             qPrintable(run.err));
    QVERIFY2(!run.err.contains(QStringLiteral("did not start")), qPrintable(run.err));

    // Progress: ascending, at most one line per 1 % (plus one a second), ending at 100 %.
    const std::vector<Progress> lines = progressLines(run.err);
    QVERIFY2(lines.size() >= 2, qPrintable(run.err));
    QVERIFY2(lines.size() <= std::size_t(101 + seconds), qPrintable(run.err));
    for (std::size_t i = 0; i < lines.size(); ++i) {
        QCOMPARE(lines[i].total, 300u);
        QCOMPARE(lines[i].percent, int(lines[i].done * 100 / 300));
        if (i > 0) {
            QVERIFY2(lines[i].done > lines[i - 1].done, qPrintable(run.err));
            QVERIFY2(lines[i].percent >= lines[i - 1].percent, qPrintable(run.err));
        }
    }
    QCOMPARE(lines.back().done, 300u);
    QCOMPARE(lines.back().percent, 100);

    // The summary: ticks, time, rate, the tick now and the state hash, on stdout.
    const QRegularExpression summary(
        QStringLiteral(R"(^Simulated 300 ticks of '%1' in [0-9]+\.[0-9]{2} s \((\d+) ticks/s\); )"
                       R"(saved at tick (\d+), state hash ([0-9a-f]{16})\.\n$)")
            .arg(QRegularExpression::escape(name)));
    const auto match = summary.match(run.out);
    QVERIFY2(match.hasMatch(), qPrintable(run.out));
    QCOMPARE(match.captured(2).toULongLong(), 360u);
    QCOMPARE(hexHash(match.captured(3)), expected->stateHash());

    // Saved whole: the store's tick and hash advanced, and its newest snapshot is the
    // state computed here, cell for cell.
    WorldSummary saved;
    auto reloaded = loadInTest(database, name, 1, &saved);
    QVERIFY(reloaded);
    QCOMPARE(saved.tick, 360u);
    QCOMPARE(saved.stateHash, expected->stateHash());
    {
        // Every layer, machine and player (the sphere is a different object of the same n).
        sim::WorldState state = reloaded->state();
        QCOMPARE(state.sphere->subdivisions(), expected->state().sphere->subdivisions());
        state.sphere = expected->state().sphere;
        QVERIFY(state == expected->state());
    }
    QCOMPARE(reloaded->fullStateHash(), expected->fullStateHash());
    {
        QString error;
        auto store = openStore(database, name, &error);
        QVERIFY2(store, qPrintable(error));
        const auto loaded = store->load();
        QVERIFY(loaded);
        QCOMPARE(loaded->snapshot.tick, 360u);
        QVERIFY(loaded->events.empty());
    }

    // And the command itself loads it again, with the checks a server makes.
    const Run again = world({QStringLiteral("simulate"), name, QStringLiteral("1"),
                             QStringLiteral("--workers"), QString::number(workers)},
                            database);
    QVERIFY2(again.exitCode == 0, qPrintable(again.err));
    QVERIFY2(again.err.contains(QStringLiteral("loaded at tick 360")), qPrintable(again.err));
    expected->simulate(1);
    QVERIFY2(again.out.contains(QStringLiteral("saved at tick 361, state hash %1.")
                                    .arg(expected->stateHash(), 16, 16, QLatin1Char('0'))),
             qPrintable(again.out));
}

void tst_WorldCli::simulateInterrupted()
{
    QFETCH(QString, backend);
    const QString database = databaseFor(backend);
    const QString name = QStringLiteral("Long %1").arg(++m_serial);
    QVERIFY(createPlayedWorld(database, name));
    auto expected = loadInTest(database, name, 2);
    QVERIFY(expected);

    QProcess process;
    process.start(QStringLiteral(HEX_BIN_DIR "/hexsphere-server"),
                  {QStringLiteral("world"), QStringLiteral("simulate"), name,
                   QStringLiteral("10000000"), QStringLiteral("--workers"), QStringLiteral("2"),
                   QStringLiteral("--database"), database});
    QVERIFY(process.waitForStarted());
    // Ctrl-C once a few progress lines show it running.
    QString err;
    QElapsedTimer timer;
    timer.start();
    while (progressLines(err).size() < 3 && timer.elapsed() < 60'000
           && process.state() == QProcess::Running) {
        process.waitForReadyRead(100);
        err += QString::fromUtf8(process.readAllStandardError());
    }
    QVERIFY2(progressLines(err).size() >= 3, qPrintable(err));
    QCOMPARE(::kill(pid_t(process.processId()), SIGINT), 0);
    QVERIFY(process.waitForFinished(60'000));
    err += QString::fromUtf8(process.readAllStandardError());
    const QString out = QString::fromUtf8(process.readAllStandardOutput());
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 128 + SIGINT);
    QVERIFY2(err.contains(QStringLiteral("signal 2 received: stopped at tick")), qPrintable(err));

    const QRegularExpression summary(
        QStringLiteral(R"(^Interrupted: simulated (\d+) of 10000000 ticks of '%1' in [0-9.]+ s )"
                       R"(\(\d+ ticks/s\); saved at tick (\d+), state hash ([0-9a-f]{16})\.\n$)")
            .arg(QRegularExpression::escape(name)));
    const auto match = summary.match(out);
    QVERIFY2(match.hasMatch(), qPrintable(out + err));
    const std::uint64_t done = match.captured(1).toULongLong();
    QVERIFY(done > 0 && done < 10'000'000);
    QVERIFY(done >= progressLines(err).back().done);
    QCOMPARE(match.captured(2).toULongLong(), 60 + done);

    // What ran was saved, at a tick boundary: the same as `done` ticks computed here.
    expected->simulate(done);
    QCOMPARE(hexHash(match.captured(3)), expected->stateHash());
    WorldSummary saved;
    auto reloaded = loadInTest(database, name, 1, &saved);
    QVERIFY(reloaded);
    QCOMPARE(saved.tick, 60 + done);
    QCOMPARE(reloaded->fullStateHash(), expected->fullStateHash());
}

void tst_WorldCli::simulateCutShortStillLoads()
{
    // A save of `simulate` killed after its first steps: the tick advanced and half the
    // chunks written, no snapshot. The world must still load, to the simulated state.
    QFETCH(QString, backend);
    const QString database = databaseFor(backend);
    const QString name = QStringLiteral("Cut %1").arg(++m_serial);
    auto expected = createPlayedWorld(database, name);
    QVERIFY(expected);
    expected->simulate(300);
    {
        QString error;
        auto store = openStore(database, name, &error);
        QVERIFY2(store, qPrintable(error));
        const TickRecord last{expected->state().tick, expected->stateHash(), {}};
        QVERIFY(store->appendTicks(std::vector<TickRecord>{last}));
        const FullSave save = encodeFullSave(*expected, 2);
        QVERIFY(store->writeChunks(
            std::span<const ChunkRecord>(save.chunks).first(save.chunks.size() / 2)));
    }
    const Run run = world({QStringLiteral("simulate"), name, QStringLiteral("1")}, database);
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    // From the snapshot of tick 0: its events, then 300 ticks without any.
    QVERIFY2(run.err.contains(QStringLiteral("loaded at tick 360 ")), qPrintable(run.err));
    QVERIFY2(run.err.contains(QStringLiteral("(snapshot at tick 0, ")), qPrintable(run.err));
    expected->simulate(1);
    QVERIFY2(run.out.contains(QStringLiteral("saved at tick 361, state hash %1.")
                                  .arg(expected->stateHash(), 16, 16, QLatin1Char('0'))),
             qPrintable(run.out));
    auto reloaded = loadInTest(database, name, 1);
    QVERIFY(reloaded);
    QCOMPARE(reloaded->fullStateHash(), expected->fullStateHash());
}

void tst_WorldCli::simulateThenServe()
{
    QFETCH(QString, backend);
    const QString database = databaseFor(backend);
    const QString name = QStringLiteral("Served %1").arg(++m_serial);
    QVERIFY(createPlayedWorld(database, name));
    Run run = world({QStringLiteral("simulate"), name, QStringLiteral("100")}, database);
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const auto match = QRegularExpression(QStringLiteral("state hash ([0-9a-f]{16})"))
                           .match(run.out);
    QVERIFY2(match.hasMatch(), qPrintable(run.out));

    // A server started afterwards resumes at the new tick with the same hash.
    hex::tests::KillableServer server;
    QVERIFY2(server.start({QStringLiteral("--world"), name, QStringLiteral("--database"),
                           database, QStringLiteral("--size"), QStringLiteral("16")}),
             qPrintable(server.output()));
    const auto load = hex::tests::findLoadLine(server.output());
    QVERIFY2(load, qPrintable(server.output()));
    QCOMPARE(load->tick, 160u);
    QCOMPARE(load->snapshotTick, 160u);
    QCOMPARE(load->eventsReplayed, 0u);
    QCOMPARE(load->stateHash, hexHash(match.captured(1)));

    // While it runs the world, simulate refuses it and leaves it alone.
    run = world({QStringLiteral("simulate"), name, QStringLiteral("100")}, database);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(QStringLiteral("is in use")), qPrintable(run.err));
    QVERIFY2(run.err.contains(QStringLiteral("Stop the server that runs it first.")),
             qPrintable(run.err));
    QCOMPARE(run.err.count(QLatin1Char('\n')), 1);
    QVERIFY(run.out.isEmpty());
    QCOMPARE(server.terminate(), 0);
}

void tst_WorldCli::simulateErrors_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");
    const QString range = QStringLiteral("TICKS must be a whole number from 1 to 10000000, not ");
    for (const QString &backend : {QStringLiteral("sqlite"), QStringLiteral("postgresql")}) {
        const QByteArray b = backend.toUtf8();
        QTest::addRow("%s: simulating an unknown world", b.constData())
            << backend << QStringList{"simulate", "Nowhere", "10"} << "There is no world 'Nowhere'";
        QTest::addRow("%s: zero ticks", b.constData())
            << backend << QStringList{"simulate", "Here", "0"} << range + "'0'.";
        QTest::addRow("%s: negative ticks", b.constData())
            << backend << QStringList{"simulate", "Here", "-5"} << range + "'-5'.";
        QTest::addRow("%s: ticks that are not a number", b.constData())
            << backend << QStringList{"simulate", "Here", "abc"} << range + "'abc'.";
        QTest::addRow("%s: more ticks than allowed", b.constData())
            << backend << QStringList{"simulate", "Here", "10000001"} << range + "'10000001'.";
        QTest::addRow("%s: no ticks", b.constData())
            << backend << QStringList{"simulate", "Here"}
            << "'simulate' takes the NAME of one world and a number of TICKS.";
        QTest::addRow("%s: a bad worker count", b.constData())
            << backend << QStringList{"simulate", "Here", "10", "--workers", "many"}
            << "--workers must be \"auto\" or 0..16, not 'many'.";
    }
}

void tst_WorldCli::simulateErrors()
{
    QFETCH(QString, backend);
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);
    const QString database = databaseFor(backend);
    if (backend == QStringLiteral("postgresql"))
        (void)world({QStringLiteral("delete"), QStringLiteral("Here")}, database);
    QVERIFY(createPlayedWorld(database, QStringLiteral("Here")));
    const QStringList before = storeFingerprint(database);
    QVERIFY(!before.isEmpty());
    const Run run = world(arguments, database);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(message), qPrintable(run.err));
    QVERIFY2(run.err.startsWith(QStringLiteral("hexsphere-server world: ")), qPrintable(run.err));
    QCOMPARE(run.err.count(QLatin1Char('\n')), 1); // one line
    QVERIFY(run.out.isEmpty());
    QCOMPARE(storeFingerprint(database), before);
}

QTEST_GUILESS_MAIN(tst_WorldCli)
#include "tst_worldcli.moc"
