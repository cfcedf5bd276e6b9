#include "tinyfactory.h"

#include "sim/actions.h"

#include <QTest>

#include <set>

using namespace hex;
using namespace hex::sim;
using namespace hex::sim::test;

namespace {

std::shared_ptr<const geometry::HexSphere> sphere()
{
    static const auto s = std::make_shared<const geometry::HexSphere>(4);
    return s;
}

const Content &content()
{
    static const Content c = tinyContent();
    return c;
}

/// Places `prototypes` along `line`, each taking from the cell before it and giving to
/// the cell after it (where it has input and output sides); the first and last only
/// give or take.
void placeLine(WorldState &state, const Content &c, const std::vector<CellId> &line,
               const std::vector<PrototypeId> &prototypes)
{
    for (std::size_t i = 0; i < prototypes.size(); ++i) {
        const PrototypeDef &p = c.prototypes[prototypes[i]];
        const CellId from = i == 0 || !p.inputSides ? geometry::kNoCell : line[i - 1];
        const CellId to
            = i + 1 == prototypes.size() || !p.outputSides ? geometry::kNoCell : line[i + 1];
        const auto o
            = orientationFor(*state.sphere, c.prototypes[prototypes[i]], line[i], from, to);
        QVERIFY2(o, qPrintable(c.prototypes[prototypes[i]].key));
        place(state, line[i], prototypes[i], *o);
    }
}

std::uint32_t inputOf(const WorldState &state, CellId cell, ItemId item)
{
    return countOf(state.machines.at(cell).input, item);
}

std::uint32_t outputOf(const WorldState &state, CellId cell, ItemId item)
{
    return countOf(state.machines.at(cell).output, item);
}

std::uint64_t total(const std::map<ItemId, std::uint64_t> &counts)
{
    std::uint64_t sum = 0;
    for (const auto &[item, count] : counts)
        sum += count;
    return sum;
}

/// Lanes keep their items apart: progress falls by at least the spacing front to back.
bool lanesKeepTheirSpacing(const WorldState &state, const Content &c)
{
    for (const auto &[cell, machine] : state.machines) {
        const PrototypeDef &p = c.prototypes[state.structure[cell]];
        if (p.kind != MachineKind::Conveyor && p.kind != MachineKind::Splitter)
            continue;
        const int capacity = std::min<int>(p.capacity, ConveyorLane::kLaneSlots);
        const int spacing = std::max(1, p.ticksPerOperation / capacity);
        if (machine.lane.count > capacity)
            return false;
        for (int i = 1; i < machine.lane.count; ++i) {
            if (machine.lane.progress[i] + spacing > machine.lane.progress[i - 1])
                return false;
        }
    }
    return true;
}

} // namespace

class tst_Factory : public QObject
{
    Q_OBJECT
private slots:
    void sidesCountFromOrientation_data();
    void sidesCountFromOrientation();
    void conveyorLatency_data();
    void conveyorLatency();
    void conveyorFacingAwayMovesNothing();
    void backpressureAndResume();
    void extractor_data();
    void extractor();
    void assemblerCycle_data();
    void assemblerCycle();
    void assemblerTakesOnlyItsInputs_data();
    void assemblerTakesOnlyItsInputs();
    void productionChain();
    void splitterAlternates_data();
    void splitterAlternates();
    void inserterMovesItems_data();
    void inserterMovesItems();
    void inserterFeedsOnlyWhatTheFrontTakes();
    void storageHoldsArrivalsForATick_data();
    void storageHoldsArrivalsForATick();
    void seederPlantsFlora_data();
    void seederPlantsFlora();
    void scrubberCleans_data();
    void scrubberCleans();
    void conservation();
    void removedMachineReturnsItems_data();
    void removedMachineReturnsItems();
    void shippedContent();
};

void tst_Factory::sidesCountFromOrientation_data()
{
    QTest::addColumn<CellId>("cell");
    QTest::addColumn<int>("orientation");
    QTest::addColumn<int>("side");
    QTest::addColumn<int>("slot");

    const CellId hexagon = findLine(*sphere(), 1).front();
    QTest::newRow("hexagon facing 0, side 1 is slot 1") << hexagon << 0 << 1 << 1;
    QTest::newRow("hexagon facing 4, side 2 is slot 0") << hexagon << 4 << 2 << 0;
    QTest::newRow("hexagon facing 5, side 5 is slot 4") << hexagon << 5 << 5 << 4;
    QTest::newRow("pentagon facing 3, side 4 is slot 2") << CellId(0) << 3 << 4 << 2;
    QTest::newRow("pentagon facing 4, side 1 is slot 0") << CellId(7) << 4 << 1 << 0;
}

