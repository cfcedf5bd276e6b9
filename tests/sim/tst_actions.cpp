#include "tinyfactory.h"

#include "sim/actions.h"

#include <QTest>

#include <limits>
#include <set>

using namespace hex;
using namespace hex::sim;
using namespace hex::sim::test;

Q_DECLARE_METATYPE(hex::sim::Action)
Q_DECLARE_METATYPE(hex::sim::RejectReason)

namespace {

enum PlayerIndex : PlayerId { Ann, Bob, Cat, Dan };

/// What Ann carries in a refusal row.
enum class Inventory { AsIs, TheMost, FourPlates };

/// A world where Ann owns a home hexagon and its six neighbours (a chest, a running
/// furnace, a loaded conveyor, a water cell, a deposit and an exhausted deposit around
/// an empty home) and a pentagon; Bob owns a chest far away and a cell beside it; Cat
/// and Dan own nothing.
struct ActionWorld
{
    std::shared_ptr<const geometry::HexSphere> sphere
        = std::make_shared<const geometry::HexSphere>(4);
    Content content = tinyContent();
    WorldState state;

    CellId home = 0, chest = 0, furnace = 0, conveyor = 0, water = 0, deposit = 0, exhausted = 0,
           pentagon = 0;
    CellId bobChest = 0, bobEmpty = 0;
    CellId nextToAnn = 0;      ///< unowned, adjacent to Ann's land
    CellId waterNextToAnn = 0; ///< unowned deep water, adjacent to Ann's land
    CellId farAway = 0;        ///< unowned land, adjacent to nobody's land
    CellId farWater = 0;       ///< unowned water, adjacent to nobody's land

    ActionWorld()
    {
        state = emptyWorld(sphere);
        state.players = {{"Ann"}, {"Bob"}, {"Cat"}, {"Dan"}};
        state.players[Ann].inventory = {{Plate, 100}, {Stone, 10}, {Ore, 5}, {Gear, 2}};

        home = 40;
        const auto around = sphere->neighbours(home);
        chest = around[0];
        furnace = around[1];
        conveyor = around[2];
        water = around[3];
        deposit = around[4];
        exhausted = around[5];
        pentagon = 0;
        for (CellId c : {home, chest, furnace, conveyor, water, deposit, exhausted, pentagon})
            own(c, Ann);

        MachineState &box = place(state, chest, Chest, 0);
        box.input = {{Ore, 3}, {Plate, 2}};
        MachineState &oven = place(state, furnace, Furnace, 0);
        oven.recipe = Smelt;
        oven.running = true;
        oven.progress = 2;
        oven.input = {{Ore, 1}, {Stone, 2}};
        oven.output = {{Plate, 1}};
        MachineState &belt = place(state, conveyor, Conveyor, 0);
        belt.lane.count = 2;
        belt.lane.items[0] = Ore;
        belt.lane.progress[0] = 3;
        belt.lane.items[1] = Gear;
        belt.lane.progress[1] = 1;
        setTerrain(water, Terrain::ShallowWater);
        state.resourceKind[deposit] = IronDeposit;
        state.resourceAmount[deposit] = 50;
        state.resourceKind[exhausted] = IronDeposit;
        state.resourceAmount[exhausted] = 0;

        bobChest = 120;
        bobEmpty = sphere->neighbours(bobChest)[0];
        own(bobChest, Bob);
        own(bobEmpty, Bob);
        place(state, bobChest, Chest, 0).input = {{Ore, 4}};

        for (CellId c : sphere->neighbours(chest)) {
            if (state.owner[c] == kNoPlayer && nextToAnn == 0)
                nextToAnn = c;
        }
        for (CellId c : sphere->neighbours(deposit)) {
            if (state.owner[c] == kNoPlayer && c != nextToAnn && waterNextToAnn == 0)
                waterNextToAnn = c;
        }
        setTerrain(waterNextToAnn, Terrain::DeepWater);
        for (CellId c = 12; c < state.cellCount() && farWater == 0; ++c) {
            if (!isLonely(c))
                continue;
            if (farAway == 0)
                farAway = c;
            else if (slotOf(*sphere, farAway, c) < 0)
                farWater = c;
        }
        setTerrain(farWater, Terrain::DeepWater);
    }

    void own(CellId cell, PlayerId player)
    {
        state.owner[cell] = player;
        ++state.players[player].cellsOwned;
    }
    void setTerrain(CellId cell, Terrain terrain) { state.terrain[cell] = std::uint8_t(terrain); }

