// Integration: a real hexsphere-server process, a real WebSocket over loopback.
#include "serverprocess.h"
#include "wsclient.h"

#include "geometry/hexsphere.h"
#include "protocol/codec.h"
#include "protocol/protocolversion.h"
#include "protocol/worldcodec.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>

#include <vector>

using namespace hex;

class tst_ServerProcess : public QObject
{
    Q_OBJECT
private slots:
    void snapshotHoldsEveryCell_data();
    void snapshotHoldsEveryCell();
    void ticksAtTheAskedRate_data();
    void ticksAtTheAskedRate();
    void deltasKeepAMirrorExact();
    void badFramesGetErrors_data();
    void badFramesGetErrors();
    void versionMismatchNamesBothVersions();
    void sigtermStopsCleanly();
    void badArgumentsAreRefused();
    void helpListsEveryOption();
};

namespace {

using Client = hex::tests::WsClient;

} // namespace

void tst_ServerProcess::snapshotHoldsEveryCell_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::newRow("n=1, the dodecahedron") << 1;
    QTest::newRow("n=16, the test world") << 16;
    QTest::newRow("n=64") << 64;
}

void tst_ServerProcess::snapshotHoldsEveryCell()
{
    QFETCH(int, subdivisions);
    ServerProcess server;
    QVERIFY2(server.start({"--size", QString::number(subdivisions)}), qPrintable(server.output()));
    Client client(server.url());
    QVERIFY(client.waitConnected());
    client.hello("tester");
    QVERIFY(client.waitFor([&] { return client.count(protocol::Envelope::kSnapshot) == 1; }));

    const std::uint64_t cells = 10ull * subdivisions * subdivisions + 2;
    const auto *info = client.first(protocol::Envelope::kWorldInfo);
    QVERIFY(info);
    QCOMPARE(info->world_info().protocol_version(), protocol::kProtocolVersion);
    QCOMPARE(info->world_info().subdivisions(), std::uint32_t(subdivisions));
    QCOMPARE(std::uint64_t(info->world_info().cell_count()), cells);
    QCOMPARE(info->world_info().ups(), 20u);
    const auto &snapshot = client.first(protocol::Envelope::kSnapshot)->snapshot();
    QCOMPARE(std::uint64_t(snapshot.terrain().size()), cells);
    QCOMPARE(std::uint64_t(snapshot.elevation().size()), cells);
    const auto visible = protocol::decodeSnapshot(snapshot, std::uint32_t(cells));
    QVERIFY2(visible, qPrintable(visible ? QString() : visible.error()));
    QCOMPARE(std::uint64_t(visible->structure.size()), cells);
    // WorldInfo comes before the snapshot.
    QCOMPARE(client.m_received.front().body_case(), protocol::Envelope::kWorldInfo);
    QCOMPARE(client.m_undecodable, 0);
}

void tst_ServerProcess::ticksAtTheAskedRate_data()
{
    QTest::addColumn<int>("ups");
    QTest::newRow("10 UPS, the slowest") << 10;
    QTest::newRow("20 UPS, the default") << 20;
    QTest::newRow("60 UPS, the fastest") << 60;
}

