// The server browser's model, and LAN discovery against an in-process GameServer.
#include "net/landiscovery.h"
#include "net/serverlistmodel.h"

#include "gameserver.h"
#include "protocol/codec.h"
#include "protocol/protocolversion.h"

#include <QAbstractItemModelTester>
#include <QLocale>
#include <QSignalSpy>
#include <QTest>
#include <QUdpSocket>

using hex::client::LanDiscovery;
using hex::client::ServerEntry;
using hex::client::ServerListModel;

namespace {

ServerEntry entry(const char *world, const char *address, quint16 port,
                  const QDateTime &seen = QDateTime::currentDateTimeUtc())
{
    ServerEntry e;
    e.address = QHostAddress(QString::fromLatin1(address));
    e.port = port;
    e.worldName = QString::fromLatin1(world);
    e.hostName = QStringLiteral("Ada");
    e.players = 3;
    e.maxPlayers = 16;
    e.subdivisions = 16;
    e.lastSeen = seen;
    return e;
}

QString cell(const ServerListModel &model, int row, int column, int role = Qt::DisplayRole)
{
    return model.data(model.index(row, column), role).toString();
}

QStringList worlds(const ServerListModel &model)
{
    QStringList out;
    for (int row = 0; row < model.rowCount(); ++row)
        out << cell(model, row, ServerListModel::World) + QLatin1Char('@')
                   + model.entry(row).address.toString();
    return out;
}

} // namespace

class tst_LanDiscovery : public QObject
{
    Q_OBJECT
private slots:
    void init() { QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates)); }

    void upsertAddsThenUpdates();
    void upsertKeepsPingWhenUpdateHasNone();
    void expireDropsStaleRows();
    void sortsByWorldThenAddress();
    void displayStrings_data();
    void displayStrings();
    void headers();
    void url();
    void findsHostedServer();
    void listensForAnnouncements();
    void serverOnEveryInterfaceListedOnce();
};

void tst_LanDiscovery::upsertAddsThenUpdates()
{
    ServerListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.columnCount(), int(ServerListModel::ColumnCount));
    model.upsert(entry("Alpha", "10.0.0.2", 7357));
    QCOMPARE(model.rowCount(), 1);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    ServerEntry update = entry("Alpha", "10.0.0.2", 7357);
    update.players = 4;
    model.upsert(update);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(cell(model, 0, ServerListModel::Players), QStringLiteral("4/16"));
    // Another port of the same address is another server.
    model.upsert(entry("Alpha", "10.0.0.2", 7358));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.rowOf(QHostAddress(QStringLiteral("10.0.0.2")), 7358), 1);
    QCOMPARE(model.rowOf(QHostAddress(QStringLiteral("10.0.0.2")), 7357), 0);
    QCOMPARE(model.rowOf(QHostAddress(QStringLiteral("10.0.0.3")), 7357), -1);
}

void tst_LanDiscovery::upsertKeepsPingWhenUpdateHasNone()
{
    ServerListModel model;
    ServerEntry first = entry("Alpha", "10.0.0.2", 7357);
    first.pingMs = 12;
    model.upsert(first);
    model.upsert(entry("Alpha", "10.0.0.2", 7357));
    QCOMPARE(model.entry(0).pingMs, std::optional<int>(12));
    ServerEntry faster = entry("Alpha", "10.0.0.2", 7357);
    faster.pingMs = 3;
    model.upsert(faster);
    QCOMPARE(model.entry(0).pingMs, std::optional<int>(3));
}

void tst_LanDiscovery::expireDropsStaleRows()
{
    ServerListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    model.upsert(entry("Old", "10.0.0.1", 1, now.addMSecs(-ServerListModel::kStaleMs - 1)));
    model.upsert(entry("Fresh", "10.0.0.2", 1, now.addMSecs(-ServerListModel::kStaleMs + 1000)));
    model.upsert(entry("Older", "10.0.0.3", 1, now.addSecs(-60)));
    QCOMPARE(model.rowCount(), 3);
    model.expire(now);
    QCOMPARE(worlds(model), QStringList{"Fresh@10.0.0.2"});
    model.expire(now.addMSecs(1000 + 1));
    QCOMPARE(model.rowCount(), 0);
}

