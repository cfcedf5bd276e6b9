// ActionPredictor: the player's own actions show at once, by the simulation's rules,
// and roll back when the server refuses them.
#include "net/actionpredictor.h"

#include "protocol/worldcodec.h"
#include "sim/terrain.h"
#include "sim/world.h"

#include <QTest>

using namespace hex;
using client::ActionPredictor;
using client::ProvisionalCell;

namespace {

bool isLand(const protocol::VisibleCells &cells, geometry::CellId cell)
{
    const auto terrain = sim::Terrain(cells.terrain[cell]);
    return terrain != sim::Terrain::DeepWater && terrain != sim::Terrain::ShallowWater;
}

} // namespace

class tst_ActionPredictor : public QObject
{
    Q_OBJECT
private slots:
    void init();
    void aClaimShowsAtOnceAndRollsBackWhenRefused();
    void laterActionsBuildOnPendingOnes();
    void predictionsFollowTheSimulationsRules();
    void serverTicksRebaseThePredictions();

private:
    sim::Action claim(geometry::CellId cell)
    {
        sim::Action a;
        a.kind = sim::ActionKind::Claim;
        a.player = m_player;
        a.clientSeq = ++m_seq;
        a.cell = cell;
        return a;
    }
    /// A land cell nobody owns, with a land neighbour nobody owns.
    std::pair<geometry::CellId, geometry::CellId> landPair() const
    {
        const geometry::HexSphere &sphere = *m_world->state().sphere;
        for (geometry::CellId cell = 12; cell < m_cells.cellCount(); ++cell) {
            if (!isLand(m_cells, cell))
                continue;
            for (const geometry::CellId n : sphere.neighbours(cell)) {
                if (isLand(m_cells, n))
                    return {cell, n};
            }
        }
        qFatal("no land pair");
    }

    std::shared_ptr<const sim::Content> m_content;
    std::unique_ptr<sim::World> m_world;
    protocol::VisibleCells m_cells;
    sim::PlayerId m_player = 0;
    std::uint32_t m_seq = 0;
};

void tst_ActionPredictor::init()
{
    auto content = sim::loadDefaultContent();
    if (!content)
        QFAIL(qPrintable(content.error()));
    m_content = std::make_shared<const sim::Content>(std::move(*content));
    m_world = std::make_unique<sim::World>(std::make_shared<const geometry::HexSphere>(8),
                                           m_content, 3);
    m_player = m_world->addPlayer(QStringLiteral("Pia"));
    m_cells = protocol::visibleCells(m_world->state());
    m_seq = 0;
}

void tst_ActionPredictor::aClaimShowsAtOnceAndRollsBackWhenRefused()
{
    ActionPredictor predictor(m_content);
    predictor.reset(m_world->state().sphere, m_cells, m_player,
                    m_world->state().players[m_player].inventory);
    const auto [cell, neighbour] = landPair();
    const sim::Action action = claim(cell);
    const auto prediction = predictor.predict(action);
    QCOMPARE(prediction.reason, sim::RejectReason::None);
    QCOMPARE(prediction.cells, std::vector<geometry::CellId>{cell});
    const auto look = predictor.provisional(cell);
    QVERIFY(look);
    QCOMPARE(look->owner, m_player);
    QCOMPARE(predictor.pendingCount(), std::size_t(1));
    // The server said no (say another player was first): the cell shows the mirror.
    QCOMPARE(predictor.resolve(action.clientSeq), std::vector<geometry::CellId>{cell});
    QVERIFY(!predictor.provisional(cell));
    QCOMPARE(predictor.pendingCount(), std::size_t(0));
    QVERIFY(predictor.resolve(action.clientSeq).empty());
}

