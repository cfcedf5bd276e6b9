// `hexsphere-server world list|branch|delete` as a user runs it, against SQLite files and a
// real PostgreSQL server.
#include "persistence/worldstore.h"

#include "support/postgresserver.h"

#include <QDir>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

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

private:
    void addBackends();
    /// `hexsphere-server world <arguments> --database <database>`.
    Run world(const QStringList &arguments, const QString &database,
              const QProcessEnvironment &environment = QProcessEnvironment::systemEnvironment());
    QString databaseFor(const QString &backend);
    /// Creates `name` through the store API: 2 players, ticks up to `ticks`.
    bool createWorld(const QString &database, const QString &name, int ticks);
    /// The line of `world list` output that starts with `name`.
    static QString lineOf(const QString &listing, const QString &name);

    PostgresServer m_pg;
    QTemporaryDir m_dir;
    int m_serial = 0;
};

void tst_WorldCli::initTestCase()
{
    QVERIFY(QFile::exists(QStringLiteral(HEX_BIN_DIR "/hexsphere-server")));
    QVERIFY(m_dir.isValid());
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

bool tst_WorldCli::createWorld(const QString &database, const QString &name, int ticks)
{
    const auto location = StoreLocation::parse(database);
    if (!location)
        return false;
    QString error;
    auto store
        = WorldStore::open(*location, name, QStringLiteral("cli-%1").arg(++m_serial), &error);
    if (!store) {
        qWarning("%s", qPrintable(error));
        return false;
    }
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

QTEST_GUILESS_MAIN(tst_WorldCli)
#include "tst_worldcli.moc"
