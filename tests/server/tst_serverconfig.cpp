#include "serverconfig.h"

#include <QCommandLineParser>
#include <QTest>

using namespace hex::server;

class tst_ServerConfig : public QObject
{
    Q_OBJECT
private slots:
    void valid_data();
    void valid();
    void invalid_data();
    void invalid();
    void store_data();
    void store();
};

namespace {

std::optional<ServerConfig> parse(const QStringList &args, QStringList *errors)
{
    QCommandLineParser parser;
    addServerOptions(parser);
    if (!parser.parse(QStringList{QStringLiteral("hexsphere-server")} + args)) {
        *errors << parser.errorText();
        return std::nullopt;
    }
    return serverConfigFromParser(parser, errors);
}

} // namespace

void tst_ServerConfig::valid_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("port");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("ups");
    QTest::addColumn<quint64>("seed");
    QTest::newRow("defaults") << QStringList{} << 7357 << 128 << 20 << quint64(1);
    QTest::newRow("free port, small world, fast")
        << QStringList{"--port", "0", "--size", "16", "--ups", "60"} << 0 << 16 << 60 << quint64(1);
    QTest::newRow("slowest rate, big seed")
        << QStringList{"--ups", "10", "--seed", "18446744073709551615"} << 7357 << 128 << 10
        << quint64(18446744073709551615ull);
    QTest::newRow("largest world")
        << QStringList{"--size", "512"} << 7357 << 512 << 20 << quint64(1);
}

void tst_ServerConfig::valid()
{
    QFETCH(QStringList, args);
    QStringList errors;
    const auto config = parse(args, &errors);
    QVERIFY2(config, qPrintable(errors.join('\n')));
    QFETCH(int, port);
    QFETCH(int, size);
    QFETCH(int, ups);
    QFETCH(quint64, seed);
    QCOMPARE(int(config->port), port);
    QCOMPARE(config->subdivisions, size);
    QCOMPARE(config->ups, ups);
    QCOMPARE(config->seed, seed);
}

void tst_ServerConfig::invalid_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    QTest::newRow("rate too high")
        << QStringList{"--ups", "61"} << "--ups must be a whole number from 10 to 60, not \"61\".";
    QTest::newRow("rate not a number")
        << QStringList{"--ups", "fast"}
        << "--ups must be a whole number from 10 to 60, not \"fast\".";
    QTest::newRow("world too big") << QStringList{"--size", "513"}
                                   << "--size must be a whole number from 1 to 512, not \"513\".";
    QTest::newRow("port out of range")
        << QStringList{"--port", "70000"}
        << "--port must be a whole number from 0 to 65535, not \"70000\".";
    QTest::newRow("negative seed")
        << QStringList{"--seed", "-1"} << "--seed must be a non-negative whole number, not \"-1\".";
    QTest::newRow("bind to a name")
        << QStringList{"--bind", "example"} << "--bind must be an IP address, not \"example\".";
    QTest::newRow("empty world name")
        << QStringList{"--world", " "} << "--world must be a name of 1 to 64 characters.";
    QTest::newRow("flush interval too short")
        << QStringList{"--flush-interval", "50"}
        << "--flush-interval must be a whole number from 100 to 3600000, not \"50\".";
    QTest::newRow("unknown database scheme")
        << QStringList{"--database", "mysql://db/x"}
        << "--database: Unknown database 'mysql://db/x': use sqlite:DIRECTORY, "
           "postgresql://user:password@host:port/database or none.";
    QTest::newRow("database url without a database")
        << QStringList{"--database", "postgresql://u:p@localhost:5432"}
        << "--database: The database URL 'postgresql://u:p@localhost:5432' names no database: "
           "write postgresql://user:password@host:port/database.";
    QTest::newRow("saved world with a slash in its name")
        << QStringList{"--world", "a/b", "--database", "sqlite:/tmp/w"}
        << "--world \"a/b\" cannot name a saved world: use letters, digits, spaces, '-', '_' "
           "and '.', not starting with '.'.";
}

void tst_ServerConfig::invalid()
{
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    QStringList errors;
    QVERIFY(!parse(args, &errors));
    QCOMPARE(errors, QStringList{message});
}

void tst_ServerConfig::store_data()
{
    using Kind = hex::server::persistence::StoreLocation::Kind;
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("where"); // directory or database name
    QTest::addColumn<int>("flushIntervalMs");
    QTest::newRow("no option keeps the world in the default directory")
        << QStringList{} << int(Kind::Sqlite)
        << hex::server::persistence::StoreLocation::defaultSqliteDirectory() << 5000;
    QTest::newRow("none keeps nothing")
        << QStringList{"--database", "none"} << int(Kind::None) << QString() << 5000;
    QTest::newRow("sqlite directory and a short flush interval")
        << QStringList{"--database", "sqlite:/tmp/worlds", "--flush-interval", "250"}
        << int(Kind::Sqlite) << "/tmp/worlds" << 250;
    QTest::newRow("postgresql url")
        << QStringList{"--database", "postgresql://hex:secret@db.example:6543/hexworlds"}
        << int(Kind::Postgresql) << "hexworlds" << 5000;
}

void tst_ServerConfig::store()
{
    QFETCH(QStringList, args);
    QFETCH(int, kind);
    QFETCH(QString, where);
    QFETCH(int, flushIntervalMs);
    QStringList errors;
    const auto config = parse(args, &errors);
    QVERIFY2(config, qPrintable(errors.join('\n')));
    QCOMPARE(int(config->store.kind), kind);
    using Kind = hex::server::persistence::StoreLocation::Kind;
    if (config->store.kind == Kind::Sqlite)
        QCOMPARE(config->store.directory, where);
    if (config->store.kind == Kind::Postgresql) {
        QCOMPARE(config->store.databaseName, where);
        QCOMPARE(config->store.port, 6543);
        QCOMPARE(config->store.user, QStringLiteral("hex"));
    }
    QCOMPARE(config->flushIntervalMs, flushIntervalMs);
    // The in-process default (no parser) keeps nothing.
    QCOMPARE(int(ServerConfig().store.kind), int(Kind::None));
}

QTEST_GUILESS_MAIN(tst_ServerConfig)
#include "tst_serverconfig.moc"