void tst_ActionPredictor::laterActionsBuildOnPendingOnes()
{
    ActionPredictor predictor(m_content);
    predictor.reset(m_world->state().sphere, m_cells, m_player,
                    m_world->state().players[m_player].inventory);
    const auto [cell, neighbour] = landPair();
    const geometry::HexSphere &sphere = *m_world->state().sphere;
    // Land far from `cell`: not it, not next to it, not next to its neighbour.
    geometry::CellId far = geometry::CellId(m_cells.cellCount() - 1);
    auto touches = [&](geometry::CellId a, geometry::CellId b) {
        const auto n = sphere.neighbours(a);
        return a == b || std::find(n.begin(), n.end(), b) != n.end();
    };
    while (!isLand(m_cells, far) || touches(far, cell) || touches(far, neighbour))
        --far;
    // With `cell` claimed (pending), a far claim is no longer a free first claim.
    const sim::Action first = claim(cell);
    QCOMPARE(predictor.predict(first).reason, sim::RejectReason::None);
    const sim::Action farClaim = claim(far);
    QCOMPARE(predictor.predict(farClaim).reason, sim::RejectReason::NotAdjacent);
    QVERIFY(!predictor.provisional(far));
    const sim::Action next = claim(neighbour);
    QCOMPARE(predictor.predict(next).reason, sim::RejectReason::None);
    QVERIFY(predictor.provisional(neighbour));
    const sim::Action again = claim(cell);
    QCOMPARE(predictor.predict(again).reason, sim::RejectReason::AlreadyYours);
    // The server refuses the first claim: the far claim is now the first, and shows;
    // the neighbour's claim no longer touches anything of ours, and does not.
    const auto redraw = predictor.resolve(first.clientSeq);
    QVERIFY(!predictor.provisional(cell));
    QVERIFY(predictor.provisional(far));
    QVERIFY(!predictor.provisional(neighbour));
    QCOMPARE(redraw.size(), std::size_t(3));
}

void tst_ActionPredictor::predictionsFollowTheSimulationsRules()
{
    // Every prediction's verdict equals the server's, for actions applied one per tick.
    ActionPredictor predictor(m_content);
    predictor.reset(m_world->state().sphere, m_cells, m_player,
                    m_world->state().players[m_player].inventory);
    const auto [cell, neighbour] = landPair();
    geometry::CellId water = 0;
    while (isLand(m_cells, water))
        ++water;
    std::vector<sim::Action> actions{claim(water), claim(cell), claim(cell)};
    sim::Action build;
    build.kind = sim::ActionKind::Build;
    build.player = m_player;
    build.clientSeq = ++m_seq;
    build.cell = cell;
    QVERIFY(m_content->findPrototype(QStringLiteral("chest"), &build.prototype));
    actions.push_back(build);
    sim::Action far = claim(geometry::CellId(m_cells.cellCount() - 1));
    actions.push_back(far);
    int refused = 0;
    for (const sim::Action &action : actions) {
        const auto predicted = predictor.predict(action).reason;
        m_world->queueAction(action);
        const sim::StepResult step = m_world->step();
        QCOMPARE(step.actions.size(), std::size_t(1));
        QCOMPARE(predicted, step.actions.front().reason);
        refused += predicted != sim::RejectReason::None;
        // The server's answer and its deltas arrive; the client takes them.
        std::vector<geometry::CellId> changed;
        for (const sim::ChunkDelta &delta : step.deltas)
            changed.insert(changed.end(), delta.cells.begin(), delta.cells.end());
        m_cells = protocol::visibleCells(m_world->state());
        predictor.sync(m_cells, changed, m_world->state().players[m_player].inventory);
        predictor.resolve(action.clientSeq);
        QVERIFY(!predictor.provisional(action.cell));
    }
    // Water first claim, a second claim of one's own cell, a claim far away: refused.
    QCOMPARE(refused, 3);
}

void tst_ActionPredictor::serverTicksRebaseThePredictions()
{
    ActionPredictor predictor(m_content);
    predictor.reset(m_world->state().sphere, m_cells, m_player,
                    m_world->state().players[m_player].inventory);
    const auto [cell, neighbour] = landPair();
    // Another player takes `cell` on the server before our claim is answered: the
    // next tick's rebase shows the truth, and our prediction turns into a refusal.
    const sim::PlayerId other = m_world->addPlayer(QStringLiteral("Otto"));
    const sim::Action ours = claim(cell);
    QVERIFY(predictor.predict(ours).cells.size() == 1);
    sim::Action theirs = claim(cell);
    theirs.player = other;
    m_world->queueAction(theirs);
    const sim::StepResult step = m_world->step();
    std::vector<geometry::CellId> changed;
    for (const sim::ChunkDelta &delta : step.deltas)
        changed.insert(changed.end(), delta.cells.begin(), delta.cells.end());
    m_cells = protocol::visibleCells(m_world->state());
    const auto redraw = predictor.sync(m_cells, changed, m_world->state().players[m_player].inventory);
    QCOMPARE(redraw, std::vector<geometry::CellId>{cell});
    QVERIFY(!predictor.provisional(cell));
    QCOMPARE(predictor.pendingCount(), std::size_t(1));
}

QTEST_GUILESS_MAIN(tst_ActionPredictor)
#include "tst_actionpredictor.moc"
