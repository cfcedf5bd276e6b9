// WorldStore and WorldCatalog against SQLite files and a real PostgreSQL server.
#include "persistence/worldstore.h"

#include "support/postgresserver.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTemporaryDir>
#include <QTest>

using namespace hex::server::persistence;
using hex::sim::ActionKind;
using hex::sim::RejectReason;

namespace {

/// The bytes of a file, to show a refused open wrote nothing.
QByteArray fileHash(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256);
}

QByteArray someBytes(int size, quint32 seed)
{
    QRandomGenerator random(seed);
    QByteArray bytes(size, Qt::Uninitialized);
    for (char &b : bytes)
        b = char(random.bounded(256));
    return bytes;
}

/// `count` events of one tick: a join first, then actions with every field set.
std::vector<EventRecord> someEvents(std::uint64_t tick, int count)
{
    std::vector<EventRecord> events;
    for (int i = 0; i < count; ++i) {
        EventRecord e;
        e.tick = tick;
        e.seq = std::uint32_t(i);
        if (i == 0) {
            e.kind = EventRecord::Kind::Join;
            e.player = hex::sim::PlayerId(tick % 7);
            // Quotes, a backslash, braces and commas: names travel inside array literals too.
            e.name = QStringLiteral("Ada \"q\" \\ {a,b} NULL l'ingénieure %1").arg(tick);
        } else {
            e.kind = EventRecord::Kind::Action;
            e.player = hex::sim::PlayerId(i % 5);
            e.action.kind = ActionKind(i % 7);
            e.action.player = e.player;
            e.action.clientSeq = 4'000'000'000u + std::uint32_t(i);
            e.action.cell = 163'841u - std::uint32_t(i);
            e.action.prototype = hex::sim::PrototypeId(i % 9);
            e.action.orientation = std::uint8_t(i % 6);
            e.action.recipe = i % 3 == 0 ? hex::sim::kNoRecipe : hex::sim::RecipeId(i);
            e.action.items = {hex::sim::ItemId(i % 11), std::uint16_t(i * 3)};
            e.result = RejectReason(i % 21);
        }
        events.push_back(e);
    }
    return events;
}

TickRecord tickRecord(std::uint64_t tick, int events)
{
    return {tick, 0xF00D'0000'0000'0000ull + tick, someEvents(tick, events)};
}

bool samePlayer(const PlayerRecord &a, const PlayerRecord &b)
{
    return a.name == b.name && a.passwordHash == b.passwordHash && a.player == b.player
           && a.view == b.view && a.inventory == b.inventory && a.lastSeen == b.lastSeen;
}

} // namespace

class tst_WorldStore : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void migrationsAppliedAndRecorded_data() { addBackends(); }
    void migrationsAppliedAndRecorded();
    void newerSchemaRefused_data() { addBackends(); }
    void newerSchemaRefused();
    void foreignSchemaRefused_data() { addBackends(); }
    void foreignSchemaRefused();
    void damagedFileRefused_data();
    void damagedFileRefused();
    void createExistsSummary_data() { addBackends(); }
    void createExistsSummary();
    void roundTripThroughLoad_data() { addBackends(); }
    void roundTripThroughLoad();
    void snapshotSupersedesOlderChunks_data() { addBackends(); }
    void snapshotSupersedesOlderChunks();
    void appendTicksIsAllOrNothing_data() { addBackends(); }
    void appendTicksIsAllOrNothing();
    void eventsInRange_data() { addBackends(); }
    void eventsInRange();
    void playersByNameIgnoringCase_data() { addBackends(); }
    void playersByNameIgnoringCase();
    void tokenKeyKeptOnce_data() { addBackends(); }
    void tokenKeyKeptOnce();
    void branchIsAnIndependentCopy_data() { addBackends(); }
    void branchIsAnIndependentCopy();
    void branchRefusals_data() { addBackends(); }
    void branchRefusals();
    void removeDeletesEverything_data() { addBackends(); }
    void removeDeletesEverything();
    void listShowsEveryWorld_data() { addBackends(); }
    void listShowsEveryWorld();
    void listSurvivesABrokenFile();
    void parseLocations_data();
    void parseLocations();
    void fullSaveTiming_data() { addBackends(); }
    void fullSaveTiming();
    // Last: it stops and restarts the PostgreSQL server.
    void postgresConnectionLost();

private:
    void addBackends();
    /// A location of its own for each test: a directory, or a fresh PostgreSQL database.
    StoreLocation freshLocation(const QString &backend);
    std::unique_ptr<WorldStore> openStore(const StoreLocation &location, const QString &world);
    std::unique_ptr<WorldStore> createWorld(const StoreLocation &location, const QString &world);
    /// A plain Qt Sql connection to where `world` lives, to look behind the store's back.
    QSqlDatabase rawConnection(const StoreLocation &location, const QString &world);
    QList<QStringList> rows(const StoreLocation &location, const QString &world,
                            const QString &sql);
    void execRaw(const StoreLocation &location, const QString &world, const QString &sql);

    PostgresServer m_pg;
    QTemporaryDir m_dir;
    int m_serial = 0;
};

void tst_WorldStore::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY2(m_pg.start(), qPrintable(m_pg.errorString()));
    QVERIFY(WorldStore::schemaVersion() >= 1);
}

void tst_WorldStore::addBackends()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("SQLite") << QStringLiteral("sqlite");
    QTest::newRow("PostgreSQL") << QStringLiteral("postgresql");
}

