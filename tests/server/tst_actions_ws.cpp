// Integration: players act over WebSocket against a real hexsphere-server process.
#include "serverprocess.h"
#include "wsclient.h"

#include "geometry/hexsphere.h"
#include "protocol/codec.h"
#include "protocol/protocolversion.h"
#include "protocol/worldcodec.h"
#include "sim/actions.h"
#include "sim/content.h"
#include "sim/terrain.h"

#include <QElapsedTimer>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>

#include <map>
#include <optional>
#include <vector>

using namespace hex;

using hex::tests::Inventory;
using Client = hex::tests::WsClient;

class tst_ActionsWs : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void claimAndBuildAreAcknowledged();
    void anotherPlayersCellIsRefused_data();
    void anotherPlayersCellIsRefused();
    void aRaceForOneCellHasOneWinner();
    void badActionsAreRefused_data();
    void badActionsAreRefused();
    void aFloodIsRateLimited();
    void aConnectedNameIsRefused();
    void aReturningNameGetsItsPlayerBack();
    void namelessGuestsGetPlayersOfTheirOwn();

private:
    sim::PrototypeId m_chest = 0;
    Inventory m_startingInventory;
    Inventory m_afterChest;
};

namespace {

constexpr int kSize = 8; // 642 cells

QString message(const protocol::ActionResult &r)
{
    return QString::fromStdString(r.message());
}

} // namespace

void tst_ActionsWs::initTestCase()
{
    const auto content = sim::loadDefaultContent();
    QVERIFY2(content, qPrintable(content ? QString() : content.error()));
    QVERIFY(content->findPrototype(QStringLiteral("chest"), &m_chest));
    for (const sim::ItemStack &stack : content->startingInventory)
        m_startingInventory[stack.item] += stack.count;
    m_afterChest = m_startingInventory;
    for (const sim::ItemStack &stack : content->prototypes[m_chest].buildCost) {
        QVERIFY(m_afterChest[stack.item] >= stack.count);
        m_afterChest[stack.item] -= stack.count;
        if (m_afterChest[stack.item] == 0)
            m_afterChest.erase(stack.item);
    }
    QVERIFY(m_afterChest != m_startingInventory);
}

void tst_ActionsWs::claimAndBuildAreAcknowledged()
{
    ServerProcess server;
    QVERIFY2(server.start({"--size", QString::number(kSize)}), qPrintable(server.output()));
    Client ada(server.url());
    QVERIFY(ada.join("Ada"));
    const std::uint64_t joinTick = ada.first(protocol::Envelope::kSnapshot)->snapshot().tick();
    // The first TickUpdate carries the starting inventory.
    QVERIFY(ada.first(protocol::Envelope::kTick)->tick().inventory_size() > 0);
    QVERIFY(ada.inventory() == m_startingInventory);

    const auto free = ada.freeGrassland(kSize);
    QVERIFY(!free.empty());
    const std::uint32_t cell = free.front();
    const std::uint32_t claim = ada.act(protocol::CLAIM, cell);
    QVERIFY(ada.waitResult(claim));
    const std::uint32_t build = ada.act(protocol::BUILD, cell, m_chest, 2);
    QVERIFY(ada.waitResult(build));

    for (const std::uint32_t seq : {claim, build}) {
        const auto r = *ada.result(seq);
        QCOMPARE(r.reason(), 0u);
        QCOMPARE(message(r), QString());
        QCOMPARE(r.cell(), cell);
        QVERIFY(r.tick() > joinTick);
    }
    QVERIFY(ada.result(build)->tick() > ada.result(claim)->tick());
    QVERIFY(ada.waitFor([&] { return ada.inventory() == m_afterChest; }));
    const auto cells = ada.mirror(kSize);
    QCOMPARE(cells.owner[cell], std::uint16_t(ada.playerId()));
    QCOMPARE(cells.structure[cell], m_chest);
    QCOMPARE(cells.orientation[cell], std::uint8_t(2));
    QCOMPARE(ada.errors().size(), std::size_t(0));
    QCOMPARE(ada.m_undecodable, 0);
}

void tst_ActionsWs::anotherPlayersCellIsRefused_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("reason");
    QTest::newRow("claiming it: another player owns it")
        << int(protocol::CLAIM) << int(sim::RejectReason::CellTaken);
    QTest::newRow("building on it: not your cell")
        << int(protocol::BUILD) << int(sim::RejectReason::NotYourCell);
    QTest::newRow("removing from it: not your cell")
        << int(protocol::REMOVE) << int(sim::RejectReason::NotYourCell);
}

