#include "actions.h"
#include "factory.h"
#include "terrain.h"

#include <QCoreApplication>

#include <algorithm>
#include <limits>
#include <map>
#include <set>

namespace hex::sim {

namespace {

using ItemCounts = std::map<ItemId, std::uint64_t>;

bool isWater(std::uint8_t terrain)
{
    return terrain == std::uint8_t(Terrain::DeepWater)
           || terrain == std::uint8_t(Terrain::ShallowWater);
}

/// Sums a list of stacks per item (a cost may name an item twice).
ItemCounts summed(const std::vector<ItemStack> &stacks)
{
    ItemCounts counts;
    for (const ItemStack &stack : stacks) {
        if (stack.count > 0)
            counts[stack.item] += stack.count;
    }
    return counts;
}

/// Applies one action's rules. Every check comes before the first write, so a refused
/// action leaves the state as it was.
class ActionApplier
{
public:
    ActionApplier(WorldState &state, const Content &content, ChangeSet &changes)
        : m_state(state)
        , m_content(content)
        , m_changes(changes)
    {}

    RejectReason apply(const Action &action)
    {
        if (action.player >= m_state.players.size())
            return RejectReason::UnknownPlayer;
        if (action.cell >= m_state.cellCount())
            return RejectReason::UnknownCell;
        if (m_busy.contains(action.cell))
            return RejectReason::CellBusy;
        const RejectReason reason = applyKind(action);
        if (reason == RejectReason::None)
            m_busy.insert(action.cell);
        return reason;
    }

private:
    RejectReason applyKind(const Action &action)
    {
        switch (action.kind) {
        case ActionKind::Claim:
            return claim(action);
        case ActionKind::Build:
            return build(action);
        case ActionKind::Rotate:
            return rotate(action);
        case ActionKind::Remove:
            return remove(action);
        case ActionKind::SetRecipe:
            return setRecipe(action);
        case ActionKind::TakeItems:
            return takeItems(action);
        case ActionKind::PutItems:
            return putItems(action);
        }
        return RejectReason::UnknownPrototype;
    }

    std::size_t neighbourCount(CellId cell) const
    {
        return m_state.sphere->neighbours(cell).size();
    }

    /// The structure's prototype; only for cells that have one.
    const PrototypeDef &prototypeAt(CellId cell) const
    {
        return m_content.prototypes[m_state.structure[cell]];
    }

    /// Checks that the cell is the player's and has a structure with machine state.
    RejectReason ownStructure(const Action &action) const
    {
        if (m_state.owner[action.cell] != action.player)
            return RejectReason::NotYourCell;
        const PrototypeId id = m_state.structure[action.cell];
        if (id == kNoStructure || id >= m_content.prototypes.size()
            || !m_state.machines.contains(action.cell))
            return RejectReason::NoStructure;
        return RejectReason::None;
    }

    bool inventoryCanTake(const Player &player, const ItemCounts &items) const
    {
        for (const auto &[item, count] : items) {
            const auto it = player.inventory.find(item);
            const std::uint64_t have = it == player.inventory.end() ? 0 : it->second;
            if (have + count > std::numeric_limits<std::uint32_t>::max())
                return false;
        }
        return true;
    }

    static void giveItems(Player &player, const ItemCounts &items)
    {
        for (const auto &[item, count] : items) {
            if (count > 0)
                player.inventory[item] += std::uint32_t(count);
        }
    }

    static void takeFromInventory(Player &player, ItemId item, std::uint64_t count)
    {
        const auto it = player.inventory.find(item);
        it->second -= std::uint32_t(count);
        if (it->second == 0)
            player.inventory.erase(it);
    }

    static std::uint64_t inventoryCount(const Player &player, ItemId item)
    {
        const auto it = player.inventory.find(item);
        return it == player.inventory.end() ? 0 : it->second;
    }

