#include "app/hostedserver.h"
#include "net/serverconnection.h"

#include "protocol/worldcodec.h"
#include "sim/world.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

using hex::client::HostedServer;
using hex::client::ServerConnection;
using hex::client::WorldDescription;

namespace {

hex::server::ServerConfig smallWorld(quint16 port = 0)
{
    hex::server::ServerConfig config;
    config.worldName = QStringLiteral("Hosted");
    config.subdivisions = 4;
    config.ups = 30;
    config.port = port;
    config.bindAddress = QHostAddress(QHostAddress::LocalHost);
    return config;
}

} // namespace

class tst_HostedServer : public QObject
{
    Q_OBJECT

private slots:
    void joinUrl_data();
    void joinUrl();
    void hostsJoinsAndStops();
    void restartsAfterStop();
    void reportsPortInUse();
};

void tst_HostedServer::joinUrl_data()
{
    QTest::addColumn<QHostAddress>("bind");
    QTest::addColumn<QString>("expected");

    QTest::newRow("localhost") << QHostAddress(QHostAddress::LocalHost) << "ws://127.0.0.1:7357/ws";
    QTest::newRow("every interface, for LAN play")
        << QHostAddress(QHostAddress::Any) << "ws://127.0.0.1:7357/ws";
    QTest::newRow("every IPv4 interface")
        << QHostAddress(QHostAddress::AnyIPv4) << "ws://127.0.0.1:7357/ws";
    QTest::newRow("every IPv6 interface")
        << QHostAddress(QHostAddress::AnyIPv6) << "ws://[::1]:7357/ws";
    QTest::newRow("one LAN address") << QHostAddress("192.168.1.20") << "ws://192.168.1.20:7357/ws";
}

void tst_HostedServer::joinUrl()
{
    QFETCH(QHostAddress, bind);
    QFETCH(QString, expected);
    QCOMPARE(HostedServer::joinUrl(bind, 7357).toString(), expected);
}

void tst_HostedServer::hostsJoinsAndStops()
{
    HostedServer host;
    QSignalSpy started(&host, &HostedServer::started);
    QSignalSpy failed(&host, &HostedServer::failed);
    host.start(smallWorld());
    QCOMPARE(host.state(), HostedServer::State::Starting);
    QTRY_COMPARE_WITH_TIMEOUT(started.size(), 1, 30'000);
    QCOMPARE(failed.size(), 0);
    QCOMPARE(host.state(), HostedServer::State::Running);
    const quint16 port = started.first().first().value<quint16>();
    QVERIFY(port != 0);
    QCOMPARE(host.port(), port);
    QCOMPARE(host.joinUrl(), QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(port)));

    ServerConnection connection;
    QSignalSpy worlds(&connection, &ServerConnection::worldReceived);
    QSignalSpy snapshots(&connection, &ServerConnection::snapshotReceived);
    QSignalSpy ticks(&connection, &ServerConnection::tickReceived);
    QSignalSpy changes(&connection, &ServerConnection::cellsChanged);
    QSignalSpy errors(&connection, &ServerConnection::errorOccurred);
    connection.open(host.joinUrl(), QStringLiteral("Host"));
    QTRY_COMPARE_WITH_TIMEOUT(snapshots.size(), 1, 30'000);
    QCOMPARE(worlds.first().first().value<WorldDescription>().name, QStringLiteral("Hosted"));
    QCOMPARE(worlds.first().first().value<WorldDescription>().cellCount, 162u);
    QVERIFY(connection.hasSnapshot());
    QCOMPARE(connection.cells().cellCount(), 162u);
    QTRY_VERIFY_WITH_TIMEOUT(ticks.size() >= 3, 10'000);
    // The living planet changes within a few seconds (flora, water): deltas arrive.
    QTRY_VERIFY_WITH_TIMEOUT(!changes.isEmpty(), 20'000);
    QVERIFY2(errors.isEmpty(), qPrintable(connection.errorString()));

    // The mirror shows exactly what the same world shows after the same ticks: replay it
    // here from the seed (the player joined at the WorldInfo's tick but has not acted,
    // and the simulation is deterministic).
    const auto content = hex::sim::loadDefaultContent();
    if (!content)
        QFAIL(qPrintable(content.error()));
    hex::sim::World replay(connection.sphere(), std::make_shared<const hex::sim::Content>(*content),
                           smallWorld().seed);
    const std::uint64_t tick = connection.lastTick();
    QCOMPARE(tick, ticks.last().first().toULongLong());
    const std::uint64_t joinTick = worlds.first().first().value<WorldDescription>().tick;
    replay.simulate(joinTick);
    QCOMPARE(replay.addPlayer(QStringLiteral("Host")), connection.playerId());
    const std::uint64_t hash = replay.simulate(tick - joinTick);
    QVERIFY2(hex::protocol::visibleCells(replay.state()) == connection.cells(),
             "the client's mirror matches the server's world");
    QCOMPARE(connection.lastStateHash(), hash);

    QSignalSpy states(&connection, &ServerConnection::stateChanged);
    host.stop(); // Blocks until the server thread is joined.
    QCOMPARE(host.state(), HostedServer::State::Stopped);
    QCOMPARE(host.port(), quint16(0));
    QVERIFY(host.joinUrl().isEmpty());
    QTRY_COMPARE(connection.state(), ServerConnection::State::Disconnected);
    host.stop(); // Twice is fine.
}

void tst_HostedServer::restartsAfterStop()
{
    HostedServer host;
    QSignalSpy started(&host, &HostedServer::started);
    for (int round = 1; round <= 2; ++round) {
        host.start(smallWorld());
        QTRY_COMPARE_WITH_TIMEOUT(started.size(), round, 30'000);
        host.stop();
        QCOMPARE(host.state(), HostedServer::State::Stopped);
    }
}

void tst_HostedServer::reportsPortInUse()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));

    HostedServer host;
    QSignalSpy failed(&host, &HostedServer::failed);
    host.start(smallWorld(squatter.serverPort()));
    QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, 30'000);
    QCOMPARE(host.state(), HostedServer::State::Failed);
    const QString reason = failed.first().first().toString();
    QVERIFY2(reason.contains(QString::number(squatter.serverPort())), qPrintable(reason));
    QCOMPARE(host.errorString(), reason);
    QCOMPARE(host.port(), quint16(0));
    host.stop();
    QCOMPARE(host.state(), HostedServer::State::Failed); // The failure stays readable.
}

QTEST_GUILESS_MAIN(tst_HostedServer)
#include "tst_hostedserver.moc"