void tst_ActionsWs::anotherPlayersCellIsRefused()
{
    QFETCH(int, kind);
    QFETCH(int, reason);
    ServerProcess server;
    QVERIFY2(server.start({"--size", QString::number(kSize)}), qPrintable(server.output()));
    Client ada(server.url());
    QVERIFY(ada.join("Ada"));
    Client bob(server.url());
    QVERIFY(bob.join("Bob"));
    QVERIFY(ada.playerId() != bob.playerId());
    const std::uint32_t cell = ada.freeGrassland(kSize).front();
    const std::uint32_t claim = ada.act(protocol::CLAIM, cell);
    QVERIFY(ada.waitResult(claim));
    QCOMPARE(ada.result(claim)->reason(), 0u);
    const std::uint32_t build = ada.act(protocol::BUILD, cell, m_chest);
    QVERIFY(ada.waitResult(build));

    const std::uint32_t seq = bob.act(protocol::ActionKind(kind), cell, m_chest);
    QVERIFY(bob.waitResult(seq));
    const auto r = *bob.result(seq);
    QCOMPARE(int(r.reason()), reason);
    QCOMPARE(message(r), sim::describe(sim::RejectReason(reason)));
    QCOMPARE(r.cell(), cell);
    // Results go only to their own player.
    QVERIFY(!ada.result(seq) || ada.result(seq)->tick() != r.tick());
    QCOMPARE(ada.resultCount(), 2);
    QCOMPARE(bob.resultCount(), 1);
    QVERIFY(ada.waitFor([&] { return ada.lastTick() > r.tick(); }));
    const auto cells = ada.mirror(kSize);
    QCOMPARE(cells.owner[cell], std::uint16_t(ada.playerId()));
    QCOMPARE(cells.structure[cell], m_chest);
    QVERIFY(bob.inventory() == m_startingInventory);
}

void tst_ActionsWs::aRaceForOneCellHasOneWinner()
{
    ServerProcess server;
    QVERIFY2(server.start({"--size", QString::number(kSize)}), qPrintable(server.output()));
    Client ada(server.url());
    QVERIFY(ada.join("Ada"));
    Client bob(server.url());
    QVERIFY(bob.join("Bob"));
    const std::uint32_t cell = ada.freeGrassland(kSize).front();
    const std::uint32_t adaSeq = ada.act(protocol::CLAIM, cell);
    const std::uint32_t bobSeq = bob.act(protocol::CLAIM, cell);
    QVERIFY(ada.waitResult(adaSeq));
    QVERIFY(bob.waitResult(bobSeq));
    const auto a = *ada.result(adaSeq);
    const auto b = *bob.result(bobSeq);
    QCOMPARE(int(a.reason() == 0) + int(b.reason() == 0), 1);
    const auto &loser = a.reason() == 0 ? b : a;
    const std::uint32_t winner = a.reason() == 0 ? ada.playerId() : bob.playerId();
    // In the same tick the later one finds the cell busy; in a later tick, taken.
    QVERIFY2(loser.reason() == std::uint32_t(sim::RejectReason::CellBusy)
                 || loser.reason() == std::uint32_t(sim::RejectReason::CellTaken),
             loser.message().c_str());
    QCOMPARE(message(loser), sim::describe(sim::RejectReason(loser.reason())));
    const std::uint64_t last = std::max(a.tick(), b.tick());
    QVERIFY(ada.waitFor([&] { return ada.lastTick() > last; }));
    QCOMPARE(std::uint32_t(ada.mirror(kSize).owner[cell]), winner);
}