    /// Unowned, with no owned neighbour.
    bool isLonely(CellId cell) const
    {
        if (state.owner[cell] != kNoPlayer)
            return false;
        for (CellId near : sphere->neighbours(cell)) {
            if (state.owner[near] != kNoPlayer)
                return false;
        }
        return true;
    }
};

const ActionWorld &world()
{
    static const ActionWorld w;
    return w;
}

Action act(ActionKind kind, PlayerId player, CellId cell)
{
    Action a;
    a.kind = kind;
    a.player = player;
    a.cell = cell;
    a.clientSeq = 77;
    return a;
}

Action build(PlayerId player, CellId cell, PrototypeId prototype, std::uint8_t orientation = 0)
{
    Action a = act(ActionKind::Build, player, cell);
    a.prototype = prototype;
    a.orientation = orientation;
    return a;
}

Action rotate(PlayerId player, CellId cell, std::uint8_t orientation)
{
    Action a = act(ActionKind::Rotate, player, cell);
    a.orientation = orientation;
    return a;
}

Action setRecipe(PlayerId player, CellId cell, RecipeId recipe)
{
    Action a = act(ActionKind::SetRecipe, player, cell);
    a.recipe = recipe;
    return a;
}

Action items(ActionKind kind, PlayerId player, CellId cell, ItemId item, std::uint16_t count)
{
    Action a = act(kind, player, cell);
    a.items = {item, count};
    return a;
}

struct Applied
{
    std::vector<ActionResult> results;
    ChangeSet changes;
};

Applied apply(WorldState &state, const Content &content, std::vector<Action> actions)
{
    Applied applied;
    applied.changes.reset(state.cellCount());
    applied.results = applyActions(state, content, actions, applied.changes);
    return applied;
}

int markedCells(const ChangeSet &changes)
{
    int marked = 0;
    for (std::uint8_t d : changes.dirty)
        marked += d != 0;
    return marked;
}

std::int64_t held(const Player &player, ItemId item)
{
    const auto it = player.inventory.find(item);
    return it == player.inventory.end() ? 0 : it->second;
}

std::int64_t heldIn(const WorldState &state, CellId cell, ItemId item)
{
    const auto it = state.machines.find(cell);
    if (it == state.machines.end())
        return 0;
    const auto all = heldItems(it->second);
    const auto found = all.find(item);
    return found == all.end() ? 0 : found->second;
}

} // namespace

Q_DECLARE_METATYPE(Inventory)

class tst_Actions : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void claimRules_data();
    void claimRules();
    void refusalsChangeNothing_data();
    void refusalsChangeNothing();
    void buildPlacesAndCharges_data();
    void buildPlacesAndCharges();
    void rotateKeepsContents();
    void removeReturnsCostAndItems_data();
    void removeReturnsCostAndItems();
    void setRecipeReturnsUnusedInputs_data();
    void setRecipeReturnsUnusedInputs();
    void takeAndPut_data();
    void takeAndPut();
    void sameCellSameCall_data();
    void sameCellSameCall();
    void buildThenRemoveRestoresEverything_data();
    void buildThenRemoveRestoresEverything();
    void everyReasonHasItsOwnSentence();
};

void tst_Actions::initTestCase()
{
    // The rows below rely on this layout.
    const ActionWorld &w = world();
    std::set<CellId> cells{w.home,      w.chest,          w.furnace,  w.conveyor, w.water,
                           w.deposit,   w.exhausted,      w.pentagon, w.bobChest, w.bobEmpty,
                           w.nextToAnn, w.waterNextToAnn, w.farAway,  w.farWater};
    QCOMPARE(cells.size(), std::size_t(14));
    QVERIFY(!geometry::HexSphere::isPentagon(w.home));
    QVERIFY(geometry::HexSphere::isPentagon(w.pentagon));
    for (CellId c : w.sphere->neighbours(w.home))
        QVERIFY(!geometry::HexSphere::isPentagon(c));
    for (CellId c : {w.bobChest, w.bobEmpty})
        for (CellId near : w.sphere->neighbours(c))
            QVERIFY(w.state.owner[near] != Ann);
    QCOMPARE(w.state.terrain[w.waterNextToAnn], std::uint8_t(Terrain::DeepWater));
    QCOMPARE(w.state.terrain[w.farWater], std::uint8_t(Terrain::DeepWater));
    QVERIFY(w.isLonely(w.farAway));
    QVERIFY(w.isLonely(w.farWater));
}