void tst_ServerProcess::ticksAtTheAskedRate()
{
    QFETCH(int, ups);
    ServerProcess server;
    QVERIFY2(server.start({"--size", "8", "--ups", QString::number(ups)}),
             qPrintable(server.output()));
    Client client(server.url());
    QVERIFY(client.waitConnected());
    client.hello("tester");
    QVERIFY(client.waitFor([&] { return client.count(protocol::Envelope::kTick) >= 2; }));

    // Measure over three seconds of the server's own tick numbers and clock, and of
    // this process's clock as the frames arrive.
    QTest::qWait(3000);
    std::vector<std::size_t> ticks; // indices into m_received
    for (std::size_t i = 0; i < client.m_received.size(); ++i)
        if (client.m_received[i].body_case() == protocol::Envelope::kTick)
            ticks.push_back(i);
    QVERIFY(ticks.size() >= 3);
    const auto &firstTick = client.m_received[ticks.front()].tick();
    const auto &lastTick = client.m_received[ticks.back()].tick();
    // Consecutive, no gaps and no repeats.
    for (std::size_t i = 1; i < ticks.size(); ++i)
        QCOMPARE(client.m_received[ticks[i]].tick().tick(),
                 client.m_received[ticks[i - 1]].tick().tick() + 1);
    const double serverSeconds = (lastTick.server_time_ms() - firstTick.server_time_ms()) / 1000.0;
    const double localSeconds
        = (client.m_receivedAtMs[ticks.back()] - client.m_receivedAtMs[ticks.front()]) / 1000.0;
    const double elapsedTicks = double(lastTick.tick() - firstTick.tick());
    const double serverRate = elapsedTicks / serverSeconds;
    const double localRate = elapsedTicks / localSeconds;
    qInfo("asked %d UPS: server clock %.2f UPS, client clock %.2f UPS", ups, serverRate, localRate);
    // Within 10 % on average: the loop keeps a fixed timestep, so jitter does not add up.
    QVERIFY2(qAbs(localRate - ups) <= 0.10 * ups, qPrintable(QString::number(localRate)));
    QVERIFY2(qAbs(serverRate - ups) <= 0.10 * ups, qPrintable(QString::number(serverRate)));
}

void tst_ServerProcess::deltasKeepAMirrorExact()
{
    // A client that applies every tick's deltas to the snapshot it joined with holds
    // exactly what a client joining later gets as its snapshot.
    const int n = 16;
    ServerProcess server;
    QVERIFY2(server.start({"--size", QString::number(n), "--ups", "60"}),
             qPrintable(server.output()));
    Client early(server.url());
    QVERIFY(early.waitConnected());
    early.hello("tester");
    QVERIFY(early.waitFor([&] { return early.count(protocol::Envelope::kTick) >= 60; }));
    Client late(server.url());
    QVERIFY(late.waitConnected());
    late.hello("late tester");
    QVERIFY(late.waitFor([&] { return late.count(protocol::Envelope::kSnapshot) == 1; }));
    const auto &lateSnapshot = late.first(protocol::Envelope::kSnapshot)->snapshot();
    const std::uint64_t joinTick = lateSnapshot.tick();
    QVERIFY(early.waitFor([&] {
        return !early.m_received.empty() && early.m_received.back().tick().tick() > joinTick;
    }));

    const geometry::HexSphere sphere(n);
    const auto &earlySnapshot = early.first(protocol::Envelope::kSnapshot)->snapshot();
    auto mirror = protocol::decodeSnapshot(earlySnapshot, sphere.cellCount());
    QVERIFY2(mirror, qPrintable(mirror ? QString() : mirror.error()));
    std::size_t changedCells = 0;
    for (const auto &envelope : early.m_received) {
        if (envelope.body_case() != protocol::Envelope::kTick)
            continue;
        const auto &update = envelope.tick();
        if (update.tick() <= earlySnapshot.tick() || update.tick() > joinTick)
            continue;
        QVERIFY(update.state_hash() != 0);
        for (const auto &delta : update.deltas()) {
            const auto applied = protocol::applyChunkDelta(delta, sphere, *mirror);
            QVERIFY2(applied, qPrintable(applied ? QString() : applied.error()));
            changedCells += std::size_t(delta.cells_size());
        }
    }
    const auto expected = protocol::decodeSnapshot(lateSnapshot, sphere.cellCount());
    QVERIFY2(expected, qPrintable(expected ? QString() : expected.error()));
    QVERIFY2(changedCells > 0, "the planet did not change at all in a second");
    QVERIFY(*mirror == *expected);
}

void tst_ServerProcess::badFramesGetErrors_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    QTest::newRow("garbage bytes")
        << QByteArray("\xff\xff\xff\xff garbage", 12) << int(protocol::Error::MALFORMED)
        << "The frame is not a valid Hexsphere envelope.";
    protocol::Envelope tick;
    tick.mutable_tick()->set_tick(5);
    QTest::newRow("a server message sent by the client")
        << protocol::encodeEnvelope(tick) << int(protocol::Error::UNEXPECTED)
        << "Clients may not send this message.";
    protocol::Envelope hello;
    hello.mutable_hello()->set_protocol_version(protocol::kProtocolVersion);
    QTest::newRow("a second hello")
        << protocol::encodeEnvelope(hello) << int(protocol::Error::UNEXPECTED)
        << "Hello was already received.";
}