void tst_Factory::sidesCountFromOrientation()
{
    QFETCH(CellId, cell);
    QFETCH(int, orientation);
    QFETCH(int, side);
    QFETCH(int, slot);
    // An outbox that pushes out of `side` only, with chests all round.
    Content c = tinyContent();
    c.prototypes[Outbox].outputSides = sides({side});
    WorldState state = emptyWorld(sphere());
    place(state, cell, Outbox, std::uint8_t(orientation)).input = {{Ore, 1}};
    const auto around = sphere()->neighbours(cell);
    for (CellId near : around)
        place(state, near, Chest, 0);

    stepOnce(state, c);

    for (std::size_t i = 0; i < around.size(); ++i)
        QCOMPARE(inputOf(state, around[i], Ore), i == std::size_t(slot) ? 1u : 0u);
}

void tst_Factory::conveyorLatency_data()
{
    QTest::addColumn<int>("conveyors");
    QTest::addColumn<int>("ticks");
    QTest::addColumn<int>("arrived");

    // The outbox pushes on tick 1; each conveyor takes ticksPerOperation (4) ticks.
    QTest::newRow("one conveyor, a tick early") << 1 << 4 << 0;
    QTest::newRow("one conveyor, on time") << 1 << 5 << 1;
    QTest::newRow("three conveyors, a tick early") << 3 << 12 << 0;
    QTest::newRow("three conveyors, on time") << 3 << 13 << 1;
}

void tst_Factory::conveyorLatency()
{
    QFETCH(int, conveyors);
    QFETCH(int, ticks);
    QFETCH(int, arrived);
    WorldState state = emptyWorld(sphere());
    const auto line = findLine(*sphere(), conveyors + 2);
    std::vector<PrototypeId> protos{Outbox};
    protos.insert(protos.end(), conveyors, Conveyor);
    protos.push_back(Chest);
    placeLine(state, content(), line, protos);
    state.machines[line.front()].input = {{Ore, 1}};

    stepTimes(state, content(), ticks);

    QCOMPARE(int(inputOf(state, line.back(), Ore)), arrived);
    QCOMPARE(total(countItems(state)), std::uint64_t(1));
    // The chest records the tick it got the item in (ticks count from 1).
    QCOMPARE(state.machines.at(line.back()).lastReceivedTick, std::uint64_t(arrived ? ticks : 0));
}

void tst_Factory::conveyorFacingAwayMovesNothing()
{
    WorldState state = emptyWorld(sphere());
    const auto line = findLine(*sphere(), 3);
    placeLine(state, content(), line, {Outbox, Conveyor, Chest});
    // Turn the conveyor around: its front now faces the outbox.
    place(state, line[1], Conveyor, facing(*sphere(), line[1], line[0]));
    state.machines[line.front()].input = {{Ore, 3}};

    stepTimes(state, content(), 50);

    QCOMPARE(inputOf(state, line[0], Ore), 3u);
    QCOMPARE(int(state.machines.at(line[1]).lane.count), 0);
    QCOMPARE(inputOf(state, line[2], Ore), 0u);
}