    RejectReason claim(const Action &action)
    {
        const PlayerId cellOwner = m_state.owner[action.cell];
        if (cellOwner == action.player)
            return RejectReason::AlreadyYours;
        if (cellOwner != kNoPlayer)
            return RejectReason::CellTaken;
        Player &player = m_state.players[action.player];
        if (player.cellsOwned == 0) {
            // The first claim is free and may be anywhere on land.
            if (isWater(m_state.terrain[action.cell]))
                return RejectReason::BadTerrain;
        } else {
            const auto around = m_state.sphere->neighbours(action.cell);
            const bool adjacent = std::any_of(around.begin(), around.end(), [&](CellId near) {
                return m_state.owner[near] == action.player;
            });
            if (!adjacent)
                return RejectReason::NotAdjacent;
        }
        m_state.set(Layer::Owner, m_state.owner, action.cell, action.player, m_changes);
        ++player.cellsOwned;
        return RejectReason::None;
    }

    RejectReason build(const Action &action)
    {
        const CellId cell = action.cell;
        if (m_state.owner[cell] != action.player)
            return RejectReason::NotYourCell;
        if (m_state.structure[cell] != kNoStructure)
            return RejectReason::CellOccupied;
        if (action.prototype == kNoStructure || action.prototype >= m_content.prototypes.size()
            || m_content.prototypes[action.prototype].kind == MachineKind::None)
            return RejectReason::UnknownPrototype;
        if (action.orientation >= neighbourCount(cell))
            return RejectReason::BadOrientation;
        const PrototypeDef &prototype = m_content.prototypes[action.prototype];
        if (isWater(m_state.terrain[cell]))
            return RejectReason::BadTerrain;
        if (prototype.kind == MachineKind::Extractor
            && (m_state.resourceKind[cell] == kNoResource || m_state.resourceAmount[cell] == 0))
            return RejectReason::BadTerrain;
        Player &player = m_state.players[action.player];
        const ItemCounts cost = summed(prototype.buildCost);
        for (const auto &[item, count] : cost) {
            if (inventoryCount(player, item) < count)
                return RejectReason::CannotAfford;
        }

        for (const auto &[item, count] : cost)
            takeFromInventory(player, item, count);
        m_state.set(Layer::Structure, m_state.structure, cell, action.prototype, m_changes);
        m_state.set(Layer::Orientation, m_state.orientation, cell, action.orientation, m_changes);
        m_state.machines[cell] = MachineState{};
        m_changes.mark(cell);
        return RejectReason::None;
    }

    RejectReason rotate(const Action &action)
    {
        if (const RejectReason reason = ownStructure(action); reason != RejectReason::None)
            return reason;
        if (action.orientation >= neighbourCount(action.cell))
            return RejectReason::BadOrientation;
        m_state.set(Layer::Orientation, m_state.orientation, action.cell, action.orientation,
                    m_changes);
        return RejectReason::None;
    }

    /// A running cycle's inputs, handed back when the cycle is cancelled.
    ItemCounts cycleInputs(const MachineState &machine) const
    {
        if (!machine.running || machine.recipe >= m_content.recipes.size())
            return {};
        return summed(m_content.recipes[machine.recipe].inputs);
    }

    RejectReason remove(const Action &action)
    {
        if (const RejectReason reason = ownStructure(action); reason != RejectReason::None)
            return reason;
        const CellId cell = action.cell;
        const auto machine = m_state.machines.find(cell);
        ItemCounts refund = summed(prototypeAt(cell).buildCost);
        for (const auto &[item, count] : heldItems(machine->second))
            refund[item] += count;
        for (const auto &[item, count] : cycleInputs(machine->second))
            refund[item] += count;
        Player &player = m_state.players[action.player];
        if (!inventoryCanTake(player, refund))
            return RejectReason::NoRoom;

        giveItems(player, refund);
        m_state.machines.erase(machine);
        m_state.set(Layer::Structure, m_state.structure, cell, kNoStructure, m_changes);
        m_state.set(Layer::Orientation, m_state.orientation, cell, std::uint8_t(0), m_changes);
        m_changes.mark(cell);
        return RejectReason::None;
    }

