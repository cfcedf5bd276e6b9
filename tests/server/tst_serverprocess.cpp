// Integration: a real hexsphere-server process, a real WebSocket over loopback.
#include "serverprocess.h"

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

/// A WebSocket client that collects every decoded Envelope it receives.
class Client : public QObject
{
public:
    explicit Client(const QString &url)
    {
        connect(&m_socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &f) {
            auto envelope = protocol::decodeEnvelope(f);
            if (envelope)
                m_received.push_back({*envelope, m_clock.elapsed()});
            else
                ++m_undecodable;
        });
        m_clock.start();
        m_socket.open(QUrl(url));
    }

    bool waitConnected()
    {
        if (m_socket.state() == QAbstractSocket::ConnectedState)
            return true;
        QSignalSpy spy(&m_socket, &QWebSocket::connected);
        return spy.wait(10'000);
    }

    void send(const protocol::Envelope &e)
    {
        m_socket.sendBinaryMessage(protocol::encodeEnvelope(e));
    }
    void sendRaw(const QByteArray &frame) { m_socket.sendBinaryMessage(frame); }
    void sendText(const QString &text) { m_socket.sendTextMessage(text); }

    void hello(std::uint32_t version = protocol::kProtocolVersion, const char *name = "tester")
    {
        protocol::Envelope e;
        e.mutable_hello()->set_protocol_version(version);
        e.mutable_hello()->set_player_name(name);
        send(e);
    }

    /// Waits until `pred` holds over the received list, up to `timeoutMs`.
    template<typename Pred>
    bool waitFor(Pred pred, int timeoutMs = 15'000)
    {
        QElapsedTimer t;
        t.start();
        while (!pred() && t.elapsed() < timeoutMs)
            QTest::qWait(10);
        return pred();
    }

    int count(protocol::Envelope::BodyCase kind) const
    {
        int n = 0;
        for (const auto &r : m_received)
            n += r.envelope.body_case() == kind;
        return n;
    }

    const protocol::Envelope *first(protocol::Envelope::BodyCase kind) const
    {
        for (const auto &r : m_received)
            if (r.envelope.body_case() == kind)
                return &r.envelope;
        return nullptr;
    }

    struct Received
    {
        protocol::Envelope envelope;
        qint64 atMs;
    };
    std::vector<Received> m_received;
    int m_undecodable = 0;
    QWebSocket m_socket;
    QElapsedTimer m_clock;
};

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
    client.hello();
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
    QCOMPARE(client.m_received.front().envelope.body_case(), protocol::Envelope::kWorldInfo);
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
    client.hello();
    QVERIFY(client.waitFor([&] { return client.count(protocol::Envelope::kTick) >= 2; }));

    // Measure over three seconds of the server's own tick numbers and clock, and of
    // this process's clock as the frames arrive.
    QTest::qWait(3000);
    std::vector<const Client::Received *> ticks;
    for (const auto &r : client.m_received)
        if (r.envelope.body_case() == protocol::Envelope::kTick)
            ticks.push_back(&r);
    QVERIFY(ticks.size() >= 3);
    const auto &firstTick = ticks.front()->envelope.tick();
    const auto &lastTick = ticks.back()->envelope.tick();
    // Consecutive, no gaps and no repeats.
    for (std::size_t i = 1; i < ticks.size(); ++i)
        QCOMPARE(ticks[i]->envelope.tick().tick(), ticks[i - 1]->envelope.tick().tick() + 1);
    const double serverSeconds = (lastTick.server_time_ms() - firstTick.server_time_ms()) / 1000.0;
    const double localSeconds = (ticks.back()->atMs - ticks.front()->atMs) / 1000.0;
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
    early.hello();
    QVERIFY(early.waitFor([&] { return early.count(protocol::Envelope::kTick) >= 60; }));
    Client late(server.url());
    QVERIFY(late.waitConnected());
    late.hello(protocol::kProtocolVersion, "late tester");
    QVERIFY(late.waitFor([&] { return late.count(protocol::Envelope::kSnapshot) == 1; }));
    const auto &lateSnapshot = late.first(protocol::Envelope::kSnapshot)->snapshot();
    const std::uint64_t joinTick = lateSnapshot.tick();
    QVERIFY(early.waitFor([&] {
        return !early.m_received.empty()
               && early.m_received.back().envelope.tick().tick() > joinTick;
    }));

    const geometry::HexSphere sphere(n);
    const auto &earlySnapshot = early.first(protocol::Envelope::kSnapshot)->snapshot();
    auto mirror = protocol::decodeSnapshot(earlySnapshot, sphere.cellCount());
    QVERIFY2(mirror, qPrintable(mirror ? QString() : mirror.error()));
    std::size_t changedCells = 0;
    for (const auto &r : early.m_received) {
        if (r.envelope.body_case() != protocol::Envelope::kTick)
            continue;
        const auto &update = r.envelope.tick();
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
    client.hello();
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
    client.hello(protocol::kProtocolVersion + 98);
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
    client.hello();
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