void tst_Factory::backpressureAndResume()
{
    WorldState state = emptyWorld(sphere());
    const auto line = findLine(*sphere(), 5);
    placeLine(state, content(), line, {Outbox, Conveyor, Conveyor, Conveyor, Chest});
    state.machines[line.front()].input = {{Ore, 20}};
    state.players = {{"Ann"}};
    state.owner[line.back()] = 0;
    const auto lane = [&](int i) {
        return int(state.machines.at(line[i]).lane.count);
    };

    for (int t = 0; t < 200; ++t) {
        stepOnce(state, content());
        QVERIFY2(lanesKeepTheirSpacing(state, content()), qPrintable(QString::number(t)));
    }
    // The chest is full (8); every conveyor queues 4 behind it; the outbox keeps the rest.
    QCOMPARE(inputOf(state, line[4], Ore), 8u);
    QCOMPARE(lane(1), 4);
    QCOMPARE(lane(2), 4);
    QCOMPARE(lane(3), 4);
    QCOMPARE(inputOf(state, line[0], Ore), 0u);
    const auto frozen = state.machines;
    stepTimes(state, content(), 10);
    QVERIFY(state.machines == frozen); // blocked: nothing moves, nothing progresses

    // Taking items from the chest lets the queue move on.
    Action take;
    take.kind = ActionKind::TakeItems;
    take.player = 0;
    take.cell = line.back();
    take.items = {Ore, 8};
    ChangeSet changes;
    changes.reset(state.cellCount());
    QCOMPARE(applyActions(state, content(), {&take, 1}, changes)[0].reason, RejectReason::None);
    stepTimes(state, content(), 200);
    QCOMPARE(inputOf(state, line[4], Ore), 8u);
    QCOMPARE(lane(1) + lane(2) + lane(3), 4);
    QCOMPARE(state.players[0].inventory.at(Ore), 8u);
    QCOMPARE(total(countItems(state)), std::uint64_t(20));

    QCOMPARE(applyActions(state, content(), {&take, 1}, changes)[0].reason, RejectReason::None);
    stepTimes(state, content(), 200);
    QCOMPARE(inputOf(state, line[4], Ore), 4u);
    QCOMPARE(lane(1) + lane(2) + lane(3), 0);
}

void tst_Factory::extractor_data()
{
    QTest::addColumn<int>("deposit");
    QTest::addColumn<int>("ticks");
    QTest::addColumn<int>("mined");

    QTest::newRow("one unit every two ticks: 2 after 5 ticks") << 10 << 5 << 2;
    QTest::newRow("nothing before the first operation is done") << 10 << 1 << 0;
    QTest::newRow("stops when its output buffer (5) is full") << 10 << 40 << 5;
    QTest::newRow("depletes the deposit to 0 and stops") << 3 << 40 << 3;
}

void tst_Factory::extractor()
{
    QFETCH(int, deposit);
    QFETCH(int, ticks);
    QFETCH(int, mined);
    WorldState state = emptyWorld(sphere());
    const CellId cell = findLine(*sphere(), 1).front();
    state.resourceKind[cell] = IronDeposit;
    state.resourceAmount[cell] = std::uint16_t(deposit);
    place(state, cell, Extractor, 0);
    state.cellsHash = state.computeCellsHash();
    ItemLedger ledger;

    for (int t = 0; t < ticks; ++t)
        stepOnce(state, content(), &ledger);
    QCOMPARE(state.cellsHash, state.computeCellsHash()); // every write went through set()

    QCOMPARE(int(outputOf(state, cell, Ore)), mined);
    QCOMPARE(int(state.resourceAmount[cell]), deposit - mined);
    QCOMPARE(state.resourceKind[cell], deposit == mined ? kNoResource : ResourceId(IronDeposit));
    QCOMPARE(int(state.pollution[cell]), mined); // 1 per operation
    QCOMPARE(int(ledger.created[Ore]), mined);
    QVERIFY(ledger.destroyed.empty());
}

void tst_Factory::assemblerCycle_data()
{
    QTest::addColumn<int>("ticks");
    QTest::addColumn<int>("gears");
    QTest::addColumn<int>("platesLeft");

    // 4 plates in, 2 plates per 6-tick cycle: cycles start on ticks 1 and 7.
    QTest::newRow("first cycle a tick short") << 6 << 0 << 2;
    QTest::newRow("first gear on tick 7") << 7 << 1 << 0;
    QTest::newRow("second cycle a tick short") << 12 << 1 << 0;
    QTest::newRow("second gear on tick 13") << 13 << 2 << 0;
    QTest::newRow("no inputs, no more gears") << 60 << 2 << 0;
}

void tst_Factory::assemblerCycle()
{
    QFETCH(int, ticks);
    QFETCH(int, gears);
    QFETCH(int, platesLeft);
    WorldState state = emptyWorld(sphere());
    const CellId cell = findLine(*sphere(), 1).front();
    MachineState &assembler = place(state, cell, Assembler, 0);
    assembler.recipe = CutGear;
    assembler.input = {{Plate, 4}};

    stepTimes(state, content(), ticks);

    QCOMPARE(int(outputOf(state, cell, Gear)), gears);
    QCOMPARE(int(inputOf(state, cell, Plate)), platesLeft);
    // Conservation: two plates per gear, plus those in a running cycle.
    const bool running = state.machines.at(cell).running;
    QCOMPARE(platesLeft + 2 * gears + (running ? 2 : 0), 4);
}

