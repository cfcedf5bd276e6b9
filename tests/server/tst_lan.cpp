// LAN discovery against real hexsphere-server processes: queries answered with the
// nonce, players counted, unsolicited announcements, junk ignored, several servers.
#include "serverprocess.h"
#include "wsclient.h"

#include "lan/lanannouncer.h"

#include "protocol/codec.h"
#include "protocol/protocolversion.h"

#include <QNetworkDatagram>
#include <QNetworkInterface>
#include <QTest>
#include <QUdpSocket>

#include <optional>
#include <vector>

using namespace hex;

namespace {

/// Reaches every socket bound to the discovery port on this machine (127.0.0.1 reaches
/// only the last one bound, which may be another test's).
const QHostAddress kLoopbackBroadcast(QStringLiteral("127.255.255.255"));

/// A UDP socket on an ephemeral port that sends LanQuery datagrams and keeps every
/// LanAnnouncement that comes back.
class Querier
{
public:
    Querier() { QVERIFY(m_socket.bind(QHostAddress::AnyIPv4, 0)); }

    void sendRaw(const QByteArray &datagram)
    {
        QVERIFY(m_socket.writeDatagram(datagram, kLoopbackBroadcast, protocol::kLanDiscoveryPort)
                >= 0);
    }

    void query(std::uint64_t nonce, std::uint32_t version = protocol::kProtocolVersion)
    {
        protocol::Envelope e;
        e.mutable_lan_query()->set_protocol_version(version);
        e.mutable_lan_query()->set_nonce(nonce);
        sendRaw(protocol::encodeEnvelope(e));
    }

    /// The announcements with `nonce` from the server on game port `port` (0: any) that
    /// have arrived, waiting up to `timeoutMs` for `want` of them.
    std::vector<protocol::LanAnnouncement> answers(std::uint64_t nonce, quint16 port, int timeoutMs,
                                                   std::size_t want = 1)
    {
        QElapsedTimer timer;
        timer.start();
        while (true) {
            while (m_socket.hasPendingDatagrams()) {
                const QNetworkDatagram d = m_socket.receiveDatagram();
                const auto e = protocol::decodeEnvelope(d.data());
                if (e && e->has_lan_announcement())
                    m_received.push_back(e->lan_announcement());
            }
            std::vector<protocol::LanAnnouncement> out;
            for (const auto &a : m_received)
                if (a.nonce() == nonce && (port == 0 || a.port() == port))
                    out.push_back(a);
            if (out.size() >= want || timer.elapsed() >= timeoutMs)
                return out;
            QTest::qWait(10);
        }
    }

private:
    QUdpSocket m_socket;
    /// Every announcement received so far, in arrival order.
    std::vector<protocol::LanAnnouncement> m_received;
};

} // namespace

class tst_Lan : public QObject
{
    Q_OBJECT
private slots:
    void answersQueryWithNonce();
    void countsPlayersOnline();
    void announcesUnsolicitedWithinThreeSeconds();
    void ignoresJunkAndOtherVersions();
    void twoServersBothAnswer();
    void withoutAnnounceStaysSilent();
    void portTakenServerRunsOn();
    void announceTargets();
};