    RejectReason setRecipe(const Action &action)
    {
        if (const RejectReason reason = ownStructure(action); reason != RejectReason::None)
            return reason;
        const CellId cell = action.cell;
        if (prototypeAt(cell).kind != MachineKind::Assembler)
            return RejectReason::NotAnAssembler;
        const RecipeDef *recipe = nullptr;
        if (action.recipe != kNoRecipe) {
            if (action.recipe >= m_content.recipes.size())
                return RejectReason::UnknownRecipe;
            recipe = &m_content.recipes[action.recipe];
            const auto &madeIn = recipe->madeIn;
            if (std::find(madeIn.begin(), madeIn.end(), m_state.structure[cell]) == madeIn.end())
                return RejectReason::RecipeNotAllowed;
        }
        MachineState &machine = m_state.machines.find(cell)->second;
        if (machine.recipe == action.recipe)
            return RejectReason::None; // already runs it: keep the cycle going

        // The cancelled cycle's inputs and every input the new recipe does not use go
        // back to the player; inputs it uses stay for it.
        ItemCounts returned = cycleInputs(machine);
        std::vector<ItemStack> kept;
        for (const ItemStack &stack : machine.input) {
            const bool used
                = recipe
                  && std::any_of(recipe->inputs.begin(), recipe->inputs.end(),
                                 [&](const ItemStack &in) { return in.item == stack.item; });
            if (used)
                kept.push_back(stack);
            else
                returned[stack.item] += stack.count;
        }
        Player &player = m_state.players[action.player];
        if (!inventoryCanTake(player, returned))
            return RejectReason::NoRoom;

        giveItems(player, returned);
        machine.input = std::move(kept);
        machine.recipe = action.recipe;
        machine.running = false;
        machine.progress = 0;
        m_changes.mark(cell);
        return RejectReason::None;
    }

    RejectReason checkItems(const Action &action) const
    {
        if (action.items.item >= m_content.items.size())
            return RejectReason::UnknownItem;
        if (action.items.count == 0)
            return RejectReason::BadCount;
        return RejectReason::None;
    }

    /// Takes `count` of `item` out of a lane, front first.
    static void takeFromLane(ConveyorLane &lane, ItemId item, std::uint32_t count)
    {
        ConveyorLane rest;
        for (int i = 0; i < lane.count; ++i) {
            if (lane.items[i] == item && count > 0) {
                --count;
                continue;
            }
            rest.items[rest.count] = lane.items[i];
            rest.progress[rest.count] = lane.progress[i];
            ++rest.count;
        }
        lane = rest;
    }

    static std::uint32_t laneCount(const ConveyorLane &lane, ItemId item)
    {
        std::uint32_t count = 0;
        for (int i = 0; i < lane.count; ++i)
            count += lane.items[i] == item;
        return count;
    }

    RejectReason takeItems(const Action &action)
    {
        if (const RejectReason reason = ownStructure(action); reason != RejectReason::None)
            return reason;
        if (const RejectReason reason = checkItems(action); reason != RejectReason::None)
            return reason;
        const CellId cell = action.cell;
        const ItemId item = action.items.item;
        const std::uint32_t count = action.items.count;
        MachineState &machine = m_state.machines.find(cell)->second;
        const MachineKind kind = prototypeAt(cell).kind;
        const bool fromLane = kind == MachineKind::Conveyor || kind == MachineKind::Splitter;
        const bool fromOutput = kind == MachineKind::Extractor || kind == MachineKind::Assembler;
        std::vector<ItemStack> &buffer = fromOutput ? machine.output : machine.input;
        const std::uint32_t available
            = fromLane ? laneCount(machine.lane, item) : countOf(buffer, item);
        if (available < count)
            return RejectReason::NotEnoughItems;
        Player &player = m_state.players[action.player];
        if (!inventoryCanTake(player, {{item, count}}))
            return RejectReason::NoRoom;

        if (fromLane)
            takeFromLane(machine.lane, item, count);
        else
            removeItems(buffer, item, count);
        giveItems(player, {{item, count}});
        m_changes.mark(cell);
        return RejectReason::None;
    }