void tst_Factory::assemblerTakesOnlyItsInputs_data()
{
    QTest::addColumn<int>("item");
    QTest::addColumn<RecipeId>("recipe");
    QTest::addColumn<int>("mostHeld");
    QTest::addColumn<int>("plates");

    QTest::newRow("smelting takes ore, at most twice the recipe amount")
        << int(Ore) << RecipeId(Smelt) << 2 << 10;
    QTest::newRow("no recipe takes nothing") << int(Ore) << kNoRecipe << 0 << 0;
    QTest::newRow("smelting refuses gears") << int(Gear) << RecipeId(Smelt) << 0 << 0;
}

void tst_Factory::assemblerTakesOnlyItsInputs()
{
    QFETCH(int, item);
    QFETCH(RecipeId, recipe);
    QFETCH(int, mostHeld);
    QFETCH(int, plates);
    WorldState state = emptyWorld(sphere());
    const auto line = findLine(*sphere(), 3);
    placeLine(state, content(), line, {Outbox, Conveyor, Furnace});
    state.machines[line[0]].input = {{ItemId(item), 20}};
    state.machines[line[2]].recipe = recipe;

    int most = 0;
    for (int t = 0; t < 300; ++t) {
        stepOnce(state, content());
        most = std::max(most, int(totalCount(state.machines.at(line[2]).input)));
    }

    QCOMPARE(most, mostHeld);
    // Nothing takes the plates: the output buffer (10) fills and the furnace stops.
    QCOMPARE(int(outputOf(state, line[2], Plate)), plates);
    QCOMPARE(state.machines.at(line[2]).running, false);
}

void tst_Factory::productionChain()
{
    WorldState state = emptyWorld(sphere());
    const auto line = findLine(*sphere(), 7);
    placeLine(state, content(), line,
              {Extractor, Conveyor, Furnace, Conveyor, Assembler, Conveyor, Warehouse});
    state.resourceKind[line[0]] = IronDeposit;
    state.resourceAmount[line[0]] = 20;
    state.machines[line[2]].recipe = Smelt;
    state.machines[line[4]].recipe = CutGear;
    ItemLedger ledger;

    int firstGear = 0;
    for (int t = 1; t <= 600; ++t) {
        stepOnce(state, content(), &ledger);
        if (firstGear == 0 && inputOf(state, line[6], Gear) > 0)
            firstGear = t;
    }
    // Ore mined on ticks 2 and 4 reaches the furnace on 6 and 8; plates come out on 11
    // and 15 and reach the assembler on 15 and 19; the gear is cut from 20 to 26 and
    // crosses the last conveyor by 30.
    QCOMPARE(firstGear, 30);

    // 20 ore -> 20 plates -> 10 gears, all in the warehouse, nothing left anywhere else.
    QCOMPARE(inputOf(state, line[6], Gear), 10u);
    QVERIFY(countItems(state) == (std::map<ItemId, std::uint64_t>{{Gear, 10}}));
    QCOMPARE(int(state.resourceAmount[line[0]]), 0);
    QVERIFY(ledger.created
            == (std::map<ItemId, std::uint64_t>{{Ore, 20}, {Plate, 20}, {Gear, 10}}));
    QVERIFY(ledger.destroyed == (std::map<ItemId, std::uint64_t>{{Ore, 20}, {Plate, 20}}));
    QCOMPARE(int(state.pollution[line[0]]), 20); // extractor: 1 per operation
    QCOMPARE(int(state.pollution[line[2]]), 40); // furnace: 2 per cycle
}

void tst_Factory::splitterAlternates_data()
{
    QTest::addColumn<int>("firstSideFull");
    QTest::addColumn<int>("toFirst");
    QTest::addColumn<int>("toSecond");

    QTest::newRow("both sides free: 3 and 3") << 0 << 3 << 3;
    QTest::newRow("a full side is skipped: 0 and 6") << 1 << 0 << 6;
}