void tst_Actions::claimRules_data()
{
    const ActionWorld &w = world();
    QTest::addColumn<Action>("action");
    QTest::addColumn<RejectReason>("reason");
    QTest::addColumn<QString>("message");

    QTest::newRow("a new player's first claim is free anywhere on land")
        << act(ActionKind::Claim, Cat, w.farAway) << RejectReason::None
        << "The action was applied.";
    QTest::newRow("a first claim may not be on water")
        << act(ActionKind::Claim, Cat, w.farWater) << RejectReason::BadTerrain
        << "The ground here does not allow it: nothing goes on water, and an extractor needs "
           "a deposit.";
    QTest::newRow("a later claim next to your land")
        << act(ActionKind::Claim, Ann, w.nextToAnn) << RejectReason::None
        << "The action was applied.";
    QTest::newRow("a later claim may be water next to your land")
        << act(ActionKind::Claim, Ann, w.waterNextToAnn) << RejectReason::None
        << "The action was applied.";
    QTest::newRow("a later claim away from your land")
        << act(ActionKind::Claim, Ann, w.farAway) << RejectReason::NotAdjacent
        << "You can only claim a cell next to one you own.";
    QTest::newRow("another player's cell, even next to yours")
        << act(ActionKind::Claim, Bob, w.home) << RejectReason::CellTaken
        << "Another player owns this cell.";
    QTest::newRow("another player's cell, as a first claim")
        << act(ActionKind::Claim, Cat, w.bobChest) << RejectReason::CellTaken
        << "Another player owns this cell.";
    QTest::newRow("your own cell again")
        << act(ActionKind::Claim, Ann, w.chest) << RejectReason::AlreadyYours
        << "You own this cell already.";
    QTest::newRow("a player who is not in the world")
        << act(ActionKind::Claim, 9, w.farAway) << RejectReason::UnknownPlayer
        << "There is no such player in this world.";
    QTest::newRow("a cell beyond the planet")
        << act(ActionKind::Claim, Cat, w.state.cellCount()) << RejectReason::UnknownCell
        << "There is no such cell on this planet.";
}

void tst_Actions::claimRules()
{
    QFETCH(Action, action);
    QFETCH(RejectReason, reason);
    QFETCH(QString, message);
    const ActionWorld &w = world();
    WorldState state = w.state;
    const Applied applied = apply(state, w.content, {action});

    QCOMPARE(applied.results.size(), std::size_t(1));
    QCOMPARE(applied.results[0].reason, reason);
    QCOMPARE(describe(applied.results[0].reason), message);
    if (reason != RejectReason::None) {
        QVERIFY(state == w.state);
        QCOMPARE(markedCells(applied.changes), 0);
        return;
    }
    QCOMPARE(state.owner[action.cell], action.player);
    QCOMPARE(state.players[action.player].cellsOwned,
             w.state.players[action.player].cellsOwned + 1);
    QVERIFY(applied.changes.isMarked(action.cell));
    QCOMPARE(markedCells(applied.changes), 1);
    // Nothing but the owner and the count changed.
    WorldState expected = w.state;
    expected.owner[action.cell] = action.player;
    ++expected.players[action.player].cellsOwned;
    expected.cellsHash = state.cellsHash;
    QVERIFY(state == expected);
    QVERIFY(state.cellsHash != w.state.cellsHash);
}