void tst_LanDiscovery::sortsByWorldThenAddress()
{
    ServerListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.upsert(entry("beta", "10.0.0.9", 1));
    model.upsert(entry("Alpha", "10.0.0.10", 1));
    model.upsert(entry("Alpha", "10.0.0.9", 2));
    model.upsert(entry("Gamma", "10.0.0.1", 1));
    QCOMPARE(worlds(model),
             (QStringList{"Alpha@10.0.0.9", "Alpha@10.0.0.10", "beta@10.0.0.9", "Gamma@10.0.0.1"}));
    // A renamed world moves to its new place.
    model.upsert(entry("Zeta", "10.0.0.9", 2));
    QCOMPARE(worlds(model),
             (QStringList{"Alpha@10.0.0.10", "beta@10.0.0.9", "Gamma@10.0.0.1", "Zeta@10.0.0.9"}));
    model.upsert(entry("Aardvark", "10.0.0.1", 1));
    QCOMPARE(worlds(model), (QStringList{"Aardvark@10.0.0.1", "Alpha@10.0.0.10", "beta@10.0.0.9",
                                         "Zeta@10.0.0.9"}));
}

void tst_LanDiscovery::displayStrings_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::addColumn<std::optional<int>>("ping");
    QTest::addColumn<bool>("password");
    QTest::addColumn<bool>("account");
    QTest::addColumn<QString>("size");
    QTest::addColumn<QString>("pingText");
    QTest::addColumn<QString>("lock");
    QTest::newRow("n=16, pinged, open") << 16 << std::optional<int>(12) << false << false << "2,562"
                                        << "12 ms"
                                        << "";
    QTest::newRow("n=128, no ping yet, password")
        << 128 << std::optional<int>() << true << false << "163,842"
        << "\u2013"
        << "password";
    QTest::newRow("n=1, accounts only") << 1 << std::optional<int>(0) << false << true << "12"
                                        << "0 ms"
                                        << "account";
    QTest::newRow("n=512, both") << 512 << std::optional<int>(1500) << true << true << "2,621,442"
                                 << "1,500 ms"
                                 << "password, account";
}

void tst_LanDiscovery::displayStrings()
{
    QFETCH(int, subdivisions);
    QFETCH(std::optional<int>, ping);
    QFETCH(bool, password);
    QFETCH(bool, account);
    QFETCH(QString, size);
    QFETCH(QString, pingText);
    QFETCH(QString, lock);
    ServerListModel model;
    ServerEntry e = entry("Lanworld", "192.168.1.20", 7357);
    e.subdivisions = subdivisions;
    e.pingMs = ping;
    e.needsPassword = password;
    e.needsAccount = account;
    e.players = 3;
    e.maxPlayers = 10'000;
    model.upsert(e);
    QCOMPARE(cell(model, 0, ServerListModel::World), QStringLiteral("Lanworld"));
    QCOMPARE(cell(model, 0, ServerListModel::Host), QStringLiteral("Ada"));
    QCOMPARE(cell(model, 0, ServerListModel::Players), QStringLiteral("3/10,000"));
    QCOMPARE(cell(model, 0, ServerListModel::Size), size);
    QCOMPARE(cell(model, 0, ServerListModel::Ping), pingText);
    QCOMPARE(cell(model, 0, ServerListModel::Lock), lock);
    QVERIFY(!cell(model, 0, ServerListModel::Lock, Qt::ToolTipRole).isEmpty());
    QCOMPARE(cell(model, 0, ServerListModel::World, Qt::ToolTipRole),
             QStringLiteral("ws://192.168.1.20:7357/ws"));
    QVERIFY(!model.data(model.index(0, ServerListModel::ColumnCount)).isValid());
    QVERIFY(!model.data(model.index(1, ServerListModel::World)).isValid());
}

void tst_LanDiscovery::headers()
{
    ServerListModel model;
    QStringList names;
    for (int column = 0; column < model.columnCount(); ++column)
        names << model.headerData(column, Qt::Horizontal).toString();
    QCOMPARE(names, (QStringList{"World", "Host", "Players", "Size", "Ping", "Access"}));
}

void tst_LanDiscovery::url()
{
    QCOMPARE(entry("A", "192.168.1.20", 7357).url(), QUrl("ws://192.168.1.20:7357/ws"));
    QCOMPARE(entry("A", "fe80::1", 80).url(), QUrl("ws://[fe80::1]:80/ws"));
}