void tst_Factory::splitterAlternates()
{
    QFETCH(int, firstSideFull);
    QFETCH(int, toFirst);
    QFETCH(int, toSecond);
    WorldState state = emptyWorld(sphere());
    const auto line = findLine(*sphere(), 2);
    placeLine(state, content(), line, {Outbox, Splitter});
    const std::uint8_t o = state.orientation[line[1]];
    const auto around = sphere()->neighbours(line[1]);
    const CellId first = around[(o + 1) % 6];
    const CellId second = around[(o + 5) % 6];
    place(state, first, Chest, 0);
    place(state, second, Chest, 0);
    if (firstSideFull)
        state.machines[first].input = {{Stone, 8}};
    state.machines[line[0]].input = {{Ore, 6}};

    for (int t = 0; t < 100; ++t) {
        stepOnce(state, content());
        const int a = int(inputOf(state, first, Ore));
        const int b = int(inputOf(state, second, Ore));
        if (!firstSideFull)
            QVERIFY2(std::abs(a - b) <= 1, qPrintable(QStringLiteral("%1 vs %2").arg(a).arg(b)));
    }

    QCOMPARE(int(inputOf(state, first, Ore)), toFirst);
    QCOMPARE(int(inputOf(state, second, Ore)), toSecond);
}

void tst_Factory::inserterMovesItems_data()
{
    QTest::addColumn<int>("ticks");
    QTest::addColumn<int>("moved");

    // One item per 3 ticks, 5 to move.
    QTest::newRow("none before its first operation") << 2 << 0;
    QTest::newRow("the first on tick 3") << 3 << 1;
    QTest::newRow("two by tick 6") << 6 << 2;
    QTest::newRow("all five by tick 15") << 15 << 5;
    QTest::newRow("no more once the chest behind is empty") << 40 << 5;
}

void tst_Factory::inserterMovesItems()
{
    QFETCH(int, ticks);
    QFETCH(int, moved);
    WorldState state = emptyWorld(sphere());
    const auto line = findLine(*sphere(), 3);
    placeLine(state, content(), line, {Chest, Inserter, Chest});
    state.machines[line[0]].input = {{Ore, 5}};

    stepTimes(state, content(), ticks);

    QCOMPARE(int(inputOf(state, line[2], Ore)), moved);
    QCOMPARE(int(inputOf(state, line[0], Ore)), 5 - moved);
}

void tst_Factory::inserterFeedsOnlyWhatTheFrontTakes()
{
    WorldState state = emptyWorld(sphere());
    const auto line = findLine(*sphere(), 3);
    placeLine(state, content(), line, {Chest, Inserter, Furnace});
    state.machines[line[0]].input = {{Ore, 3}, {Gear, 3}};
    state.machines[line[2]].recipe = Smelt;

    stepTimes(state, content(), 40);

    QCOMPARE(inputOf(state, line[0], Gear), 3u);
    QCOMPARE(inputOf(state, line[0], Ore), 0u);
    QCOMPARE(outputOf(state, line[2], Plate), 3u);
}

void tst_Factory::storageHoldsArrivalsForATick_data()
{
    QTest::addColumn<bool>("downstreamFirst");
    QTest::newRow("the next storage comes after in cell order") << false;
    QTest::newRow("the next storage comes before in cell order") << true;
}

void tst_Factory::storageHoldsArrivalsForATick()
{
    QFETCH(bool, downstreamFirst);
    // Two outboxes in a row, then a chest: an item crosses one storage per tick.
    std::vector<CellId> line;
    for (CellId start = 12; start < sphere()->cellCount() && line.empty(); ++start) {
        for (int slot = 0; slot < 6; ++slot) {
            auto candidate = straightLine(*sphere(), start, slot, 3);
            if (hexagonsOnly(candidate) && (candidate[1] < candidate[0]) == downstreamFirst) {
                line = candidate;
                break;
            }
        }
    }
    QVERIFY(!line.empty());
    WorldState state = emptyWorld(sphere());
    placeLine(state, content(), line, {Outbox, Outbox, Chest});
    state.machines[line[0]].input = {{Ore, 1}};

    stepOnce(state, content());
    QCOMPARE(inputOf(state, line[1], Ore), 1u);
    QCOMPARE(inputOf(state, line[2], Ore), 0u);
    stepOnce(state, content());
    QCOMPARE(inputOf(state, line[1], Ore), 0u);
    QCOMPARE(inputOf(state, line[2], Ore), 1u);
}

void tst_Factory::seederPlantsFlora_data()
{
    QTest::addColumn<int>("ticks");
    QTest::addColumn<int>("planted");
    QTest::addColumn<int>("seedsLeft");

    // Six neighbours: one water, one with flora already, four to plant.
    QTest::newRow("nothing before its first operation") << 4 << 0 << 2;
    QTest::newRow("one seed plants all four free neighbours") << 5 << 4 << 1;
    QTest::newRow("nowhere left to plant: the seed is kept") << 30 << 4 << 1;
}