void tst_Actions::refusalsChangeNothing_data()
{
    const ActionWorld &w = world();
    QTest::addColumn<Action>("action");
    QTest::addColumn<Inventory>("annCarries");
    QTest::addColumn<RejectReason>("reason");
    QTest::addColumn<QString>("message");

    const QString notYours = "You do not own this cell.";
    const QString nothingThere = "No structure stands on this cell.";
    const QString badGround = "The ground here does not allow it: nothing goes on water, and an "
                              "extractor needs a deposit.";
    const QString badSide = "This cell has no side in that direction.";
    const QString notThatMany = "There are not that many of that item.";
    const QString noRoom = "There is no room for those items.";

    QTest::newRow("build by a player who is not in the world")
        << build(42, w.home, Conveyor) << Inventory::AsIs << RejectReason::UnknownPlayer
        << "There is no such player in this world.";
    QTest::newRow("build beyond the planet")
        << build(Ann, 100000, Conveyor) << Inventory::AsIs << RejectReason::UnknownCell
        << "There is no such cell on this planet.";
    QTest::newRow("claim of another player's cell")
        << act(ActionKind::Claim, Ann, w.bobEmpty) << Inventory::AsIs << RejectReason::CellTaken
        << "Another player owns this cell.";
    QTest::newRow("claim away from your land")
        << act(ActionKind::Claim, Ann, w.farAway) << Inventory::AsIs << RejectReason::NotAdjacent
        << "You can only claim a cell next to one you own.";
    QTest::newRow("build on another player's cell")
        << build(Ann, w.bobEmpty, Conveyor) << Inventory::AsIs << RejectReason::NotYourCell
        << notYours;
    QTest::newRow("build on an unowned cell")
        << build(Ann, w.nextToAnn, Conveyor) << Inventory::AsIs << RejectReason::NotYourCell
        << notYours;
    QTest::newRow("build where a structure stands")
        << build(Ann, w.chest, Conveyor) << Inventory::AsIs << RejectReason::CellOccupied
        << "A structure already stands on this cell.";
    QTest::newRow("build prototype 0")
        << build(Ann, w.home, kNoStructure) << Inventory::AsIs << RejectReason::UnknownPrototype
        << "There is no such kind of structure.";
    QTest::newRow("build a prototype the content lacks")
        << build(Ann, w.home, TinyPrototypeCount) << Inventory::AsIs
        << RejectReason::UnknownPrototype << "There is no such kind of structure.";
    QTest::newRow("build facing side 6 of a hexagon")
        << build(Ann, w.home, Conveyor, 6) << Inventory::AsIs << RejectReason::BadOrientation
        << badSide;
    QTest::newRow("build facing side 5 of a pentagon")
        << build(Ann, w.pentagon, Conveyor, 5) << Inventory::AsIs << RejectReason::BadOrientation
        << badSide;
    QTest::newRow("build on water")
        << build(Ann, w.water, Chest) << Inventory::AsIs << RejectReason::BadTerrain << badGround;
    QTest::newRow("build an extractor off a deposit")
        << build(Ann, w.home, Extractor) << Inventory::AsIs << RejectReason::BadTerrain
        << badGround;
    QTest::newRow("build an extractor on an exhausted deposit")
        << build(Ann, w.exhausted, Extractor) << Inventory::AsIs << RejectReason::BadTerrain
        << badGround;
    QTest::newRow("build without carrying the cost")
        << build(Ann, w.home, Warehouse) << Inventory::FourPlates << RejectReason::CannotAfford
        << "You do not carry the items this costs.";
    QTest::newRow("rotate on another player's cell")
        << rotate(Ann, w.bobChest, 1) << Inventory::AsIs << RejectReason::NotYourCell << notYours;
    QTest::newRow("rotate an empty cell")
        << rotate(Ann, w.home, 1) << Inventory::AsIs << RejectReason::NoStructure << nothingThere;
    QTest::newRow("rotate to side 6 of a hexagon")
        << rotate(Ann, w.chest, 6) << Inventory::AsIs << RejectReason::BadOrientation << badSide;
    QTest::newRow("remove from an empty cell")
        << act(ActionKind::Remove, Ann, w.home) << Inventory::AsIs << RejectReason::NoStructure
        << nothingThere;
    QTest::newRow("remove another player's chest")
        << act(ActionKind::Remove, Ann, w.bobChest) << Inventory::AsIs << RejectReason::NotYourCell
        << notYours;
    QTest::newRow("remove when the refund does not fit your inventory")
        << act(ActionKind::Remove, Ann, w.chest) << Inventory::TheMost << RejectReason::NoRoom
        << noRoom;
    QTest::newRow("set a recipe on a chest")
        << setRecipe(Ann, w.chest, Smelt) << Inventory::AsIs << RejectReason::NotAnAssembler
        << "Only an assembler runs recipes.";
    QTest::newRow("set a recipe on an empty cell")
        << setRecipe(Ann, w.home, Smelt) << Inventory::AsIs << RejectReason::NoStructure
        << nothingThere;
    QTest::newRow("set a recipe the content lacks")
        << setRecipe(Ann, w.furnace, TinyRecipeCount) << Inventory::AsIs
        << RejectReason::UnknownRecipe << "There is no such recipe.";
    QTest::newRow("set gear cutting in a furnace")
        << setRecipe(Ann, w.furnace, CutGear) << Inventory::AsIs << RejectReason::RecipeNotAllowed
        << "This structure cannot run that recipe.";
    QTest::newRow("set a recipe on another player's cell")
        << setRecipe(Ann, w.bobChest, Smelt) << Inventory::AsIs << RejectReason::NotYourCell
        << notYours;
    QTest::newRow("take an item the content lacks")
        << items(ActionKind::TakeItems, Ann, w.chest, TinyItemCount, 1) << Inventory::AsIs
        << RejectReason::UnknownItem << "There is no such item.";
    QTest::newRow("take zero items")
        << items(ActionKind::TakeItems, Ann, w.chest, Ore, 0) << Inventory::AsIs
        << RejectReason::BadCount << "Move at least one item.";
    QTest::newRow("take more than the chest holds")
        << items(ActionKind::TakeItems, Ann, w.chest, Ore, 4) << Inventory::AsIs
        << RejectReason::NotEnoughItems << notThatMany;
    QTest::newRow("take a furnace's inputs, which are not its output")
        << items(ActionKind::TakeItems, Ann, w.furnace, Stone, 1) << Inventory::AsIs
        << RejectReason::NotEnoughItems << notThatMany;
    QTest::newRow("take from another player's chest")
        << items(ActionKind::TakeItems, Ann, w.bobChest, Ore, 1) << Inventory::AsIs
        << RejectReason::NotYourCell << notYours;
    QTest::newRow("take from an empty cell")
        << items(ActionKind::TakeItems, Ann, w.home, Ore, 1) << Inventory::AsIs
        << RejectReason::NoStructure << nothingThere;
    QTest::newRow("take when your inventory cannot hold more")
        << items(ActionKind::TakeItems, Ann, w.chest, Plate, 1) << Inventory::TheMost
        << RejectReason::NoRoom << noRoom;
    QTest::newRow("put more than you carry")
        << items(ActionKind::PutItems, Ann, w.chest, Ore, 6) << Inventory::AsIs
        << RejectReason::NotEnoughItems << notThatMany;
    QTest::newRow("put zero items")
        << items(ActionKind::PutItems, Ann, w.chest, Ore, 0) << Inventory::AsIs
        << RejectReason::BadCount << "Move at least one item.";
    QTest::newRow("put more than the chest has room for")
        << items(ActionKind::PutItems, Ann, w.chest, Plate, 4) << Inventory::AsIs
        << RejectReason::NoRoom << noRoom;
    QTest::newRow("put plates into a furnace smelting ore")
        << items(ActionKind::PutItems, Ann, w.furnace, Plate, 1) << Inventory::AsIs
        << RejectReason::NoRoom << noRoom;
    QTest::newRow("put ore beyond twice the recipe amount")
        << items(ActionKind::PutItems, Ann, w.furnace, Ore, 2) << Inventory::AsIs
        << RejectReason::NoRoom << noRoom;
    QTest::newRow("put onto a conveyor") << items(ActionKind::PutItems, Ann, w.conveyor, Ore, 1)
                                         << Inventory::AsIs << RejectReason::NoRoom << noRoom;
}