void tst_LanDiscovery::findsHostedServer()
{
    hex::server::ServerConfig config;
    config.worldName = QStringLiteral("Found");
    config.subdivisions = 4;
    config.port = 0;
    config.bindAddress = QHostAddress(QHostAddress::LocalHost);
    config.announceOnLan = true;
    config.hostName = QStringLiteral("Ada");
    config.maxClients = 8;
    config.requireAccounts = true;
    hex::server::GameServer server(config);
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    const QHostAddress loopback(QHostAddress::LocalHost);
    const quint16 port = server.port();

    ServerListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    LanDiscovery discovery(&model);
    discovery.start();
    QVERIFY(discovery.isRunning());
    QElapsedTimer timer;
    timer.start();
    QTRY_VERIFY_WITH_TIMEOUT(
        model.rowOf(loopback, port) >= 0 && model.entry(model.rowOf(loopback, port)).pingMs, 3000);
    qInfo() << "found in" << timer.elapsed() << "ms";
    const ServerEntry &found = model.entry(model.rowOf(loopback, port));
    QCOMPARE(found.worldName, QStringLiteral("Found"));
    QCOMPARE(found.hostName, QStringLiteral("Ada"));
    QCOMPARE(found.players, 0);
    QCOMPARE(found.maxPlayers, 8);
    QCOMPARE(found.subdivisions, 4);
    QCOMPARE(found.needsPassword, false);
    QCOMPARE(found.needsAccount, true);
    QVERIFY(*found.pingMs >= 0 && *found.pingMs < 1000);

    // Once the server stops, its row goes within kStaleMs and two query rounds.
    server.stop();
    QTRY_VERIFY_WITH_TIMEOUT(model.rowOf(loopback, port) < 0, ServerListModel::kStaleMs + 3000);
    discovery.stop();
    QVERIFY(!discovery.isRunning());
}

void tst_LanDiscovery::listensForAnnouncements()
{
    ServerListModel model;
    LanDiscovery discovery(&model);
    // Queries go nowhere: only unsolicited announcements can fill the list.
    discovery.setQueryTargets({QHostAddress(QStringLiteral("127.0.0.2"))});
    discovery.start();

    auto announcement = [](std::uint32_t version, std::uint32_t port) {
        hex::protocol::Envelope e;
        auto *a = e.mutable_lan_announcement();
        a->set_protocol_version(version);
        a->set_port(port);
        a->set_world_name("Unasked");
        a->set_players(2);
        a->set_max_players(4);
        a->set_subdivisions(8);
        a->set_password(true);
        return hex::protocol::encodeEnvelope(e);
    };
    QUdpSocket fakeServer;
    const QHostAddress everyone(QStringLiteral("127.255.255.255"));
    const quint16 port = 17;
    const quint16 otherVersionPort = 18;
    fakeServer.writeDatagram(announcement(hex::protocol::kProtocolVersion + 1, otherVersionPort),
                             everyone, hex::protocol::kLanDiscoveryPort);
    fakeServer.writeDatagram(QByteArray("not a protobuf \xff\xff"), everyone,
                             hex::protocol::kLanDiscoveryPort);
    // At least: other tests running at the same time may send junk to the port too.
    QTRY_VERIFY_WITH_TIMEOUT(discovery.ignoredCount() >= 2, 3000);

    fakeServer.writeDatagram(announcement(hex::protocol::kProtocolVersion, port), everyone,
                             hex::protocol::kLanDiscoveryPort);
    QTRY_VERIFY_WITH_TIMEOUT(model.rowOf(QHostAddress(QHostAddress::LocalHost), port) >= 0, 3000);
    const ServerEntry &found
        = model.entry(model.rowOf(QHostAddress(QHostAddress::LocalHost), port));
    QCOMPARE(found.worldName, QStringLiteral("Unasked"));
    QCOMPARE(found.players, 2);
    QCOMPARE(found.needsPassword, true);
    // Unsolicited: no round trip measured.
    QVERIFY(!found.pingMs);
    // Sent first over the same path, so read first: ignored, not merely late.
    QCOMPARE(model.rowOf(QHostAddress(QHostAddress::LocalHost), otherVersionPort), -1);
}

void tst_LanDiscovery::serverOnEveryInterfaceListedOnce()
{
    hex::server::ServerConfig config;
    config.worldName = QStringLiteral("Everywhere");
    config.subdivisions = 4;
    config.port = 0;
    config.bindAddress = QHostAddress(QHostAddress::Any);
    config.announceOnLan = true;
    hex::server::GameServer server(config);
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    const quint16 port = server.port();

    ServerListModel model;
    LanDiscovery discovery(&model);
    discovery.start();
    auto rowsOfPort = [&] {
        QStringList addresses;
        for (int row = 0; row < model.rowCount(); ++row)
            if (model.entry(row).port == port)
                addresses << model.entry(row).address.toString();
        return addresses;
    };
    QTRY_VERIFY_WITH_TIMEOUT(rowsOfPort().contains(QStringLiteral("127.0.0.1")), 3000);
    // Heard through this machine's LAN addresses too, but listed once, at 127.0.0.1
    // (a row that came before the loopback one expires).
    QTRY_COMPARE_WITH_TIMEOUT(rowsOfPort(), QStringList{QStringLiteral("127.0.0.1")},
                              ServerListModel::kStaleMs + 3000);
    QTest::qWait(1500);
    QCOMPARE(rowsOfPort(), QStringList{QStringLiteral("127.0.0.1")});
}

QTEST_MAIN(tst_LanDiscovery)
#include "tst_landiscovery.moc"
