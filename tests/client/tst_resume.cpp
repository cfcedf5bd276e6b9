// A client whose connection drops resumes its session: no tick and no action result
// is lost. A relay between client and hosted server lets the test cut the line.
#include "app/hostedserver.h"
#include "net/serverconnection.h"
#include "protocol/worldcodec.h"
#include "sim/terrain.h"
#include "sim/worldstate.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <functional>
#include <memory>
#include <utility>
#include <vector>

using hex::client::HostedServer;
using hex::client::ServerConnection;

namespace {

/// Forwards every connection it accepts to a target port, byte for byte, until cut().
class Relay : public QObject
{
public:
    explicit Relay(quint16 target)
        : m_target(target)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *client = m_server.nextPendingConnection()) {
                auto *upstream = new QTcpSocket(client);
                connect(client, &QTcpSocket::readyRead, upstream,
                        [client, upstream] { upstream->write(client->readAll()); });
                connect(upstream, &QTcpSocket::readyRead, client,
                        [client, upstream] { client->write(upstream->readAll()); });
                connect(upstream, &QTcpSocket::disconnected, client, &QTcpSocket::disconnectFromHost);
                connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
                upstream->connectToHost(QHostAddress::LocalHost, m_target);
                m_clients.push_back(client);
                ++m_accepted;
            }
        });
    }

    bool listen() { return m_server.listen(QHostAddress::LocalHost); }
    quint16 port() const { return m_server.serverPort(); }
    int accepted() const { return m_accepted; }

    /// Drops every relayed connection at once, as a network failure would.
    void cut()
    {
        for (const QPointer<QTcpSocket> &client : m_clients) {
            if (!client)
                continue;
            for (QTcpSocket *upstream : client->findChildren<QTcpSocket *>())
                upstream->abort();
            client->abort();
        }
        m_clients.clear();
    }

private:
    quint16 m_target;
    QTcpServer m_server;
    std::vector<QPointer<QTcpSocket>> m_clients;
    int m_accepted = 0;
};

} // namespace

class tst_Resume : public QObject
{
    Q_OBJECT
private slots:
    void aDroppedConnectionResumesWithoutLoss_data();
    void aDroppedConnectionResumesWithoutLoss();
};

void tst_Resume::aDroppedConnectionResumesWithoutLoss_data()
{
    QTest::addColumn<int>("holdMs");
    QTest::newRow("frames handled as they come") << -1;
    // As the game window does, which handles them after its next frame: a resume must
    // then say the last message of those held, not of those handled.
    QTest::newRow("frames held 30 ms") << 30;
}

void tst_Resume::aDroppedConnectionResumesWithoutLoss()
{
    QFETCH(int, holdMs);
    HostedServer host;
    QSignalSpy started(&host, &HostedServer::started);
    hex::server::ServerConfig config;
    config.subdivisions = 8;
    config.ups = 20;
    config.port = 0;
    config.bindAddress = QHostAddress(QHostAddress::LocalHost);
    host.start(config);
    QTRY_COMPARE_WITH_TIMEOUT(started.size(), 1, 30'000);

    Relay relay(host.port());
    QVERIFY(relay.listen());
    ServerConnection connection;
    if (holdMs >= 0) {
        connection.setFrameScheduler([&connection, holdMs](std::function<void()> work) {
            QTimer::singleShot(holdMs, &connection, std::move(work));
        });
    }
    QSignalSpy worlds(&connection, &ServerConnection::worldReceived);
    QSignalSpy snapshots(&connection, &ServerConnection::snapshotReceived);
    QSignalSpy reconnecting(&connection, &ServerConnection::reconnecting);
    QSignalSpy resumed(&connection, &ServerConnection::resumed);
    QSignalSpy results(&connection, &ServerConnection::actionResult);
    std::vector<quint64> ticks;
    connect(&connection, &ServerConnection::tickReceived, this,
            [&](quint64 tick) { ticks.push_back(tick); });
    connection.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(relay.port())),
                    QStringLiteral("Rhea"));
    QTRY_COMPARE_WITH_TIMEOUT(snapshots.size(), 1, 30'000);
    QTRY_VERIFY_WITH_TIMEOUT(ticks.size() >= 5, 10'000);
    QVERIFY(!connection.sessionToken().isEmpty());

    // A claim on free land, sent just before the line is cut: its result must still
    // come, after the resume.
    const hex::protocol::VisibleCells &cells = connection.cells();
    std::optional<hex::geometry::CellId> land;
    for (hex::geometry::CellId cell = 0; cell < cells.cellCount() && !land; ++cell) {
        const auto terrain = hex::sim::Terrain(cells.terrain[cell]);
        if (terrain != hex::sim::Terrain::DeepWater && terrain != hex::sim::Terrain::ShallowWater
            && cells.owner[cell] == hex::sim::kNoPlayer)
            land = cell;
    }
    QVERIFY(land);
    hex::sim::Action claim;
    claim.kind = hex::sim::ActionKind::Claim;
    claim.cell = *land;
    const quint32 seq = connection.sendAction(claim);
    QVERIFY(seq > 0);
    // Let the action reach the server, then cut before (or as) its result comes back.
    QTest::qWait(5);
    const std::size_t ticksBeforeCut = ticks.size();
    relay.cut();
    QTRY_COMPARE_WITH_TIMEOUT(reconnecting.size(), 1, 5'000);
    // Ticks go on on the server while the client is away.
    QTest::qWait(600);
    QTRY_COMPARE_WITH_TIMEOUT(resumed.size(), 1, 15'000);
    QCOMPARE(connection.state(), ServerConnection::State::Joined);
    QVERIFY(relay.accepted() >= 2);
    QTRY_VERIFY_WITH_TIMEOUT(ticks.size() >= ticksBeforeCut + 20, 10'000);

    // The same session: no second world, no second snapshot, and every tick exactly
    // once, in order, across the cut.
    QCOMPARE(worlds.size(), 1);
    QCOMPARE(snapshots.size(), 1);
    for (std::size_t i = 1; i < ticks.size(); ++i)
        QVERIFY2(ticks[i] == ticks[i - 1] + 1,
                 qPrintable(QStringLiteral("tick %1 followed by %2").arg(ticks[i - 1]).arg(ticks[i])));
    QTRY_COMPARE_WITH_TIMEOUT(results.size(), 1, 5'000);
    QCOMPARE(results.first().at(0).value<quint32>(), seq);
    QCOMPARE(results.first().at(2).toInt(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(int(connection.cells().owner[*land]), int(connection.playerId()), 5'000);
    host.stop();
}

QTEST_GUILESS_MAIN(tst_Resume)
#include "tst_resume.moc"