void tst_Actions::refusalsChangeNothing()
{
    QFETCH(Action, action);
    QFETCH(Inventory, annCarries);
    QFETCH(RejectReason, reason);
    QFETCH(QString, message);
    const ActionWorld &w = world();
    WorldState before = w.state;
    if (annCarries == Inventory::TheMost) {
        for (ItemId item = 0; item < TinyItemCount; ++item)
            before.players[Ann].inventory[item] = std::numeric_limits<std::uint32_t>::max();
    } else if (annCarries == Inventory::FourPlates) {
        before.players[Ann].inventory = {{Plate, 4}}; // a warehouse costs 5
    }
    WorldState state = before;
    const Applied applied = apply(state, w.content, {action});

    QCOMPARE(applied.results.size(), std::size_t(1));
    QCOMPARE(applied.results[0].reason, reason);
    QVERIFY(!applied.results[0].accepted());
    QCOMPARE(describe(applied.results[0].reason), message);
    QCOMPARE(applied.results[0].clientSeq, action.clientSeq);
    QCOMPARE(applied.results[0].player, action.player);
    QCOMPARE(applied.results[0].cell, action.cell);
    QVERIFY(state == before);
    QCOMPARE(markedCells(applied.changes), 0);
}

void tst_Actions::buildPlacesAndCharges_data()
{
    const ActionWorld &w = world();
    QTest::addColumn<CellId>("cell");
    QTest::addColumn<PrototypeId>("prototype");
    QTest::addColumn<int>("orientation");
    QTest::addColumn<int>("platesPaid");
    QTest::addColumn<int>("stonePaid");
    QTest::addColumn<int>("gearsPaid");

    QTest::newRow("a conveyor on home facing side 2")
        << w.home << PrototypeId(Conveyor) << 2 << 1 << 0 << 0;
    QTest::newRow("a furnace paid in stone") << w.home << PrototypeId(Furnace) << 0 << 0 << 3 << 0;
    QTest::newRow("an assembler paid in plates and a gear")
        << w.home << PrototypeId(Assembler) << 5 << 3 << 0 << 1;
    QTest::newRow("an extractor on a deposit")
        << w.deposit << PrototypeId(Extractor) << 1 << 2 << 0 << 0;
    QTest::newRow("a chest on a pentagon facing its last side")
        << w.pentagon << PrototypeId(Chest) << 4 << 2 << 0 << 0;
}