void tst_Factory::seederPlantsFlora()
{
    QFETCH(int, ticks);
    QFETCH(int, planted);
    QFETCH(int, seedsLeft);
    WorldState state = emptyWorld(sphere());
    const CellId cell = findLine(*sphere(), 1).front();
    const auto around = sphere()->neighbours(cell);
    state.terrain[around[0]] = std::uint8_t(Terrain::ShallowWater);
    state.flora[around[1]] = 5;
    place(state, cell, Seeder, 0).input = {{Seeds, 2}};
    state.cellsHash = state.computeCellsHash();
    ItemLedger ledger;

    for (int t = 0; t < ticks; ++t)
        stepOnce(state, content(), &ledger);
    QCOMPARE(state.cellsHash, state.computeCellsHash());

    int count = 0;
    for (std::size_t i = 2; i < around.size(); ++i)
        count += state.flora[around[i]] == 10; // the seeder's effect
    QCOMPARE(count, planted);
    QCOMPARE(int(state.flora[around[0]]), 0);
    QCOMPARE(int(state.flora[around[1]]), 5);
    QCOMPARE(int(state.flora[cell]), 0);
    QCOMPARE(int(inputOf(state, cell, Seeds)), seedsLeft);
    QCOMPARE(int(ledger.destroyed[Seeds]), 2 - seedsLeft);
}

void tst_Factory::scrubberCleans_data()
{
    QTest::addColumn<int>("filters");
    QTest::addColumn<int>("ticks");
    QTest::addColumn<int>("here");
    QTest::addColumn<int>("around");
    QTest::addColumn<int>("filtersLeft");

    // Pollution 50 on the scrubber, 30 around; 20 removed from each per operation.
    QTest::newRow("nothing before its first operation") << 1 << 4 << 50 << 30 << 1;
    QTest::newRow("one operation uses one filter") << 1 << 5 << 30 << 10 << 0;
    QTest::newRow("without filters it stops") << 1 << 10 << 30 << 10 << 0;
    QTest::newRow("no filter at all, no cleaning") << 0 << 10 << 50 << 30 << 0;
    QTest::newRow("two filters, two operations, down to zero around") << 2 << 10 << 10 << 0 << 0;
    QTest::newRow("clean air keeps the last filter") << 5 << 20 << 0 << 0 << 2;
}

void tst_Factory::scrubberCleans()
{
    QFETCH(int, filters);
    QFETCH(int, ticks);
    QFETCH(int, here);
    QFETCH(int, around);
    QFETCH(int, filtersLeft);
    WorldState state = emptyWorld(sphere());
    const CellId cell = findLine(*sphere(), 1).front();
    state.pollution[cell] = 50;
    for (CellId near : sphere()->neighbours(cell))
        state.pollution[near] = 30;
    MachineState &scrubber = place(state, cell, Scrubber, 0);
    if (filters > 0)
        scrubber.input = {{Filter, std::uint16_t(filters)}};
    state.cellsHash = state.computeCellsHash();

    stepTimes(state, content(), ticks);
    QCOMPARE(state.cellsHash, state.computeCellsHash());

    QCOMPARE(int(state.pollution[cell]), here);
    for (CellId near : sphere()->neighbours(cell))
        QCOMPARE(int(state.pollution[near]), around);
    QCOMPARE(int(inputOf(state, cell, Filter)), filtersLeft);
}