    RejectReason putItems(const Action &action)
    {
        if (const RejectReason reason = ownStructure(action); reason != RejectReason::None)
            return reason;
        if (const RejectReason reason = checkItems(action); reason != RejectReason::None)
            return reason;
        const CellId cell = action.cell;
        const ItemId item = action.items.item;
        const std::uint32_t count = action.items.count;
        Player &player = m_state.players[action.player];
        if (inventoryCount(player, item) < count)
            return RejectReason::NotEnoughItems;
        MachineState &machine = m_state.machines.find(cell)->second;
        if (inputRoom(machine, prototypeAt(cell), m_content, item) < count)
            return RejectReason::NoRoom;

        takeFromInventory(player, item, count);
        addItems(machine.input, item, count);
        m_changes.mark(cell);
        return RejectReason::None;
    }

    WorldState &m_state;
    const Content &m_content;
    ChangeSet &m_changes;
    /// Cells an accepted action touched in this call.
    std::set<CellId> m_busy;
};

} // namespace

QString describe(RejectReason reason)
{
    switch (reason) {
    case RejectReason::None:
        return QCoreApplication::translate("hex::sim", "The action was applied.");
    case RejectReason::UnknownPlayer:
        return QCoreApplication::translate("hex::sim", "There is no such player in this world.");
    case RejectReason::UnknownCell:
        return QCoreApplication::translate("hex::sim", "There is no such cell on this planet.");
    case RejectReason::CellTaken:
        return QCoreApplication::translate("hex::sim", "Another player owns this cell.");
    case RejectReason::AlreadyYours:
        return QCoreApplication::translate("hex::sim", "You own this cell already.");
    case RejectReason::NotAdjacent:
        return QCoreApplication::translate("hex::sim",
                                           "You can only claim a cell next to one you own.");
    case RejectReason::NotYourCell:
        return QCoreApplication::translate("hex::sim", "You do not own this cell.");
    case RejectReason::CellOccupied:
        return QCoreApplication::translate("hex::sim", "A structure already stands on this cell.");
    case RejectReason::NoStructure:
        return QCoreApplication::translate("hex::sim", "No structure stands on this cell.");
    case RejectReason::UnknownPrototype:
        return QCoreApplication::translate("hex::sim", "There is no such kind of structure.");
    case RejectReason::BadOrientation:
        return QCoreApplication::translate("hex::sim", "This cell has no side in that direction.");
    case RejectReason::BadTerrain:
        return QCoreApplication::translate(
            "hex::sim",
            "The ground here does not allow it: nothing goes on water, and an extractor "
            "needs a deposit.");
    case RejectReason::CannotAfford:
        return QCoreApplication::translate("hex::sim", "You do not carry the items this costs.");
    case RejectReason::NotAnAssembler:
        return QCoreApplication::translate("hex::sim", "Only an assembler runs recipes.");
    case RejectReason::UnknownRecipe:
        return QCoreApplication::translate("hex::sim", "There is no such recipe.");
    case RejectReason::RecipeNotAllowed:
        return QCoreApplication::translate("hex::sim", "This structure cannot run that recipe.");
    case RejectReason::UnknownItem:
        return QCoreApplication::translate("hex::sim", "There is no such item.");
    case RejectReason::BadCount:
        return QCoreApplication::translate("hex::sim", "Move at least one item.");
    case RejectReason::NotEnoughItems:
        return QCoreApplication::translate("hex::sim", "There are not that many of that item.");
    case RejectReason::NoRoom:
        return QCoreApplication::translate("hex::sim", "There is no room for those items.");
    case RejectReason::CellBusy:
        return QCoreApplication::translate("hex::sim",
                                           "Another action on this cell came first in this tick.");
    }
    return QCoreApplication::translate("hex::sim", "The action was refused for an unknown reason.");
}

std::vector<ActionResult> applyActions(WorldState &state, const Content &content,
                                       std::span<const Action> actions, ChangeSet &changes)
{
    ActionApplier applier(state, content, changes);
    std::vector<ActionResult> results;
    results.reserve(actions.size());
    for (const Action &action : actions) {
        results.push_back(
            ActionResult{action.player, action.clientSeq, action.cell, applier.apply(action)});
    }
    return results;
}

} // namespace hex::sim