void tst_Actions::buildPlacesAndCharges()
{
    QFETCH(CellId, cell);
    QFETCH(PrototypeId, prototype);
    QFETCH(int, orientation);
    QFETCH(int, platesPaid);
    QFETCH(int, stonePaid);
    QFETCH(int, gearsPaid);
    const ActionWorld &w = world();
    WorldState state = w.state;
    const Applied applied = apply(state, w.content, {build(Ann, cell, prototype, orientation)});

    QCOMPARE(applied.results[0].reason, RejectReason::None);
    QCOMPARE(state.structure[cell], prototype);
    QCOMPARE(int(state.orientation[cell]), orientation);
    QVERIFY(state.machines.contains(cell));
    QVERIFY(state.machines.at(cell) == MachineState{});
    const Player &before = w.state.players[Ann];
    const Player &after = state.players[Ann];
    QCOMPARE(held(after, Plate), held(before, Plate) - platesPaid);
    QCOMPARE(held(after, Stone), held(before, Stone) - stonePaid);
    QCOMPARE(held(after, Gear), held(before, Gear) - gearsPaid);
    QCOMPARE(held(after, Ore), held(before, Ore));
    QVERIFY(applied.changes.isMarked(cell));
    QCOMPARE(markedCells(applied.changes), 1);
    QCOMPARE(state.machines.size(), w.state.machines.size() + 1);
}

void tst_Actions::rotateKeepsContents()
{
    const ActionWorld &w = world();
    WorldState state = w.state;
    const Applied applied = apply(state, w.content, {rotate(Ann, w.conveyor, 4)});

    QCOMPARE(applied.results[0].reason, RejectReason::None);
    QCOMPARE(int(state.orientation[w.conveyor]), 4);
    QVERIFY(state.machines.at(w.conveyor) == w.state.machines.at(w.conveyor));
    QVERIFY(applied.changes.isMarked(w.conveyor));
    WorldState expected = w.state;
    expected.orientation[w.conveyor] = 4;
    expected.cellsHash = state.cellsHash;
    QVERIFY(state == expected);
}

void tst_Actions::removeReturnsCostAndItems_data()
{
    const ActionWorld &w = world();
    QTest::addColumn<CellId>("cell");
    QTest::addColumn<int>("plates");
    QTest::addColumn<int>("ore");
    QTest::addColumn<int>("stone");
    QTest::addColumn<int>("gears");
    QTest::addColumn<int>("cost");

    // chest: cost 2 plates, holds 3 ore and 2 plates.
    QTest::newRow("a chest gives back its cost and its contents")
        << w.chest << 4 << 3 << 0 << 0 << 2;
    // conveyor: cost 1 plate, carries an ore and a gear.
    QTest::newRow("a conveyor gives back the items on it") << w.conveyor << 1 << 1 << 0 << 1 << 1;
    // furnace: cost 3 stone; holds 1 ore and 2 stone, 1 plate done, 1 ore in its cycle.
    QTest::newRow("a running furnace gives back its buffers and its cycle's ore")
        << w.furnace << 1 << 2 << 5 << 0 << 3;
}

void tst_Actions::removeReturnsCostAndItems()
{
    QFETCH(CellId, cell);
    QFETCH(int, plates);
    QFETCH(int, ore);
    QFETCH(int, stone);
    QFETCH(int, gears);
    QFETCH(int, cost);
    const ActionWorld &w = world();
    WorldState state = w.state;
    const Applied applied = apply(state, w.content, {act(ActionKind::Remove, Ann, cell)});

    QCOMPARE(applied.results[0].reason, RejectReason::None);
    QCOMPARE(state.structure[cell], kNoStructure);
    QCOMPARE(int(state.orientation[cell]), 0);
    QVERIFY(!state.machines.contains(cell));
    QCOMPARE(state.owner[cell], PlayerId(Ann)); // the cell stays claimed
    const Player &before = w.state.players[Ann];
    const Player &after = state.players[Ann];
    QCOMPARE(held(after, Plate) - held(before, Plate), plates);
    QCOMPARE(held(after, Ore) - held(before, Ore), ore);
    QCOMPARE(held(after, Stone) - held(before, Stone), stone);
    QCOMPARE(held(after, Gear) - held(before, Gear), gears);
    // Everything the machine held is conserved; the cost (and a cancelled cycle) come back
    // on top.
    std::uint64_t itemsBefore = 0, itemsAfter = 0;
    for (const auto &[item, count] : countItems(w.state))
        itemsBefore += count;
    for (const auto &[item, count] : countItems(state))
        itemsAfter += count;
    const bool cancelledCycle = w.state.machines.at(cell).running;
    QCOMPARE(itemsAfter, itemsBefore + cost + (cancelledCycle ? 1 : 0));
    QVERIFY(applied.changes.isMarked(cell));
}

