// The database goes away under a running hexsphere-server: a real PostgreSQL that the
// test stops for several seconds while a bot acts. The server keeps ticking and serving,
// keeps the backlog in memory and says so (status, a loud log line), drains it once the
// database is back, and after a kill -9 everything acknowledged durable is there.
#include "actingbot.h"
#include "httpclient.h"
#include "killableserver.h"
#include "wsclient.h"

#include "support/postgresserver.h"

#include "sim/content.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

using namespace hex;
using namespace hex::tests;

namespace {

constexpr int kSize = 16;
constexpr int kActionIntervalMs = 70;

/// The persistence part of GET /api/v1/status.
struct StoreStatus
{
    std::uint64_t durableTick = 0;
    std::uint64_t backlogTicks = 0;
    std::uint64_t backlogEvents = 0;
    bool backlogFull = false;
    bool connected = false;
};

/// A JSON number, or a 64-bit number written as a string (the protobuf JSON mapping).
std::uint64_t toU64(const QJsonValue &v)
{
    return v.isString() ? v.toString().toULongLong() : std::uint64_t(v.toDouble());
}

std::optional<StoreStatus> storeStatus(quint16 port, QString *body)
{
    HttpConnection http(port);
    const HttpResponse r = http.request("GET", "/api/v1/status", {}, {}, 10'000);
    *body = QString::fromUtf8(r.body);
    if (r.status != 200)
        return std::nullopt;
    const QJsonObject p = QJsonDocument::fromJson(r.body).object().value("persistence").toObject();
    if (p.isEmpty() || !p.contains("connected") || !p.contains("backlogTicks"))
        return std::nullopt;
    StoreStatus s;
    s.durableTick = toU64(p.value("durableTick"));
    s.backlogTicks = toU64(p.value("backlogTicks"));
    s.backlogEvents = toU64(p.value("backlogEvents"));
    s.backlogFull = p.value("backlogFull").toBool();
    s.connected = p.value("connected").toBool();
    return s;
}

} // namespace

class tst_DatabaseDown : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void serverRidesOutAnOutage();

private:
    PostgresServer m_postgres;
    sim::PrototypeId m_conveyor = 0;
};

void tst_DatabaseDown::initTestCase()
{
    const auto content = sim::loadDefaultContent();
    QVERIFY2(content, qPrintable(content ? QString() : content.error()));
    QVERIFY(content->findPrototype(QStringLiteral("conveyor"), &m_conveyor));
    QVERIFY2(m_postgres.start(), qPrintable(m_postgres.errorString()));
}