void tst_ServerProcess::badFramesGetErrors()
{
    QFETCH(QByteArray, frame);
    QFETCH(int, code);
    QFETCH(QString, message);
    ServerProcess server;
    QVERIFY2(server.start({"--size", "4"}), qPrintable(server.output()));
    Client client(server.url());
    QVERIFY(client.waitConnected());
    client.hello("tester");
    QVERIFY(client.waitFor([&] { return client.count(protocol::Envelope::kSnapshot) == 1; }));
    client.sendRaw(frame);
    client.sendText(QStringLiteral("{\"hello\": {}}"));
    QVERIFY(client.waitFor([&] { return client.count(protocol::Envelope::kError) == 2; }));
    const auto &error = client.first(protocol::Envelope::kError)->error();
    QCOMPARE(int(error.code()), code);
    QCOMPARE(QString::fromStdString(error.message()), message);
    // The connection survives and the ticks keep coming.
    const int ticksBefore = client.count(protocol::Envelope::kTick);
    QVERIFY(
        client.waitFor([&] { return client.count(protocol::Envelope::kTick) > ticksBefore + 2; }));
    QCOMPARE(client.m_socket.state(), QAbstractSocket::ConnectedState);
}

void tst_ServerProcess::versionMismatchNamesBothVersions()
{
    ServerProcess server;
    QVERIFY2(server.start({"--size", "4"}), qPrintable(server.output()));
    Client client(server.url());
    QVERIFY(client.waitConnected());
    client.hello("tester", protocol::kProtocolVersion + 98);
    QVERIFY(client.waitFor([&] { return client.count(protocol::Envelope::kError) == 1; }));
    const auto &error = client.first(protocol::Envelope::kError)->error();
    QCOMPARE(error.code(), protocol::Error::VERSION_MISMATCH);
    QCOMPARE(QString::fromStdString(error.message()),
             QStringLiteral("Protocol version mismatch: the client speaks version %1, the server "
                            "version %2.")
                 .arg(protocol::kProtocolVersion + 98)
                 .arg(protocol::kProtocolVersion));
    QVERIFY(client.waitFor(
        [&] { return client.m_socket.state() == QAbstractSocket::UnconnectedState; }));
    QCOMPARE(client.count(protocol::Envelope::kSnapshot), 0);
}

void tst_ServerProcess::sigtermStopsCleanly()
{
    ServerProcess server;
    QVERIFY2(server.start({"--size", "4"}), qPrintable(server.output()));
    Client client(server.url());
    QVERIFY(client.waitConnected());
    client.hello("tester");
    QVERIFY(client.waitFor([&] { return client.count(protocol::Envelope::kTick) >= 1; }));
    QCOMPARE(server.stop(), 0);
    QVERIFY2(server.output().contains("signal 15 received, stopping"), qPrintable(server.output()));
    QVERIFY(client.waitFor(
        [&] { return client.m_socket.state() == QAbstractSocket::UnconnectedState; }));
}

void tst_ServerProcess::badArgumentsAreRefused()
{
    QProcess process;
    process.start(QStringLiteral(HEX_BIN_DIR "/hexsphere-server"), {"--ups", "1000"});
    QVERIFY(process.waitForFinished(10'000));
    QCOMPARE(process.exitCode(), 2);
    QVERIFY(process.readAllStandardError().contains(
        "--ups must be a whole number from 10 to 60, not \"1000\"."));
}

void tst_ServerProcess::helpListsEveryOption()
{
    QProcess process;
    process.start(QStringLiteral(HEX_BIN_DIR "/hexsphere-server"), {"--help"});
    QVERIFY(process.waitForFinished(10'000));
    QCOMPARE(process.exitCode(), 0);
    const QByteArray help = process.readAllStandardOutput();
    for (const char *option :
         {"--port", "--bind", "--size", "--ups", "--seed", "--world", "--help", "--version"})
        QVERIFY2(help.contains(option), option);
}

QTEST_GUILESS_MAIN(tst_ServerProcess)
#include "tst_serverprocess.moc"