void tst_Actions::setRecipeReturnsUnusedInputs_data()
{
    QTest::addColumn<RecipeId>("recipe");
    QTest::addColumn<int>("oreBack");
    QTest::addColumn<int>("stoneBack");
    QTest::addColumn<bool>("stillRunning");

    // The furnace smelts (1 ore in its cycle) and holds 1 ore and 2 stone.
    QTest::newRow("to filter pressing: ore and the cycle's ore come back, stone stays")
        << RecipeId(PressFilter) << 2 << 0 << false;
    QTest::newRow("cleared: every input and the cycle's ore come back")
        << kNoRecipe << 2 << 2 << false;
    QTest::newRow("the recipe it runs already: nothing changes")
        << RecipeId(Smelt) << 0 << 0 << true;
}

void tst_Actions::setRecipeReturnsUnusedInputs()
{
    QFETCH(RecipeId, recipe);
    QFETCH(int, oreBack);
    QFETCH(int, stoneBack);
    QFETCH(bool, stillRunning);
    const ActionWorld &w = world();
    WorldState state = w.state;
    const Applied applied = apply(state, w.content, {setRecipe(Ann, w.furnace, recipe)});

    QCOMPARE(applied.results[0].reason, RejectReason::None);
    const MachineState &furnace = state.machines.at(w.furnace);
    QCOMPARE(furnace.recipe, recipe);
    QCOMPARE(furnace.running, stillRunning);
    const Player &before = w.state.players[Ann];
    const Player &after = state.players[Ann];
    QCOMPARE(held(after, Ore) - held(before, Ore), oreBack);
    QCOMPARE(held(after, Stone) - held(before, Stone), stoneBack);
    QCOMPARE(countOf(furnace.input, Stone), std::uint32_t(2 - stoneBack));
    QCOMPARE(countOf(furnace.output, Plate), std::uint32_t(1)); // finished plates stay
    if (stillRunning)
        QVERIFY(state == w.state);
}

void tst_Actions::takeAndPut_data()
{
    const ActionWorld &w = world();
    QTest::addColumn<Action>("action");
    QTest::addColumn<int>("inventoryChange");

    QTest::newRow("take 2 ore from your chest")
        << items(ActionKind::TakeItems, Ann, w.chest, Ore, 2) << 2;
    QTest::newRow("take all 3 ore from your chest")
        << items(ActionKind::TakeItems, Ann, w.chest, Ore, 3) << 3;
    QTest::newRow("put 3 plates into your chest, filling it")
        << items(ActionKind::PutItems, Ann, w.chest, Plate, 3) << -3;
    QTest::newRow("take the plate a furnace made")
        << items(ActionKind::TakeItems, Ann, w.furnace, Plate, 1) << 1;
    QTest::newRow("put 1 ore into a furnace smelting ore")
        << items(ActionKind::PutItems, Ann, w.furnace, Ore, 1) << -1;
    QTest::newRow("take a gear off a conveyor")
        << items(ActionKind::TakeItems, Ann, w.conveyor, Gear, 1) << 1;
}

void tst_Actions::takeAndPut()
{
    QFETCH(Action, action);
    QFETCH(int, inventoryChange);
    const ActionWorld &w = world();
    WorldState state = w.state;
    const Applied applied = apply(state, w.content, {action});

    QCOMPARE(applied.results[0].reason, RejectReason::None);
    const ItemId item = action.items.item;
    QCOMPARE(held(state.players[Ann], item) - held(w.state.players[Ann], item), inventoryChange);
    QCOMPARE(heldIn(state, action.cell, item) - heldIn(w.state, action.cell, item),
             -inventoryChange);
    QVERIFY(countItems(state) == countItems(w.state));
    QVERIFY(applied.changes.isMarked(action.cell));
    QCOMPARE(markedCells(applied.changes), 1);
}