void tst_DatabaseDown::serverRidesOutAnOutage()
{
    const QStringList args{"--size",     QString::number(kSize), "--world",          "outage",
                           "--database", m_postgres.url(),       "--flush-interval", "500"};
    KillableServer server;
    QVERIFY2(server.start(args), qPrintable(server.tail()));
    std::vector<std::unique_ptr<ActingBot>> bots;
    for (int i = 0; i < 2; ++i) {
        bots.push_back(std::make_unique<ActingBot>(server.url(), QStringLiteral("Bot %1").arg(i),
                                                   kSize, m_conveyor, quint32(7 + i)));
        QVERIFY2(bots.back()->join(), qPrintable(server.tail()));
    }
    const auto land = bots.front()->freeLand();
    QVERIFY(land.size() > 2);
    bots[0]->setFirstCell(land.front());
    bots[1]->setFirstCell(land[land.size() / 2]);
    bool alive = true;
    const auto stillRunning = [&] {
        return alive = server.running();
    };
    const auto maxDurable = [&] {
        std::uint64_t d = 0;
        for (const auto &bot : bots)
            d = std::max(d, bot->maxDurableTick);
        return d;
    };

    // Healthy: the durable tick follows the ticks.
    runBots(bots, 2'000, kActionIntervalMs, stillRunning);
    QVERIFY2(alive, qPrintable(server.tail()));
    QVERIFY2(maxDurable() > 0,
             qPrintable(QStringLiteral("durable_tick never moved with the database up (tick %1, "
                                       "%2 results): %3")
                            .arg(bots.front()->lastTick)
                            .arg(bots.front()->acks.size())
                            .arg(server.tail())));
    QString body;
    auto status = storeStatus(server.port(), &body);
    QVERIFY2(status, qPrintable("no persistence object in GET /api/v1/status: " + body));
    QVERIFY(status->connected);

    // The database goes away for six seconds.
    const std::size_t outputBefore = server.output().size();
    QVERIFY2(m_postgres.stopServer(), qPrintable(m_postgres.errorString()));
    const std::uint64_t tickAtStop = bots.front()->lastTick;
    runBots(bots, 1'500, kActionIntervalMs, stillRunning); // a commit in flight may land
    QVERIFY2(alive, qPrintable(server.tail()));
    const std::uint64_t durableEarly = maxDurable();
    const std::uint64_t tickEarly = bots.front()->lastTick;
    std::vector<StoreStatus> during;
    for (int second = 0; second < 5 && alive; ++second) {
        runBots(bots, 1'000, kActionIntervalMs, stillRunning);
        status = storeStatus(server.port(), &body);
        QVERIFY2(status, qPrintable("GET /api/v1/status while the database is down: " + body));
        during.push_back(*status);
    }
    QVERIFY2(alive, qPrintable(server.tail()));
    const std::uint64_t tickLate = bots.front()->lastTick;
    // Ticks kept coming (20 UPS: about 100 in five seconds) ...
    QVERIFY2(
        tickLate >= tickEarly + 50,
        qPrintable(QStringLiteral("ticks %1 -> %2 in five seconds").arg(tickEarly).arg(tickLate)));
    // ... actions kept getting results ...
    int answeredWhileDown = 0;
    for (const auto &bot : bots) {
        for (const auto &[seq, ack] : bot->acks)
            answeredWhileDown += ack.tick > tickEarly;
    }
    QVERIFY2(answeredWhileDown > 20,
             qPrintable(QStringLiteral("%1 actions answered while the database was down")
                            .arg(answeredWhileDown)));
    // ... and none of them was called durable.
    QCOMPARE(maxDurable(), durableEarly);
    QVERIFY(durableEarly < tickEarly);
    for (const StoreStatus &s : during) {
        QVERIFY(!s.connected);
        QVERIFY(!s.backlogFull);
        QCOMPARE(s.durableTick, durableEarly);
    }
    QVERIFY2(during.back().backlogTicks > during.front().backlogTicks,
             qPrintable(QStringLiteral("the backlog did not grow: %1 -> %2 ticks")
                            .arg(during.front().backlogTicks)
                            .arg(during.back().backlogTicks)));
    QVERIFY(during.back().backlogTicks >= tickLate - durableEarly - 5);
    QVERIFY(during.back().backlogEvents > 0);
    const QString outage = server.output().mid(qsizetype(outputBefore));
    // Loud: a warning that says the database is unreachable, at which tick.
    static const QRegularExpression loud(QStringLiteral(R"(tick \d+: [^\n]*UNREACHABLE)"),
                                         QRegularExpression::CaseInsensitiveOption);
    QVERIFY2(outage.contains(loud), qPrintable("no warning in the log: " + outage.right(2000)));

    // The database comes back: the backlog drains and durable_tick catches up.
    QVERIFY2(m_postgres.startServer(), qPrintable(m_postgres.errorString()));
    const std::uint64_t tickAtRestart = bots.front()->lastTick;
    bool drained = false;
    QElapsedTimer waiting;
    waiting.start();
    while (!drained && waiting.elapsed() < 30'000 && alive) {
        runBots(bots, 500, kActionIntervalMs, stillRunning);
        status = storeStatus(server.port(), &body);
        QVERIFY2(status, qPrintable("GET /api/v1/status after the database came back: " + body));
        drained = status->connected && status->backlogTicks <= 2 && maxDurable() >= tickAtRestart;
    }
    QVERIFY2(alive, qPrintable(server.tail()));
    QVERIFY2(drained, qPrintable(QStringLiteral("not drained in 30 s: %1").arg(body)));
    QVERIFY(status->backlogEvents <= 100);
    qInfo("ticks %llu..%llu without a database; drained in %lld ms",
          static_cast<unsigned long long>(tickAtStop),
          static_cast<unsigned long long>(tickAtRestart), waiting.elapsed());

    // A little more, then a crash: everything acknowledged durable, the actions answered
    // during the outage included, is in the restarted world.
    runBots(bots, 1'000, kActionIntervalMs, stillRunning);
    QVERIFY2(alive, qPrintable(server.tail()));
    server.kill();
    int durableFromOutage = 0;
    for (const auto &bot : bots) {
        bot->absorb();
        for (const auto &[seq, ack] : bot->acks)
            durableFromOutage
                += bot->durable(ack) && ack.tick > durableEarly && ack.tick <= tickAtRestart;
    }
    QVERIFY2(durableFromOutage > 20,
             qPrintable(QStringLiteral("only %1 actions of the outage acknowledged durable")
                            .arg(durableFromOutage)));
    KillableServer restarted;
    QVERIFY2(restarted.start(args), qPrintable(restarted.tail()));
    const auto loaded = findLoadLine(restarted.output());
    QVERIFY2(loaded, qPrintable("no load line in: " + restarted.tail()));
    QVERIFY(loaded->tick >= maxDurable());
    for (const auto &bot : bots) {
        if (const auto it = bot->hashes.find(loaded->tick); it != bot->hashes.end())
            QCOMPARE(loaded->stateHash, it->second);
    }
    ActingBot watcher(restarted.url(), QStringLiteral("Watcher"), kSize, m_conveyor, 1);
    QVERIFY2(watcher.join(), qPrintable(restarted.tail()));
    const protocol::VisibleCells cells = watcher.client.mirror(kSize);
    int claims = 0;
    for (const auto &bot : bots) {
        const DurabilityReport report = checkDurable(*bot, cells, m_conveyor);
        QVERIFY2(report.failure.isEmpty(), qPrintable(report.failure));
        claims += report.durableClaims;
    }
    QVERIFY(claims > 10);
    QCOMPARE(restarted.terminate(), 0);
}

QTEST_MAIN(tst_DatabaseDown)
#include "tst_databasedown.moc"