void tst_Factory::conservation()
{
    WorldState state = emptyWorld(sphere());
    const auto line = findLine(*sphere(), 7);
    placeLine(state, content(), line,
              {Extractor, Conveyor, Conveyor, Furnace, Conveyor, Conveyor, Warehouse});
    constexpr int kDeposit = 300;
    state.resourceKind[line[0]] = IronDeposit;
    state.resourceAmount[line[0]] = kDeposit;
    state.machines[line[3]].recipe = Smelt;

    // A closed loop of six conveyors round a hexagon away from the line.
    const std::set<CellId> lineCells(line.begin(), line.end());
    const auto nearLine = [&](CellId c) {
        if (geometry::HexSphere::isPentagon(c) || lineCells.contains(c))
            return true;
        for (CellId near : sphere()->neighbours(c)) {
            if (lineCells.contains(near))
                return true;
        }
        return false;
    };
    CellId centre = geometry::kNoCell;
    for (CellId c = 12; c < sphere()->cellCount() && centre == geometry::kNoCell; ++c) {
        const auto ring = sphere()->neighbours(c);
        if (!nearLine(c) && std::none_of(ring.begin(), ring.end(), nearLine))
            centre = c;
    }
    QVERIFY(centre != geometry::kNoCell);
    const auto ring = sphere()->neighbours(centre);
    for (std::size_t i = 0; i < ring.size(); ++i) {
        const CellId before = ring[(i + 5) % 6], after = ring[(i + 1) % 6];
        const auto o
            = orientationFor(*sphere(), content().prototypes[Conveyor], ring[i], before, after);
        QVERIFY(o);
        MachineState &belt = place(state, ring[i], Conveyor, *o);
        if (i < 5) {
            belt.lane.count = 1;
            belt.lane.items[0] = i % 2 ? Gear : Stone;
        }
    }
    const auto loopItems = [&] {
        std::map<ItemId, int> items;
        for (CellId c : ring) {
            const ConveyorLane &lane = state.machines.at(c).lane;
            for (int k = 0; k < lane.count; ++k)
                ++items[lane.items[k]];
        }
        return items;
    };
    const std::map<ItemId, int> loopAtStart = loopItems();
    QCOMPARE(loopAtStart, (std::map<ItemId, int>{{Stone, 3}, {Gear, 2}}));

    state.cellsHash = state.computeCellsHash();
    ItemLedger all;
    std::set<CellId> loopCellsVisited;
    for (int t = 1; t <= 1000; ++t) {
        const auto before = countItems(state);
        ItemLedger tick;
        stepOnce(state, content(), &tick);
        const auto after = countItems(state);

        // Every item is accounted for, item by item.
        for (ItemId item = 0; item < TinyItemCount; ++item) {
            const auto get = [item](const std::map<ItemId, std::uint64_t> &m) {
                const auto it = m.find(item);
                return std::int64_t(it == m.end() ? 0 : it->second);
            };
            QVERIFY2(get(after) == get(before) + get(tick.created) - get(tick.destroyed),
                     qPrintable(QStringLiteral("tick %1, item %2").arg(t).arg(item)));
        }
        QVERIFY2(loopItems() == loopAtStart, qPrintable(QString::number(t)));
        for (CellId c : ring) {
            if (state.machines.at(c).lane.count > 0)
                loopCellsVisited.insert(c);
        }
        for (const auto &[item, count] : tick.created)
            all.created[item] += count;
        for (const auto &[item, count] : tick.destroyed)
            all.destroyed[item] += count;

        // The ledger agrees with the deposit and the recipe: 1 ore in, 1 plate out.
        const bool running = state.machines.at(line[3]).running;
        QCOMPARE(all.created[Ore], std::uint64_t(kDeposit - state.resourceAmount[line[0]]));
        QCOMPARE(all.destroyed[Ore], all.created[Plate] + (running ? 1 : 0));
        QVERIFY(lanesKeepTheirSpacing(state, content()));
    }

    QCOMPARE(state.cellsHash, state.computeCellsHash());
    QCOMPARE(int(loopCellsVisited.size()), 6); // the loop's items went all the way round
    QVERIFY2(inputOf(state, line[6], Plate) > 200,
             qPrintable(QString::number(inputOf(state, line[6], Plate))));
    QCOMPARE(all.created[Gear] + all.destroyed[Gear] + all.created[Stone], std::uint64_t(0));
}

void tst_Factory::removedMachineReturnsItems_data()
{
    QTest::addColumn<PrototypeId>("prototype");
    QTest::addColumn<int>("ticks");

    QTest::newRow("a furnace in mid-cycle") << PrototypeId(Furnace) << 31;
    QTest::newRow("a conveyor carrying ore") << PrototypeId(Conveyor) << 30;
    QTest::newRow("the extractor with ore in its buffer") << PrototypeId(Extractor) << 29;
    QTest::newRow("the warehouse with plates in it") << PrototypeId(Warehouse) << 300;
}