void tst_Actions::sameCellSameCall_data()
{
    const ActionWorld &w = world();
    QTest::addColumn<Action>("first");
    QTest::addColumn<Action>("second");
    QTest::addColumn<RejectReason>("firstReason");
    QTest::addColumn<RejectReason>("secondReason");
    QTest::addColumn<QString>("secondMessage");

    const QString busy = "Another action on this cell came first in this tick.";
    QTest::newRow("two new players claim one cell: the first wins")
        << act(ActionKind::Claim, Cat, w.farAway) << act(ActionKind::Claim, Dan, w.farAway)
        << RejectReason::None << RejectReason::CellBusy << busy;
    QTest::newRow("the same claim in the other order: Dan wins")
        << act(ActionKind::Claim, Dan, w.farAway) << act(ActionKind::Claim, Cat, w.farAway)
        << RejectReason::None << RejectReason::CellBusy << busy;
    QTest::newRow("build then rotate by one player: the rotate waits")
        << build(Ann, w.home, Conveyor) << rotate(Ann, w.home, 3) << RejectReason::None
        << RejectReason::CellBusy << busy;
    QTest::newRow("take then remove the same chest: the remove waits")
        << items(ActionKind::TakeItems, Ann, w.chest, Ore, 1)
        << act(ActionKind::Remove, Ann, w.chest) << RejectReason::None << RejectReason::CellBusy
        << busy;
    QTest::newRow("a refused action does not hold the cell")
        << build(Bob, w.home, Conveyor) << build(Ann, w.home, Conveyor) << RejectReason::NotYourCell
        << RejectReason::None << "The action was applied.";
    QTest::newRow("actions on different cells do not wait for each other")
        << build(Ann, w.home, Conveyor) << items(ActionKind::TakeItems, Ann, w.chest, Ore, 1)
        << RejectReason::None << RejectReason::None << "The action was applied.";
}

void tst_Actions::sameCellSameCall()
{
    QFETCH(Action, first);
    QFETCH(Action, second);
    QFETCH(RejectReason, firstReason);
    QFETCH(RejectReason, secondReason);
    QFETCH(QString, secondMessage);
    const ActionWorld &w = world();
    first.clientSeq = 1;
    second.clientSeq = 2;
    WorldState state = w.state;
    const Applied applied = apply(state, w.content, {first, second});

    QCOMPARE(applied.results.size(), std::size_t(2));
    QCOMPARE(applied.results[0].reason, firstReason);
    QCOMPARE(applied.results[1].reason, secondReason);
    QCOMPARE(describe(applied.results[1].reason), secondMessage);
    QCOMPARE(applied.results[0].clientSeq, 1u);
    QCOMPARE(applied.results[1].clientSeq, 2u);
    QCOMPARE(applied.results[1].player, second.player);
    if (secondReason == RejectReason::CellBusy) {
        // The state is what the first action alone makes of it.
        WorldState firstOnly = w.state;
        apply(firstOnly, w.content, {first});
        QVERIFY(state == firstOnly);
    }
    if (first.kind == ActionKind::Claim)
        QCOMPARE(state.owner[first.cell], first.player);
}

void tst_Actions::buildThenRemoveRestoresEverything_data()
{
    const ActionWorld &w = world();
    QTest::addColumn<CellId>("cell");
    QTest::addColumn<PrototypeId>("prototype");
    for (PrototypeId p = 1; p < TinyPrototypeCount; ++p) {
        const CellId cell = p == Extractor ? w.deposit : w.home;
        QTest::addRow("%s", qPrintable(w.content.prototypes[p].key)) << cell << p;
    }
}

void tst_Actions::buildThenRemoveRestoresEverything()
{
    QFETCH(CellId, cell);
    QFETCH(PrototypeId, prototype);
    const ActionWorld &w = world();
    WorldState state = w.state;
    state.cellsHash = state.computeCellsHash();
    const WorldState before = state;

    QCOMPARE(apply(state, w.content, {build(Ann, cell, prototype, 3)}).results[0].reason,
             RejectReason::None);
    for (const ItemStack &cost : w.content.prototypes[prototype].buildCost)
        QCOMPARE(held(state.players[Ann], cost.item),
                 held(before.players[Ann], cost.item) - cost.count);
    QVERIFY(state.cellsHash != before.cellsHash);
    QCOMPARE(state.cellsHash, state.computeCellsHash());

    QCOMPARE(apply(state, w.content, {act(ActionKind::Remove, Ann, cell)}).results[0].reason,
             RejectReason::None);
    QVERIFY(state == before);
}

void tst_Actions::everyReasonHasItsOwnSentence()
{
    std::set<QString> sentences;
    const int last = int(RejectReason::CellBusy);
    for (int r = 0; r <= last; ++r) {
        const QString text = describe(RejectReason(r));
        QVERIFY2(!text.isEmpty(), qPrintable(QString::number(r)));
        QVERIFY2(text.endsWith(u'.'), qPrintable(text));
        QVERIFY2(text.front().isUpper(), qPrintable(text));
        sentences.insert(text);
    }
    QCOMPARE(int(sentences.size()), last + 1);
}

QTEST_GUILESS_MAIN(tst_Actions)
#include "tst_actions.moc"