StoreLocation tst_WorldStore::freshLocation(const QString &backend)
{
    const QString name = QStringLiteral("t%1").arg(++m_serial);
    if (backend == QStringLiteral("sqlite")) {
        const QString dir = m_dir.filePath(name);
        auto location = StoreLocation::parse(QStringLiteral("sqlite:") + dir);
        Q_ASSERT(location);
        return *location;
    }
    {
        QSqlDatabase admin
            = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), QStringLiteral("admin"));
        admin.setHostName(QStringLiteral("127.0.0.1"));
        admin.setPort(m_pg.port());
        admin.setUserName(QStringLiteral("hex"));
        admin.setDatabaseName(m_pg.databaseName());
        if (!admin.open())
            qFatal("cannot reach the test server: %s", qPrintable(admin.lastError().text()));
        QSqlQuery query(admin);
        if (!query.exec(QStringLiteral("CREATE DATABASE %1").arg(name)))
            qFatal("CREATE DATABASE failed: %s", qPrintable(query.lastError().text()));
    }
    QSqlDatabase::removeDatabase(QStringLiteral("admin"));
    auto location = StoreLocation::parse(m_pg.url(name));
    Q_ASSERT(location);
    return *location;
}

std::unique_ptr<WorldStore> tst_WorldStore::openStore(const StoreLocation &location,
                                                      const QString &world)
{
    QString error;
    auto store
        = WorldStore::open(location, world, QStringLiteral("store-%1").arg(++m_serial), &error);
    if (!store)
        qWarning("open failed: %s", qPrintable(error));
    return store;
}