void tst_Factory::removedMachineReturnsItems()
{
    QFETCH(PrototypeId, prototype);
    QFETCH(int, ticks);
    WorldState state = emptyWorld(sphere());
    const auto line = findLine(*sphere(), 4);
    placeLine(state, content(), line, {Extractor, Conveyor, Furnace, Warehouse});
    state.resourceKind[line[0]] = IronDeposit;
    state.resourceAmount[line[0]] = 1000;
    state.machines[line[2]].recipe = Smelt;
    state.players = {{"Ann"}};
    for (CellId c : line)
        state.owner[c] = 0;
    stepTimes(state, content(), ticks);

    const CellId cell = *std::find_if(line.begin(), line.end(),
                                      [&](CellId c) { return state.structure[c] == prototype; });
    const MachineState machine = state.machines.at(cell);
    const auto heldBefore = heldItems(machine);
    QVERIFY(!heldBefore.empty());
    const auto itemsBefore = countItems(state);

    Action remove;
    remove.kind = ActionKind::Remove;
    remove.player = 0;
    remove.cell = cell;
    ChangeSet changes;
    changes.reset(state.cellCount());
    QCOMPARE(applyActions(state, content(), {&remove, 1}, changes)[0].reason, RejectReason::None);

    // The player gets what it held, the cost, and a cancelled cycle's inputs.
    std::map<ItemId, std::uint64_t> expected = itemsBefore;
    for (const ItemStack &cost : content().prototypes[prototype].buildCost)
        expected[cost.item] += cost.count;
    if (machine.running) {
        for (const ItemStack &in : content().recipes[machine.recipe].inputs)
            expected[in.item] += in.count;
    }
    QVERIFY(countItems(state) == expected);
    for (const auto &[item, count] : heldBefore)
        QVERIFY(state.players[0].inventory.at(item) >= count);
    QVERIFY(!state.machines.contains(cell));
    // The rest of the factory carries on.
    stepTimes(state, content(), 10);
}

void tst_Factory::shippedContent()
{
    const auto loaded = loadContent(QStringLiteral(HEX_SOURCE_DIR "/resources/content"));
    if (!loaded)
        QFAIL(qPrintable(QStringLiteral("shipped content does not load: ") + loaded.error()));
    const Content &c = *loaded;

    // An extractor on a deposit, a conveyor, an assembler smelting the deposit's item,
    // a conveyor and a storage, all from the shipped files.
    const auto prototypeOf = [&](MachineKind kind) -> PrototypeId {
        for (PrototypeId p = 1; p < c.prototypes.size(); ++p) {
            if (c.prototypes[p].kind == kind)
                return p;
        }
        return kNoStructure;
    };
    ResourceId resource = kNoResource;
    RecipeId recipe = kNoRecipe;
    for (ResourceId r = 1; r < c.resources.size() && recipe == kNoRecipe; ++r) {
        for (RecipeId id = 0; id < c.recipes.size(); ++id) {
            const RecipeDef &def = c.recipes[id];
            if (def.inputs.size() == 1 && def.inputs[0].item == c.resources[r].item
                && def.inputs[0].count == 1 && !def.madeIn.empty()) {
                resource = r;
                recipe = id;
                break;
            }
        }
    }
    QVERIFY2(recipe != kNoRecipe, "no recipe turns a deposit's item into something");
    const PrototypeId extractor = prototypeOf(MachineKind::Extractor);
    const PrototypeId conveyor = prototypeOf(MachineKind::Conveyor);
    const PrototypeId storage = prototypeOf(MachineKind::Storage);
    const PrototypeId assembler = c.recipes[recipe].madeIn.front();
    QVERIFY(extractor && conveyor && storage);

    WorldState state = emptyWorld(sphere());
    const auto line = findLine(*sphere(), 5);
    placeLine(state, c, line, {extractor, conveyor, assembler, conveyor, storage});
    constexpr int kOre = 12;
    state.resourceKind[line[0]] = resource;
    state.resourceAmount[line[0]] = kOre;
    state.machines[line[2]].recipe = recipe;

    ItemLedger ledger;
    for (int t = 0; t < 3000; ++t) {
        const auto before = total(countItems(state));
        ItemLedger tick;
        stepOnce(state, c, &tick);
        QCOMPARE(total(countItems(state)), before + total(tick.created) - total(tick.destroyed));
    }

    QCOMPARE(int(state.resourceAmount[line[0]]), 0);
    std::map<ItemId, std::uint64_t> expected;
    for (const ItemStack &out : c.recipes[recipe].outputs)
        expected[out.item] += std::uint64_t(out.count) * kOre;
    QVERIFY(countItems(state) == expected);
    for (const auto &[item, count] : expected)
        QCOMPARE(std::uint64_t(inputOf(state, line[4], item)), count);
}

QTEST_GUILESS_MAIN(tst_Factory)
#include "tst_factory.moc"