void tst_Lan::answersQueryWithNonce()
{
    ServerProcess server;
    QVERIFY2(server.start({"--announce", "--size", "4", "--world", "Lanworld", "--password", "x",
                           "--max-clients", "16"}),
             qPrintable(server.output()));
    Querier querier;
    querier.query(0x1234'5678'9abc'def0ULL);
    const auto answers = querier.answers(0x1234'5678'9abc'def0ULL, server.port(), 3000);
    QVERIFY2(!answers.empty(), qPrintable(server.output()));
    const protocol::LanAnnouncement &a = answers.front();
    QCOMPARE(a.protocol_version(), protocol::kProtocolVersion);
    QCOMPARE(a.port(), std::uint32_t(server.port()));
    QCOMPARE(QString::fromStdString(a.world_name()), QStringLiteral("Lanworld"));
    QCOMPARE(a.subdivisions(), 4u);
    QCOMPARE(a.max_players(), 16u);
    QCOMPARE(a.password(), true);
    QCOMPARE(a.accounts(), false);
    QCOMPARE(a.players(), 0u);
    QVERIFY(protocol::encodeEnvelope([&] {
                protocol::Envelope e;
                *e.mutable_lan_announcement() = a;
                return e;
            }())
                .size()
            < 512);
}

void tst_Lan::countsPlayersOnline()
{
    ServerProcess server;
    QVERIFY2(server.start({"--announce", "--size", "4", "--password", "x"}),
             qPrintable(server.output()));
    Querier querier;
    querier.query(1);
    auto before = querier.answers(1, server.port(), 3000);
    QVERIFY(!before.empty());
    QCOMPARE(before.front().players(), 0u);

    tests::WsClient ada(server.url());
    QVERIFY(ada.waitConnected());
    protocol::Hello hello;
    hello.set_player_name("Ada");
    hello.set_server_password("x");
    ada.hello(hello);
    QVERIFY2(ada.waitFor([&] { return ada.count(protocol::Envelope::kTick) >= 1; }),
             qPrintable(server.output()));

    querier.query(2);
    const auto after = querier.answers(2, server.port(), 3000);
    QVERIFY(!after.empty());
    QCOMPARE(after.front().players(), 1u);

    // Gone from its WebSocket, Ada no longer counts.
    ada.m_socket.close();
    bool zero = false;
    for (std::uint64_t nonce = 100; nonce < 120 && !zero; ++nonce) {
        querier.query(nonce);
        const auto now = querier.answers(nonce, server.port(), 1000);
        zero = !now.empty() && now.front().players() == 0;
        if (!zero)
            QTest::qWait(250);
    }
    QVERIFY(zero);
}

void tst_Lan::announcesUnsolicitedWithinThreeSeconds()
{
    // A listener like a client's, sharing the port with the server's own socket.
    QUdpSocket listener;
    QVERIFY(listener.bind(QHostAddress::AnyIPv4, protocol::kLanDiscoveryPort,
                          QUdpSocket::ShareAddress | QUdpSocket::ReuseAddressHint));
    ServerProcess server;
    QVERIFY2(server.start({"--announce", "--size", "4", "--world", "Heard"}),
             qPrintable(server.output()));
    QElapsedTimer timer;
    timer.start();
    std::optional<protocol::LanAnnouncement> heard;
    int count = 0;
    while (timer.elapsed() < 3500 && count < 2) {
        while (listener.hasPendingDatagrams()) {
            const QNetworkDatagram d = listener.receiveDatagram();
            const auto e = protocol::decodeEnvelope(d.data());
            if (e && e->has_lan_announcement() && e->lan_announcement().port() == server.port()) {
                heard = e->lan_announcement();
                ++count;
            }
        }
        QTest::qWait(10);
    }
    QVERIFY2(heard, "no unsolicited announcement within 3.5 s");
    // One at start, the next a second later.
    QCOMPARE(count, 2);
    QCOMPARE(heard->nonce(), 0u);
    QCOMPARE(QString::fromStdString(heard->world_name()), QStringLiteral("Heard"));
    QCOMPARE(heard->password(), false);
}

void tst_Lan::ignoresJunkAndOtherVersions()
{
    // The server says at debug level what it ignored.
    qputenv("QT_LOGGING_RULES", "hex.lan.debug=true");
    ServerProcess server;
    const bool started = server.start({"--announce", "--size", "4"});
    qunsetenv("QT_LOGGING_RULES");
    QVERIFY2(started, qPrintable(server.output()));
    Querier querier;
    querier.sendRaw(QByteArray("\xff\xff\xff\xff garbage", 12));
    querier.sendRaw(QByteArray());
    querier.sendRaw(QByteArray(2000, 'x'));
    querier.query(7, protocol::kProtocolVersion + 1);
    querier.query(8, protocol::kProtocolVersion - 1);
    // A valid Envelope that is no query: a Hello.
    protocol::Envelope hello;
    hello.mutable_hello()->set_protocol_version(protocol::kProtocolVersion);
    querier.sendRaw(protocol::encodeEnvelope(hello));
    QVERIFY(querier.answers(7, server.port(), 1500).empty());
    QVERIFY(querier.answers(8, server.port(), 100).empty());
    QVERIFY(server.running());

    querier.query(9);
    QVERIFY2(!querier.answers(9, server.port(), 3000).empty(), qPrintable(server.output()));

    QCOMPARE(server.stop(), 0);
    const QString log = server.output();
    QVERIFY2(log.contains("ignoring an undecodable datagram"), qPrintable(log));
    QVERIFY2(log.contains("ignoring an oversized datagram"), qPrintable(log));
    QVERIFY2(log.contains(QStringLiteral("ignoring a LanQuery of protocol version %1")
                              .arg(protocol::kProtocolVersion + 1)),
             qPrintable(log));
    QVERIFY2(log.contains("ignoring a datagram that is no LanQuery"), qPrintable(log));
}

void tst_Lan::twoServersBothAnswer()
{
    ServerProcess first;
    QVERIFY2(first.start({"--announce", "--size", "4", "--world", "One"}),
             qPrintable(first.output()));
    ServerProcess second;
    QVERIFY2(second.start({"--announce", "--size", "4", "--world", "Two"}),
             qPrintable(second.output()));
    Querier querier;
    querier.query(42);
    const auto fromFirst = querier.answers(42, first.port(), 3000);
    const auto fromSecond = querier.answers(42, second.port(), 3000);
    QVERIFY2(!fromFirst.empty(), qPrintable(first.output()));
    QVERIFY2(!fromSecond.empty(), qPrintable(second.output()));
    QCOMPARE(QString::fromStdString(fromFirst.front().world_name()), QStringLiteral("One"));
    QCOMPARE(QString::fromStdString(fromSecond.front().world_name()), QStringLiteral("Two"));
}

void tst_Lan::withoutAnnounceStaysSilent()
{
    ServerProcess server;
    QVERIFY2(server.start({"--size", "4"}), qPrintable(server.output()));
    Querier querier;
    querier.query(77);
    QVERIFY(querier.answers(77, server.port(), 1500).empty());
}

void tst_Lan::portTakenServerRunsOn()
{
    // A program holding the port without sharing it shuts LAN discovery out.
    QUdpSocket blocker;
    if (!blocker.bind(QHostAddress::AnyIPv4, protocol::kLanDiscoveryPort,
                      QUdpSocket::DontShareAddress))
        QSKIP("UDP port 7358 is in use (another test running?): cannot block it");
    ServerProcess server;
    const bool started = server.start({"--announce", "--size", "4"});
    // The server has tried the port by now: give it back at once, so that other LAN
    // tests running on this machine lose it as briefly as can be.
    blocker.close();
    QVERIFY2(started, qPrintable(server.output()));
    QVERIFY(server.running());
    tests::WsClient ada(server.url());
    QVERIFY2(ada.join("Ada"), qPrintable(server.output()));
    QCOMPARE(server.stop(), 0);
    QVERIFY2(server.output().contains("LAN discovery is not available"),
             qPrintable(server.output()));
}

void tst_Lan::announceTargets()
{
    const QHostAddress loopbackBroadcast(QStringLiteral("127.255.255.255"));
    QCOMPARE(server::LanAnnouncer::announceTargets(QHostAddress(QHostAddress::LocalHost)),
             QList<QHostAddress>{loopbackBroadcast});

    QList<QHostAddress> broadcasts;
    QHostAddress someInterfaceAddress;
    for (const QNetworkInterface &interface : QNetworkInterface::allInterfaces()) {
        const auto flags = interface.flags();
        if (!flags.testFlag(QNetworkInterface::IsUp)
            || !flags.testFlag(QNetworkInterface::CanBroadcast)
            || flags.testFlag(QNetworkInterface::IsLoopBack))
            continue;
        for (const QNetworkAddressEntry &entry : interface.addressEntries())
            if (entry.ip().protocol() == QAbstractSocket::IPv4Protocol
                && !entry.broadcast().isNull()) {
                broadcasts << entry.broadcast();
                someInterfaceAddress = entry.ip();
            }
    }
    const auto all = server::LanAnnouncer::announceTargets(QHostAddress(QHostAddress::Any));
    QVERIFY(all.contains(loopbackBroadcast));
    for (const QHostAddress &broadcast : broadcasts)
        QVERIFY2(all.contains(broadcast), qPrintable(broadcast.toString()));
    if (someInterfaceAddress.isNull())
        QSKIP("no IPv4 interface that can broadcast");
    const auto one = server::LanAnnouncer::announceTargets(someInterfaceAddress);
    QVERIFY(!one.isEmpty());
    QVERIFY(!one.contains(loopbackBroadcast));
    for (const QHostAddress &target : one)
        QVERIFY(broadcasts.contains(target));
}

QTEST_GUILESS_MAIN(tst_Lan)
#include "tst_lan.moc"