std::unique_ptr<WorldStore> tst_WorldStore::createWorld(const StoreLocation &location,
                                                        const QString &world)
{
    auto store = openStore(location, world);
    if (!store)
        return nullptr;
    if (!store->create({world, 0xFEDC'BA98'7654'3210ull, 16, QStringLiteral("content-3")})) {
        qWarning("create failed: %s", qPrintable(store->errorString()));
        return nullptr;
    }
    return store;
}

QSqlDatabase tst_WorldStore::rawConnection(const StoreLocation &location, const QString &world)
{
    const QString name = QStringLiteral("raw-%1").arg(++m_serial);
    QSqlDatabase db;
    if (location.kind == StoreLocation::Kind::Sqlite) {
        db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(QDir(location.directory).filePath(world + QStringLiteral(".hexworld")));
    } else {
        db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
        db.setHostName(location.host);
        db.setPort(location.port);
        db.setUserName(location.user);
        db.setDatabaseName(location.databaseName);
    }
    if (!db.open())
        qWarning("raw open failed: %s", qPrintable(db.lastError().text()));
    return db;
}

QList<QStringList> tst_WorldStore::rows(const StoreLocation &location, const QString &world,
                                        const QString &sql)
{
    QList<QStringList> result;
    QString connection;
    {
        QSqlDatabase db = rawConnection(location, world);
        connection = db.connectionName();
        QSqlQuery query(db);
        if (!query.exec(sql))
            qWarning("%s: %s", qPrintable(sql), qPrintable(query.lastError().text()));
        while (query.next()) {
            QStringList row;
            for (int i = 0; i < query.record().count(); ++i)
                row << query.value(i).toString();
            result << row;
        }
    }
    QSqlDatabase::removeDatabase(connection);
    return result;
}

void tst_WorldStore::execRaw(const StoreLocation &location, const QString &world,
                             const QString &sql)
{
    QString connection;
    {
        QSqlDatabase db = rawConnection(location, world);
        connection = db.connectionName();
        QSqlQuery query(db);
        if (!query.exec(sql))
            qWarning("%s: %s", qPrintable(sql), qPrintable(query.lastError().text()));
    }
    QSqlDatabase::removeDatabase(connection);
}

// --- schema ----------------------------------------------------------------------------

void tst_WorldStore::migrationsAppliedAndRecorded()
{
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    const QString migrations = QStringLiteral("SELECT version, name, applied_at FROM "
                                              "schema_migrations ORDER BY version");
    {
        auto store = openStore(location, QStringLiteral("Alpha"));
        QVERIFY(store);
        QCOMPARE(store->databaseSchemaVersion(), WorldStore::schemaVersion());
    }
    const auto first = rows(location, QStringLiteral("Alpha"), migrations);
    QCOMPARE(first.size(), WorldStore::schemaVersion());
    for (int i = 0; i < first.size(); ++i)
        QCOMPARE(first[i][0].toInt(), i + 1);
    QCOMPARE(first[0][1], QStringLiteral("initial"));
    {
        // A second open applies nothing: the records, times included, stay as they were.
        auto again = openStore(location, QStringLiteral("Alpha"));
        QVERIFY(again);
        QCOMPARE(again->databaseSchemaVersion(), WorldStore::schemaVersion());
    }
    QCOMPARE(rows(location, QStringLiteral("Alpha"), migrations), first);
    // Every table of the issue exists.
    for (const char *table : {"worlds", "chunks", "snapshots", "players", "events"}) {
        QCOMPARE(rows(location, QStringLiteral("Alpha"),
                      QStringLiteral("SELECT count(*) FROM %1").arg(QLatin1StringView(table))),
                 QList<QStringList>{{QStringLiteral("0")}});
    }
}

void tst_WorldStore::newerSchemaRefused()
{
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    {
        auto store = createWorld(location, QStringLiteral("Future"));
        QVERIFY(store);
    }
    execRaw(location, QStringLiteral("Future"),
            QStringLiteral("INSERT INTO schema_migrations (version, name, applied_at) VALUES "
                           "(5, 'from_the_future', '2030-01-01T00:00:00Z')"));
    const QString file = QDir(location.directory).filePath(QStringLiteral("Future.hexworld"));
    const QByteArray before = backend == QStringLiteral("sqlite") ? fileHash(file) : QByteArray();
    const auto worldsBefore = rows(location, QStringLiteral("Future"),
                                   QStringLiteral("SELECT name, updated_at FROM worlds"));

    QString error;
    auto store
        = WorldStore::open(location, QStringLiteral("Future"), QStringLiteral("future"), &error);
    QVERIFY(!store);
    const QString where = backend == QStringLiteral("sqlite") ? file : location.describe();
    QCOMPARE(error, QStringLiteral("%1 has schema version 5; this hexsphere-server knows up to %2. "
                                   "Use a newer hexsphere-server.")
                        .arg(where)
                        .arg(WorldStore::schemaVersion()));
    if (backend == QStringLiteral("sqlite"))
        QCOMPARE(fileHash(file), before);
    QCOMPARE(rows(location, QStringLiteral("Future"),
                  QStringLiteral("SELECT name, updated_at FROM worlds")),
             worldsBefore);
    QCOMPARE(rows(location, QStringLiteral("Future"),
                  QStringLiteral("SELECT count(*) FROM schema_migrations")),
             QList<QStringList>{{QString::number(WorldStore::schemaVersion() + 1)}});
}

void tst_WorldStore::foreignSchemaRefused()
{
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    QString file;
    if (backend == QStringLiteral("sqlite")) {
        QVERIFY(QDir().mkpath(location.directory));
        file = QDir(location.directory).filePath(QStringLiteral("Other.hexworld"));
    }
    execRaw(location, QStringLiteral("Other"),
            QStringLiteral("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)"));
    const QByteArray before = file.isEmpty() ? QByteArray() : fileHash(file);

    QString error;
    auto store
        = WorldStore::open(location, QStringLiteral("Other"), QStringLiteral("foreign"), &error);
    QVERIFY(!store);
    const QString where = file.isEmpty() ? location.describe() : file;
    QCOMPARE(error, QStringLiteral("%1 is not a Hexsphere world: it holds other tables (accounts) "
                                   "and no schema_migrations.")
                        .arg(where));
    if (!file.isEmpty())
        QCOMPARE(fileHash(file), before);
    // Nothing was created beside it.
    const QString tables
        = backend == QStringLiteral("sqlite")
              ? QStringLiteral("SELECT name FROM sqlite_master WHERE type = 'table'")
              : QStringLiteral("SELECT table_name FROM information_schema.tables "
                               "WHERE table_schema = 'public'");
    QCOMPARE(rows(location, QStringLiteral("Other"), tables),
             QList<QStringList>{{QStringLiteral("accounts")}});
}

void tst_WorldStore::damagedFileRefused_data()
{
    QTest::addColumn<QString>("damage");
    QTest::addColumn<QString>("expected");
    QTest::newRow("a truncated world file")
        << QStringLiteral("truncate") << QStringLiteral("is damaged: ");
    QTest::newRow("a file of random bytes") << QStringLiteral("garbage")
                                            << QStringLiteral("is not a Hexsphere world: file is "
                                                              "not a database.");
    QTest::newRow("a text file") << QStringLiteral("text")
                                 << QStringLiteral("is not a Hexsphere world: file is not a "
                                                   "database.");
}

void tst_WorldStore::damagedFileRefused()
{
    QFETCH(QString, damage);
    QFETCH(QString, expected);
    const StoreLocation location = freshLocation(QStringLiteral("sqlite"));
    const QString file = QDir(location.directory).filePath(QStringLiteral("Broken.hexworld"));
    if (damage == QStringLiteral("truncate")) {
        {
            auto store = createWorld(location, QStringLiteral("Broken"));
            QVERIFY(store);
            std::vector<ChunkRecord> chunks;
            for (std::uint32_t c = 0; c < 64; ++c)
                chunks.push_back({c, 0, someBytes(3000, c)});
            QVERIFY(store->writeChunks(chunks));
            QVERIFY(store->commitSnapshot({0, 1, someBytes(100, 1), someBytes(100, 2)}));
        }
        QVERIFY(!QFile::exists(file + QStringLiteral("-wal")));
        QFile f(file);
        QVERIFY(f.size() > 100'000);
        QVERIFY(f.resize(f.size() / 2));
    } else {
        QVERIFY(QDir().mkpath(location.directory));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(damage == QStringLiteral("garbage")
                    ? someBytes(8192, 7)
                    : QByteArray("This is my shopping list, not a world.\n").repeated(40));
    }
    const QByteArray before = fileHash(file);
    const qint64 sizeBefore = QFileInfo(file).size();

    QString error;
    auto store
        = WorldStore::open(location, QStringLiteral("Broken"), QStringLiteral("broken"), &error);
    QVERIFY(!store);
    QVERIFY2(error.startsWith(file + QLatin1Char(' ')), qPrintable(error));
    QVERIFY2(QRegularExpression(expected).match(error).hasMatch(), qPrintable(error));
    QCOMPARE(QFileInfo(file).size(), sizeBefore);
    QCOMPARE(fileHash(file), before);
}

// --- the world -------------------------------------------------------------------------

void tst_WorldStore::createExistsSummary()
{
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    auto store = openStore(location, QStringLiteral("New World"));
    QVERIFY(store);
    QVERIFY(!store->exists());
    QVERIFY(!store->summary());
    const QDateTime before = QDateTime::currentDateTimeUtc().addSecs(-1);
    QVERIFY2(store->create(
                 {QStringLiteral("New World"), 0xFFFF'FFFF'FFFF'FFF0ull, 24, QStringLiteral("v1")}),
             qPrintable(store->errorString()));
    QVERIFY(store->exists());
    const auto summary = store->summary();
    QVERIFY(summary);
    QCOMPARE(summary->name, QStringLiteral("New World"));
    QCOMPARE(summary->seed, 0xFFFF'FFFF'FFFF'FFF0ull);
    QCOMPARE(summary->subdivisions, 24);
    QCOMPARE(summary->tick, 0u);
    QCOMPARE(summary->contentVersion, QStringLiteral("v1"));
    QCOMPARE(summary->players, 0);
    QVERIFY(summary->bytes > 0);
    QVERIFY(summary->updatedAt >= before);
    QVERIFY(summary->updatedAt <= QDateTime::currentDateTimeUtc().addSecs(1));
    // Twice is refused, and says so.
    QVERIFY(!store->create({QStringLiteral("New World"), 1, 24, QStringLiteral("v1")}));
    QVERIFY2(store->errorString().contains(QStringLiteral("exists already")),
             qPrintable(store->errorString()));
    // A second store sees it.
    auto other = openStore(location, QStringLiteral("New World"));
    QVERIFY(other);
    QVERIFY(other->exists());
    // load() without a snapshot says why.
    const auto loaded = other->load();
    QVERIFY(!loaded);
    QVERIFY2(loaded.error().contains(QStringLiteral("no complete snapshot")),
             qPrintable(loaded.error()));
}

void tst_WorldStore::roundTripThroughLoad()
{
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    auto store = createWorld(location, QStringLiteral("Round"));
    QVERIFY(store);
    std::vector<ChunkRecord> chunks;
    for (std::uint32_t c = 0; c < 40; ++c)
        chunks.push_back({c, 10, someBytes(500 + int(c) * 37, c)});
    chunks[3].cells = QByteArray(""); // an empty blob is a value too
    QVERIFY2(store->writeChunks(chunks), qPrintable(store->errorString()));
    const SnapshotRecord snapshot{10, 0x8000'0000'0000'0001ull, someBytes(2000, 99),
                                  someBytes(300, 98)};
    QVERIFY2(store->commitSnapshot(snapshot), qPrintable(store->errorString()));
    std::vector<TickRecord> ticks;
    for (std::uint64_t t = 11; t <= 14; ++t)
        ticks.push_back(tickRecord(t, 10));
    ticks.push_back({15, 0x15, {}}); // a step with no events still advances the tick
    QVERIFY2(store->appendTicks(ticks), qPrintable(store->errorString()));
    const QDateTime seen = QDateTime::fromMSecsSinceEpoch(1'790'000'000'123, Qt::UTC);
    const std::vector<PlayerRecord> players{
        {QStringLiteral("Ada"), QByteArray("$argon2id$v=19$abc"), hex::sim::PlayerId(0),
         QByteArray("\x08\x01\x10\x02", 4), QByteArray(R"({"1": 40})"), seen},
        // A guest: no password, no id yet, no view, no inventory (null byte arrays).
        {QStringLiteral("guest-Bob"), std::nullopt, std::nullopt, QByteArray(), QByteArray(),
         QDateTime()},
    };
    QVERIFY2(store->savePlayers(players), qPrintable(store->errorString()));

    // A fresh connection reads it all back.
    store.reset();
    auto reopened = openStore(location, QStringLiteral("Round"));
    QVERIFY(reopened);
    const auto loaded = reopened->load();
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error()));
    QCOMPARE(loaded->summary.name, QStringLiteral("Round"));
    QCOMPARE(loaded->summary.tick, 15u);
    QCOMPARE(loaded->summary.stateHash, 0x15u);
    QCOMPARE(loaded->summary.players, 2);
    QCOMPARE(loaded->snapshot.tick, snapshot.tick);
    QCOMPARE(loaded->snapshot.stateHash, snapshot.stateHash);
    QCOMPARE(loaded->snapshot.machines, snapshot.machines);
    QCOMPARE(loaded->snapshot.players, snapshot.players);
    QCOMPARE(loaded->chunks.size(), chunks.size());
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        QCOMPARE(loaded->chunks[i].chunk, chunks[i].chunk);
        QCOMPARE(loaded->chunks[i].tick, chunks[i].tick);
        QCOMPARE(loaded->chunks[i].cells, chunks[i].cells);
    }
    std::vector<EventRecord> expected;
    for (const TickRecord &t : ticks)
        expected.insert(expected.end(), t.events.begin(), t.events.end());
    QCOMPARE(loaded->events.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
        QVERIFY2(loaded->events[i] == expected[i], qPrintable(QStringLiteral("event %1").arg(i)));

    const auto stored = reopened->players();
    QVERIFY(stored);
    QCOMPARE(stored->size(), 2u);
    QVERIFY(samePlayer((*stored)[0], players[0]));
    QVERIFY(samePlayer((*stored)[1], players[1]));
    QCOMPARE((*stored)[0].lastSeen, seen);
}

void tst_WorldStore::snapshotSupersedesOlderChunks()
{
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    auto store = createWorld(location, QStringLiteral("Layers"));
    QVERIFY(store);
    const auto cells = [](int c, int tick) {
        return QByteArray::number(c * 1000 + tick);
    };
    QVERIFY(store->writeChunks(
        std::vector<ChunkRecord>{{0, 0, cells(0, 0)}, {1, 0, cells(1, 0)}, {2, 0, cells(2, 0)}}));
    QVERIFY(store->commitSnapshot({0, 100, "m0", "p0"}));
    // A flush under way: chunk 0 changed at 5 and again at 12, chunk 1 at 8.
    QVERIFY(store->writeChunks(std::vector<ChunkRecord>{{0, 5, cells(0, 5)}, {1, 8, cells(1, 8)}}));
    QVERIFY(store->writeChunks(std::vector<ChunkRecord>{{0, 12, cells(0, 12)}}));
    // Before the next snapshot commits, the state is still the one of tick 0.
    auto loaded = store->load();
    QVERIFY(loaded);
    QCOMPARE(loaded->snapshot.tick, 0u);
    QCOMPARE(loaded->chunks.size(), 3u);
    QCOMPARE(loaded->chunks[0].cells, cells(0, 0));
    QCOMPARE(loaded->chunks[1].cells, cells(1, 0));

    QVERIFY(store->commitSnapshot({10, 110, "m10", "p10"}));
    loaded = store->load();
    QVERIFY(loaded);
    QCOMPARE(loaded->snapshot.tick, 10u);
    QCOMPARE(loaded->snapshot.machines, QByteArray("m10"));
    QCOMPARE(loaded->chunks.size(), 3u);
    QCOMPARE(loaded->chunks[0].tick, 5u);
    QCOMPARE(loaded->chunks[0].cells, cells(0, 5));
    QCOMPARE(loaded->chunks[1].cells, cells(1, 8));
    QCOMPARE(loaded->chunks[2].cells, cells(2, 0));
    const QString records = QStringLiteral("SELECT chunk, tick FROM chunks ORDER BY chunk, tick");
    // Superseded records are gone; the one of tick 12 belongs to the next save and stays.
    QCOMPARE(rows(location, QStringLiteral("Layers"), records),
             (QList<QStringList>{{"0", "5"}, {"0", "12"}, {"1", "8"}, {"2", "0"}}));
    QCOMPARE(rows(location, QStringLiteral("Layers"), QStringLiteral("SELECT tick FROM snapshots")),
             QList<QStringList>{{QStringLiteral("10")}});

    QVERIFY(store->commitSnapshot({12, 112, "m12", "p12"}));
    QCOMPARE(rows(location, QStringLiteral("Layers"), records),
             (QList<QStringList>{{"0", "12"}, {"1", "8"}, {"2", "0"}}));
    loaded = store->load();
    QVERIFY(loaded);
    QCOMPARE(loaded->chunks[0].cells, cells(0, 12));
}

void tst_WorldStore::appendTicksIsAllOrNothing()
{
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    auto store = createWorld(location, QStringLiteral("Atomic"));
    QVERIFY(store);
    QVERIFY(store->appendTicks(std::vector<TickRecord>{tickRecord(1, 3)}));

    // Tick 3 repeats a seq: the whole batch, tick 2 included, must not land.
    std::vector<TickRecord> batch{tickRecord(2, 4), tickRecord(3, 4)};
    batch[1].events[2].seq = batch[1].events[1].seq;
    QVERIFY(!store->appendTicks(batch));
    QVERIFY2(
        store->errorString().contains(QStringLiteral("cannot append the events of ticks 2..3")),
        qPrintable(store->errorString()));
    QVERIFY(!store->connectionLost());
    auto events = store->events(0, 100);
    QVERIFY(events);
    QCOMPARE(events->size(), 3u);
    QCOMPARE(store->summary()->tick, 1u);

    // Repeating an event already committed fails too, and changes nothing.
    QVERIFY(!store->appendTicks(std::vector<TickRecord>{tickRecord(1, 1)}));
    QCOMPARE(store->summary()->tick, 1u);
    QCOMPARE(store->summary()->stateHash, tickRecord(1, 0).stateHash);

    // The store is usable after a failure.
    QVERIFY2(store->appendTicks(std::vector<TickRecord>{tickRecord(2, 4), tickRecord(3, 4)}),
             qPrintable(store->errorString()));
    QCOMPARE(store->events(0, 100)->size(), 11u);
    QCOMPARE(store->summary()->tick, 3u);
}

void tst_WorldStore::eventsInRange()
{
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    auto store = createWorld(location, QStringLiteral("Log"));
    QVERIFY(store);
    std::vector<TickRecord> ticks;
    for (std::uint64_t t = 1; t <= 6; ++t)
        ticks.push_back(tickRecord(t, 3));
    QVERIFY(store->appendTicks(ticks));
    const auto middle = store->events(2, 4);
    QVERIFY(middle);
    QCOMPARE(middle->size(), 9u);
    for (std::size_t i = 0; i < middle->size(); ++i) {
        QCOMPARE((*middle)[i].tick, 2 + i / 3);
        QCOMPARE((*middle)[i].seq, std::uint32_t(i % 3));
        QVERIFY((*middle)[i] == ticks[1 + i / 3].events[i % 3]);
    }
    QCOMPARE(store->events(5, std::numeric_limits<std::uint64_t>::max())->size(), 6u);
    QCOMPARE(store->events(7, 9)->size(), 0u);
    QCOMPARE(store->events(4, 3)->size(), 0u);
}

void tst_WorldStore::playersByNameIgnoringCase()
{
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    auto store = createWorld(location, QStringLiteral("People"));
    QVERIFY(store);
    PlayerRecord ada{QStringLiteral("Ada"), QByteArray("hash1"), 3, {}, "{}", {}};
    QVERIFY(store->savePlayers(std::vector<PlayerRecord>{ada}));
    auto found = store->player(QStringLiteral("aDA"));
    QVERIFY(found);
    QCOMPARE(found->name, QStringLiteral("Ada"));
    QCOMPARE(found->player, std::optional<hex::sim::PlayerId>(3));
    // Saving "ADA" replaces Ada: one player per name regardless of case.
    PlayerRecord shouting{QStringLiteral("ADA"), std::nullopt, 4, "v", R"({"2": 1})", {}};
    QVERIFY(store->savePlayers(std::vector<PlayerRecord>{shouting}));
    QCOMPARE(store->players()->size(), 1u);
    found = store->player(QStringLiteral("ada"));
    QVERIFY(found);
    QVERIFY(samePlayer(*found, shouting));
    QVERIFY(!store->player(QStringLiteral("Grace")));
    QVERIFY(store->errorString().isEmpty());
}

void tst_WorldStore::tokenKeyKeptOnce()
{
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    auto store = createWorld(location, QStringLiteral("Keys"));
    QVERIFY(store);
    QVERIFY(!store->tokenKey(QByteArray()));
    const QByteArray first = someBytes(32, 1);
    const QByteArray second = someBytes(32, 2);
    QCOMPARE(store->tokenKey(first).value(), first);
    QCOMPARE(store->tokenKey(second).value(), first);
    auto reopened = openStore(location, QStringLiteral("Keys"));
    QVERIFY(reopened);
    QCOMPARE(reopened->tokenKey(second).value(), first);
    QCOMPARE(reopened->tokenKey(QByteArray()).value(), first);
}

// --- the catalogue ---------------------------------------------------------------------

void tst_WorldStore::branchIsAnIndependentCopy()
{
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    {
        // Another world beside it must not be copied along (PostgreSQL: one database).
        auto bystander = createWorld(location, QStringLiteral("Bystander"));
        QVERIFY(bystander);
        QVERIFY(bystander->appendTicks(std::vector<TickRecord>{tickRecord(1, 5)}));
    }
    auto source = createWorld(location, QStringLiteral("Main"));
    QVERIFY(source);
    std::vector<ChunkRecord> chunks;
    for (std::uint32_t c = 0; c < 10; ++c)
        chunks.push_back({c, 0, someBytes(1000, c)});
    QVERIFY(source->writeChunks(chunks));
    QVERIFY(source->commitSnapshot({0, 42, "machines", "players"}));
    QVERIFY(source->appendTicks(std::vector<TickRecord>{tickRecord(1, 4), tickRecord(2, 4)}));
    QVERIFY(source->savePlayers(
        std::vector<PlayerRecord>{{QStringLiteral("Ada"), QByteArray("h"), 0, "v", "{}", {}}}));
    QVERIFY(source->tokenKey(someBytes(32, 5)));
    const auto original = source->load();
    QVERIFY(original);

    WorldCatalog catalog(location);
    const auto branched = catalog.branch(QStringLiteral("Main"), QStringLiteral("Main try 2"));
    QVERIFY2(branched, qPrintable(branched ? QString() : branched.error()));
    QVERIFY(catalog.exists(QStringLiteral("Main try 2")));

    auto copy = openStore(location, QStringLiteral("Main try 2"));
    QVERIFY(copy);
    const auto copied = copy->load();
    QVERIFY(copied);
    QCOMPARE(copied->summary.name, QStringLiteral("Main try 2"));
    QCOMPARE(copied->summary.seed, original->summary.seed);
    QCOMPARE(copied->summary.tick, original->summary.tick);
    QCOMPARE(copied->summary.stateHash, original->summary.stateHash);
    QCOMPARE(copied->summary.players, 1);
    QCOMPARE(copied->snapshot.machines, original->snapshot.machines);
    QCOMPARE(copied->chunks.size(), original->chunks.size());
    for (std::size_t i = 0; i < chunks.size(); ++i)
        QCOMPARE(copied->chunks[i].cells, original->chunks[i].cells);
    QVERIFY(copied->events == original->events);
    QCOMPARE(copy->tokenKey({}).value(), source->tokenKey({}).value());
    QCOMPARE(copy->events(0, 10)->size(), 8u);

    // Writes to the branch stay there ...
    QVERIFY(copy->appendTicks(std::vector<TickRecord>{tickRecord(3, 2)}));
    QVERIFY(copy->writeChunks(std::vector<ChunkRecord>{{0, 3, "branch cells"}}));
    QVERIFY(copy->commitSnapshot({3, 43, "branch machines", "p"}));
    QVERIFY(
        copy->savePlayers(std::vector<PlayerRecord>{{QStringLiteral("Bob"), {}, 1, {}, "{}", {}}}));
    QCOMPARE(source->summary()->tick, 2u);
    QCOMPARE(source->events(0, 10)->size(), 8u);
    QCOMPARE(source->players()->size(), 1u);
    QCOMPARE(source->load()->snapshot.machines, QByteArray("machines"));
    QCOMPARE(source->load()->chunks[0].cells, chunks[0].cells);
    // ... and writes to the source stay there.
    QVERIFY(source->appendTicks(std::vector<TickRecord>{tickRecord(3, 6), tickRecord(4, 1)}));
    QCOMPARE(copy->events(0, 10)->size(), 10u);
    QCOMPARE(copy->summary()->tick, 3u);
    QCOMPARE(source->events(0, 10)->size(), 15u);
}

void tst_WorldStore::branchRefusals()
{
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    QVERIFY(createWorld(location, QStringLiteral("One")));
    QVERIFY(createWorld(location, QStringLiteral("Two")));
    WorldCatalog catalog(location);
    auto result = catalog.branch(QStringLiteral("Nope"), QStringLiteral("Three"));
    QVERIFY(!result);
    QVERIFY2(result.error().contains(QStringLiteral("no world 'Nope'")),
             qPrintable(result.error()));
    result = catalog.branch(QStringLiteral("One"), QStringLiteral("Two"));
    QVERIFY(!result);
    QVERIFY2(result.error().contains(QStringLiteral("'Two' exists already")),
             qPrintable(result.error()));
    result = catalog.branch(QStringLiteral("One"), QStringLiteral("../escape"));
    QVERIFY(!result);
    QVERIFY2(result.error().contains(QStringLiteral("not a valid world name")),
             qPrintable(result.error()));
    QVERIFY(!catalog.exists(QStringLiteral("Three")));
    QCOMPARE(catalog.list()->size(), 2u);
}

void tst_WorldStore::removeDeletesEverything()
{
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    {
        auto store = createWorld(location, QStringLiteral("Doomed"));
        QVERIFY(store);
        QVERIFY(store->writeChunks(std::vector<ChunkRecord>{{0, 0, "x"}}));
        QVERIFY(store->commitSnapshot({0, 1, "m", "p"}));
        QVERIFY(store->appendTicks(std::vector<TickRecord>{tickRecord(1, 3)}));
        QVERIFY(store->savePlayers(
            std::vector<PlayerRecord>{{QStringLiteral("Ada"), {}, 0, {}, "{}", {}}}));
    }
    QVERIFY(createWorld(location, QStringLiteral("Survivor")));
    WorldCatalog catalog(location);
    QVERIFY(catalog.exists(QStringLiteral("Doomed")));
    QVERIFY(catalog.remove(QStringLiteral("Doomed")));
    QVERIFY(!catalog.exists(QStringLiteral("Doomed")));
    QVERIFY(catalog.exists(QStringLiteral("Survivor")));
    const auto again = catalog.remove(QStringLiteral("Doomed"));
    QVERIFY(!again);
    QVERIFY2(again.error().contains(QStringLiteral("no world 'Doomed'")),
             qPrintable(again.error()));
    if (backend == QStringLiteral("sqlite")) {
        QCOMPARE(QDir(location.directory).entryList({QStringLiteral("Doomed*")}, QDir::Files),
                 QStringList());
    } else {
        // Every row went with it (cascade).
        for (const char *table : {"chunks", "snapshots", "players", "events"}) {
            QCOMPARE(rows(location, QString(),
                          QStringLiteral("SELECT count(*) FROM %1").arg(QLatin1StringView(table))),
                     QList<QStringList>{{QStringLiteral("0")}});
        }
    }
}

void tst_WorldStore::listShowsEveryWorld()
{
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    WorldCatalog catalog(location);
    QCOMPARE(catalog.list()->size(), 0u);
    {
        auto b = createWorld(location, QStringLiteral("Beta"));
        QVERIFY(b);
        QVERIFY(b->appendTicks(std::vector<TickRecord>{tickRecord(1, 2), tickRecord(2, 2)}));
        QVERIFY(b->savePlayers(
            std::vector<PlayerRecord>{{QStringLiteral("Ada"), {}, 0, {}, "{}", {}},
                                      {QStringLiteral("Bob"), {}, 1, {}, "{}", {}}}));
    }
    QVERIFY(createWorld(location, QStringLiteral("Alpha")));
    const auto worlds = catalog.list();
    QVERIFY2(worlds, qPrintable(worlds ? QString() : worlds.error()));
    QCOMPARE(worlds->size(), 2u);
    QCOMPARE((*worlds)[0].name, QStringLiteral("Alpha"));
    QCOMPARE((*worlds)[1].name, QStringLiteral("Beta"));
    QCOMPARE((*worlds)[1].tick, 2u);
    QCOMPARE((*worlds)[1].players, 2);
    QCOMPARE((*worlds)[1].subdivisions, 16);
    QCOMPARE((*worlds)[1].seed, 0xFEDC'BA98'7654'3210ull);
    QVERIFY((*worlds)[1].bytes > 0);
    QVERIFY((*worlds)[1].problem.isEmpty());
}

void tst_WorldStore::listSurvivesABrokenFile()
{
    const StoreLocation location = freshLocation(QStringLiteral("sqlite"));
    QVERIFY(createWorld(location, QStringLiteral("Good")));
    QFile broken(QDir(location.directory).filePath(QStringLiteral("Bad.hexworld")));
    QVERIFY(broken.open(QIODevice::WriteOnly));
    broken.write(someBytes(4096, 3));
    broken.close();
    const QByteArray before = fileHash(broken.fileName());
    const auto worlds = WorldCatalog(location).list();
    QVERIFY(worlds);
    QCOMPARE(worlds->size(), 2u);
    QCOMPARE((*worlds)[0].name, QStringLiteral("Bad"));
    QVERIFY2((*worlds)[0].problem.contains(QStringLiteral("is not a Hexsphere world")),
             qPrintable((*worlds)[0].problem));
    QCOMPARE((*worlds)[0].bytes, 4096);
    QCOMPARE((*worlds)[1].name, QStringLiteral("Good"));
    QVERIFY((*worlds)[1].problem.isEmpty());
    QCOMPARE(fileHash(broken.fileName()), before);
}

void tst_WorldStore::parseLocations_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("described");
    const int sqlite = int(StoreLocation::Kind::Sqlite);
    const int pg = int(StoreLocation::Kind::Postgresql);
    QTest::newRow("none keeps nothing") << "none" << int(StoreLocation::Kind::None) << "none";
    QTest::newRow("sqlite:DIR") << "sqlite:/srv/worlds" << sqlite << "/srv/worlds";
    QTest::newRow("a bare directory") << "/srv/worlds/" << sqlite << "/srv/worlds";
    QTest::newRow("a full URL, password hidden") << "postgresql://hex:s%40cret@db.example:6543/game"
                                                 << pg << "postgresql://hex@db.example:6543/game";
    QTest::newRow("postgres:// and the default port")
        << "postgres://ada@db/game" << pg << "postgresql://ada@db:5432/game";
    QTest::newRow("no database named") << "postgresql://ada@db:5432/" << -1 << "names no database";
    QTest::newRow("an unknown scheme") << "mysql://db/game" << -1 << "Unknown database";
    QTest::newRow("sqlite: without a directory") << "sqlite:" << -1 << "names no directory";
}

void tst_WorldStore::parseLocations()
{
    QFETCH(QString, text);
    QFETCH(int, kind);
    QFETCH(QString, described);
    const auto location = StoreLocation::parse(text);
    if (kind < 0) {
        QVERIFY(!location);
        QVERIFY2(location.error().contains(described), qPrintable(location.error()));
        return;
    }
    QVERIFY2(location, qPrintable(location ? QString() : location.error()));
    QCOMPARE(int(location->kind), kind);
    QCOMPARE(location->describe(), described);
    if (text.contains(QStringLiteral("s%40cret")))
        QCOMPARE(location->password, QStringLiteral("s@cret"));
}

void tst_WorldStore::fullSaveTiming()
{
    // The lead's figures: a full save of ~600 chunk records (~10 MB) well under a second,
    // one tick of ~100 events in a few milliseconds.
    QFETCH(QString, backend);
    const StoreLocation location = freshLocation(backend);
    auto store = createWorld(location, QStringLiteral("Big"));
    QVERIFY(store);
    std::vector<ChunkRecord> chunks;
    for (std::uint32_t c = 0; c < 600; ++c)
        chunks.push_back({c, 1, someBytes(16'000, c)});
    QElapsedTimer timer;
    timer.start();
    QVERIFY(store->writeChunks(chunks));
    QVERIFY(store->commitSnapshot({1, 1, someBytes(100'000, 1), someBytes(10'000, 2)}));
    const qint64 saveMs = timer.elapsed();
    timer.restart();
    const int rounds = 20;
    for (int i = 0; i < rounds; ++i)
        QVERIFY(store->appendTicks(std::vector<TickRecord>{tickRecord(2 + i, 100)}));
    const double tickMs = double(timer.nsecsElapsed()) / 1e6 / rounds;
    timer.restart();
    for (int i = 0; i < rounds; ++i)
        QVERIFY(store->appendTicks(std::vector<TickRecord>{tickRecord(2 + rounds + i, 1)}));
    const double smallTickMs = double(timer.nsecsElapsed()) / 1e6 / rounds;
    timer.restart();
    const auto loaded = store->load();
    QVERIFY(loaded);
    const qint64 loadMs = timer.elapsed();
    QCOMPARE(loaded->chunks.size(), 600u);
    QCOMPARE(loaded->events.size(), std::size_t(rounds) * 101);
    qInfo("%s: full save of 600 chunks (9.6 MB) %lld ms, one tick of 100 events %.2f ms, "
          "of 1 event %.2f ms, load %lld ms",
          qPrintable(backend), saveMs, tickMs, smallTickMs, loadMs);
    QVERIFY2(saveMs < 1000, qPrintable(QString::number(saveMs)));
}

void tst_WorldStore::postgresConnectionLost()
{
    const StoreLocation location = freshLocation(QStringLiteral("postgresql"));
    auto store = createWorld(location, QStringLiteral("Fragile"));
    QVERIFY(store);
    QVERIFY(store->appendTicks(std::vector<TickRecord>{tickRecord(1, 3)}));

    QVERIFY2(m_pg.stopServer(), qPrintable(m_pg.errorString()));
    QVERIFY(!store->appendTicks(std::vector<TickRecord>{tickRecord(2, 3)}));
    QVERIFY2(store->connectionLost(), qPrintable(store->errorString()));
    QVERIFY(store->errorString().startsWith(location.describe()));
    QVERIFY(!store->reconnect());
    QVERIFY(store->connectionLost());
    QVERIFY(!store->appendTicks(std::vector<TickRecord>{tickRecord(2, 3)}));
    QVERIFY(store->connectionLost());

    QVERIFY2(m_pg.startServer(), qPrintable(m_pg.errorString()));
    QVERIFY2(store->reconnect(), qPrintable(store->errorString()));
    QVERIFY2(store->appendTicks(std::vector<TickRecord>{tickRecord(2, 3)}),
             qPrintable(store->errorString()));
    QCOMPARE(store->summary()->tick, 2u);
    QCOMPARE(store->events(0, 10)->size(), 6u);
    // A plain failure after that is not a lost connection.
    QVERIFY(!store->appendTicks(std::vector<TickRecord>{tickRecord(2, 3)}));
    QVERIFY(!store->connectionLost());
}

QTEST_GUILESS_MAIN(tst_WorldStore)
#include "tst_worldstore.moc"