void tst_ActionsWs::badActionsAreRefused_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<QString>("message");
    // Every row but the raw ones names a free grassland cell in `cell`, set by the test.
    const auto action = [](protocol::ActionKind kind, std::uint32_t cell, auto change) {
        protocol::Envelope e;
        protocol::ClientAction *a = e.mutable_client_action();
        a->set_client_seq(1);
        a->set_kind(kind);
        a->set_cell(cell);
        change(*a);
        return protocol::encodeEnvelope(e);
    };
    const std::uint32_t cells = 10 * kSize * kSize + 2;
    QTest::newRow("no kind") << action(protocol::ACTION_KIND_UNSPECIFIED, 0, [](auto &) {})
                             << "The action's kind 0 is not one of the known kinds 1..7.";
    // Field 6 (client_action), length 2: field 2 (kind) = 99.
    QTest::newRow("an unknown kind") << QByteArray("\x32\x02\x10\x63", 4)
                                     << "The action's kind 99 is not one of the known kinds 1..7.";
    QTest::newRow("a cell past the last") << action(protocol::CLAIM, cells, [](auto &) {
    }) << QStringLiteral("The action's cell %1 does not exist: the world has %1 cells.").arg(cells);
    QTest::newRow("orientation 9")
        << action(protocol::CLAIM, 0, [](auto &a) { a.set_orientation(9); })
        << "The action's orientation is 9, but it must be at most 5.";
    QTest::newRow("a prototype id too large for the simulation")
        << action(protocol::CLAIM, 0, [](auto &a) { a.set_prototype(70'000); })
        << "The action's prototype is 70000, but it must be at most 65535.";
    QTest::newRow("a recipe id too large")
        << action(protocol::CLAIM, 0, [](auto &a) { a.set_recipe(65'536); })
        << "The action's recipe is 65536, but it must be at most 65535.";
    QTest::newRow("an item id too large")
        << action(protocol::CLAIM, 0, [](auto &a) { a.set_item(1u << 20); })
        << "The action's item is 1048576, but it must be at most 65535.";
    QTest::newRow("a count too large")
        << action(protocol::CLAIM, 0, [](auto &a) { a.set_count(100'000); })
        << "The action's count is 100000, but it must be at most 65535.";
}

void tst_ActionsWs::badActionsAreRefused()
{
    QFETCH(QByteArray, frame);
    QFETCH(QString, message);
    ServerProcess server;
    QVERIFY2(server.start({"--size", QString::number(kSize)}), qPrintable(server.output()));
    Client ada(server.url());
    QVERIFY(ada.join("Ada"));
    // Aim every in-range claim at a cell that it would take, were it queued.
    const std::uint32_t cell = ada.freeGrassland(kSize).front();
    auto envelope = protocol::decodeEnvelope(frame);
    QVERIFY(envelope);
    if (envelope->client_action().cell() == 0)
        envelope->mutable_client_action()->set_cell(cell);
    ada.send(*envelope);
    QVERIFY(ada.waitFor([&] { return ada.errors().size() == 1; }));
    const auto error = ada.errors().front();
    QCOMPARE(error.code(), protocol::Error::BAD_ACTION);
    QCOMPARE(QString::fromStdString(error.message()), message);

    // Nothing was queued: no result comes, and the cell stays free.
    const std::uint64_t refusedAt = ada.lastTick();
    QVERIFY(ada.waitFor([&] { return ada.lastTick() > refusedAt + 5; }));
    QCOMPARE(ada.resultCount(), 0);
    QCOMPARE(ada.mirror(kSize).owner[cell], sim::kNoPlayer);
    QVERIFY(ada.inventory() == m_startingInventory);
    QCOMPARE(ada.m_socket.state(), QAbstractSocket::ConnectedState);
}

void tst_ActionsWs::aFloodIsRateLimited()
{
    ServerProcess server;
    QVERIFY2(server.start({"--size", QString::number(kSize)}), qPrintable(server.output()));
    Client ada(server.url());
    QVERIFY(ada.join("Ada"));
    Client bob(server.url());
    QVERIFY(bob.join("Bob"));
    const auto free = ada.freeGrassland(kSize);
    QVERIFY(free.size() >= 2);

    const int flood = 200;
    for (int i = 0; i < flood; ++i)
        ada.act(protocol::CLAIM, free[std::size_t(i) % (free.size() - 1)]);
    QVERIFY(
        ada.waitFor([&] { return ada.errors().size() + std::size_t(ada.resultCount()) == flood; }));
    const auto errors = ada.errors();
    // The bucket holds 40 and refills at 20 per second while the burst goes out.
    QVERIFY2(errors.size() >= 100 && errors.size() <= 160,
             qPrintable(QString::number(errors.size())));
    static const QRegularExpression retry(QStringLiteral(
        R"(^Too many actions: at most 20 per second, 40 at once\. Action (\d+) was not queued; )"
        R"(try again in (\d+) ms\.$)"));
    for (const auto &error : errors) {
        QCOMPARE(error.code(), protocol::Error::RATE_LIMITED);
        const auto match = retry.match(QString::fromStdString(error.message()));
        QVERIFY2(match.hasMatch(), error.message().c_str());
        QVERIFY(match.captured(1).toInt() > 40);
        QVERIFY(match.captured(2).toInt() >= 1 && match.captured(2).toInt() <= 50);
    }
    // Meanwhile another player is served as usual.
    const std::uint32_t bobSeq = bob.act(protocol::CLAIM, free.back());
    QVERIFY(bob.waitResult(bobSeq));
    QCOMPARE(bob.result(bobSeq)->reason(), 0u);
    QCOMPARE(bob.errors().size(), std::size_t(0));
    // And after a pause, so is the flooder.
    QTest::qWait(200);
    const std::uint32_t later = ada.act(protocol::REMOVE, free.front());
    QVERIFY(ada.waitResult(later));
    QCOMPARE(ada.errors().size(), errors.size());
}

void tst_ActionsWs::aConnectedNameIsRefused()
{
    ServerProcess server;
    QVERIFY2(server.start({"--size", QString::number(kSize)}), qPrintable(server.output()));
    Client ada(server.url());
    QVERIFY(ada.join("Ada"));
    Client impostor(server.url());
    QVERIFY(impostor.waitConnected());
    impostor.hello("Ada");
    QVERIFY(impostor.waitFor([&] { return impostor.errors().size() == 1; }));
    QCOMPARE(impostor.errors().front().code(), protocol::Error::NAME_IN_USE);
    QCOMPARE(QString::fromStdString(impostor.errors().front().message()),
             QStringLiteral("The name \"Ada\" is already playing on this server: choose another."));
    QVERIFY(impostor.waitFor(
        [&] { return impostor.m_socket.state() == QAbstractSocket::UnconnectedState; }));
    QCOMPARE(impostor.count(protocol::Envelope::kWorldInfo), 0);
    // Ada plays on.
    const int ticks = ada.count(protocol::Envelope::kTick);
    QVERIFY(ada.waitFor([&] { return ada.count(protocol::Envelope::kTick) > ticks + 2; }));
    QCOMPARE(ada.m_socket.state(), QAbstractSocket::ConnectedState);
}

void tst_ActionsWs::aReturningNameGetsItsPlayerBack()
{
    ServerProcess server;
    QVERIFY2(server.start({"--size", QString::number(kSize)}), qPrintable(server.output()));
    std::uint32_t cell = 0;
    std::uint32_t adaId = 0;
    {
        Client ada(server.url());
        QVERIFY(ada.join("Ada"));
        adaId = ada.playerId();
        cell = ada.freeGrassland(kSize).front();
        QVERIFY(ada.waitResult(ada.act(protocol::CLAIM, cell)));
        QVERIFY(ada.waitResult(ada.act(protocol::BUILD, cell, m_chest)));
        QVERIFY(ada.waitFor([&] { return ada.inventory() == m_afterChest; }));
        ada.m_socket.close();
        QVERIFY(
            ada.waitFor([&] { return ada.m_socket.state() == QAbstractSocket::UnconnectedState; }));
    }
    Client bob(server.url());
    QVERIFY(bob.join("Bob"));
    QVERIFY(bob.playerId() != adaId);

    Client again(server.url());
    QVERIFY(again.join("Ada"));
    QCOMPARE(again.playerId(), adaId);
    QVERIFY(again.inventory() == m_afterChest);
    // The chest stayed in the world while Ada was away.
    const auto cells = again.mirror(kSize);
    QCOMPARE(std::uint32_t(cells.owner[cell]), adaId);
    QCOMPARE(cells.structure[cell], m_chest);
}

void tst_ActionsWs::namelessGuestsGetPlayersOfTheirOwn()
{
    ServerProcess server;
    QVERIFY2(server.start({"--size", QString::number(kSize)}), qPrintable(server.output()));
    Client named(server.url());
    QVERIFY(named.join("Guest 2")); // the name the first guest would otherwise get
    Client first(server.url());
    QVERIFY(first.join(""));
    Client second(server.url());
    QVERIFY(second.join("  "));
    const std::vector<std::uint32_t> ids = {named.playerId(), first.playerId(), second.playerId()};
    QCOMPARE(ids, std::vector<std::uint32_t>({0, 1, 2}));
    QCOMPARE(first.errors().size() + second.errors().size(), std::size_t(0));
    QVERIFY(first.inventory() == m_startingInventory);
}

QTEST_GUILESS_MAIN(tst_ActionsWs)
#include "tst_actions_ws.moc"
