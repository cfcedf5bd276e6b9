#include "factory.h"

#include <algorithm>
#include <map>
#include <utility>

namespace hex::sim {

namespace {

int laneCapacity(const PrototypeDef &prototype)
{
    return std::clamp<int>(prototype.capacity, 1, ConveyorLane::kLaneSlots);
}

int operationTicks(const PrototypeDef &prototype)
{
    return std::max<int>(1, prototype.ticksPerOperation);
}

int laneSpacing(const PrototypeDef &prototype)
{
    return std::max(1, operationTicks(prototype) / laneCapacity(prototype));
}

std::uint8_t saturatingAdd(std::uint8_t value, int add)
{
    return std::uint8_t(std::min(255, int(value) + add));
}

/// One stepMachines() call: the state, the content and what this tick has done so far.
class MachineStep
{
public:
    MachineStep(WorldState &state, const Content &content, ChangeSet &changes, ItemLedger *ledger)
        : m_state(state)
        , m_content(content)
        , m_changes(changes)
        , m_ledger(ledger)
        , m_stamp(state.tick + 1)
    {}

    void run()
    {
        // The machines lie in one array in ascending cell order (MachineMap), and nothing
        // in a step inserts or erases one, so the step walks and searches it in place.
        m_machines = m_state.machines.begin();
        m_count = m_state.machines.size();
        // Work first (timers, mining, recipes, planting), then transfers, so that how far
        // a machine gets in a tick does not depend on whether its neighbours come before
        // or after it in cell order.
        for (auto &[cell, machine] : m_state.machines)
            work(cell, machine);
        for (m_current = 0; m_current < m_count; ++m_current) {
            auto &[cell, machine] = m_machines[std::ptrdiff_t(m_current)];
            transfer(cell, machine);
        }
    }

private:
    const PrototypeDef *prototypeAt(CellId cell) const
    {
        const PrototypeId id = m_state.structure[cell];
        if (id == kNoStructure || id >= m_content.prototypes.size())
            return nullptr;
        return &m_content.prototypes[id];
    }

    /// The machine on `cell`, or null. Searches outward from the machine being
    /// transferred: neighbours mostly have nearby cell ids, so this touches little memory.
    MachineState *machineAt(CellId cell) const
    {
        const auto cellOf = [this](std::size_t i) {
            return m_machines[std::ptrdiff_t(i)].first;
        };
        const std::size_t size = m_count;
        const std::size_t here = std::min(m_current, size == 0 ? 0 : size - 1);
        std::size_t low = 0, high = size;
        if (size > 0 && cellOf(here) < cell) {
            std::size_t step = 1;
            low = here + 1;
            while (low + step <= size && cellOf(low + step - 1) < cell) {
                low += step;
                step *= 2;
            }
            high = std::min(size, low + step);
        } else if (size > 0) {
            std::size_t step = 1;
            high = here + 1;
            while (high > step && !(cellOf(high - step - 1) < cell)) {
                high -= step;
                step *= 2;
            }
            low = high > step ? high - step : 0;
        }
        const auto first = m_machines + std::ptrdiff_t(low);
        const auto last = m_machines + std::ptrdiff_t(high);
        const auto it = std::lower_bound(
            first, last, cell, [](const auto &entry, CellId c) { return entry.first < c; });
        return it != last && it->first == cell ? &it->second : nullptr;
    }

    std::span<const CellId> neighbours(CellId cell) const
    {
        return m_state.sphere->neighbours(cell);
    }

    /// The neighbour that side `side` of the structure on `cell` faces.
    CellId sideCell(CellId cell, int side) const
    {
        const auto around = neighbours(cell);
        return around[(m_state.orientation[cell] + side) % around.size()];
    }

    /// The side of the structure on `cell` that faces `other`, or -1 if not adjacent.
    int sideFacing(CellId cell, CellId other) const
    {
        const auto around = neighbours(cell);
        const int d = int(around.size());
        for (int slot = 0; slot < d; ++slot) {
            if (around[slot] == other)
                return ((slot - m_state.orientation[cell]) % d + d) % d;
        }
        return -1;
    }

    void created(ItemId item, std::uint64_t count)
    {
        if (m_ledger)
            m_ledger->created[item] += count;
    }
    void destroyed(ItemId item, std::uint64_t count)
    {
        if (m_ledger)
            m_ledger->destroyed[item] += count;
    }

    void pollute(CellId cell, const PrototypeDef &prototype)
    {
        if (prototype.pollutionPerOperation == 0)
            return;
        m_state.set(Layer::Pollution, m_state.pollution, cell,
                    saturatingAdd(m_state.pollution[cell], prototype.pollutionPerOperation),
                    m_changes);
    }

    /// Items of `item` in a storage's buffer that arrived this tick and so stay put.
    std::uint32_t arrivedThisTick(CellId cell, ItemId item) const
    {
        const auto it = m_arrivals.find({cell, item});
        return it == m_arrivals.end() ? 0 : it->second;
    }

    // --- Phase 1: work --------------------------------------------------------------

    void work(CellId cell, MachineState &machine)
    {
        const PrototypeDef *prototype = prototypeAt(cell);
        if (!prototype)
            return;
        switch (prototype->kind) {
        case MachineKind::Extractor:
            workExtractor(cell, machine, *prototype);
            break;
        case MachineKind::Assembler:
            workAssembler(cell, machine, *prototype);
            break;
        case MachineKind::Conveyor:
        case MachineKind::Splitter:
            advanceLane(machine.lane, *prototype);
            break;
        case MachineKind::Inserter:
            tickTimer(machine, *prototype);
            break;
        case MachineKind::Seeder:
            workSeeder(cell, machine, *prototype);
            break;
        case MachineKind::Scrubber:
            workScrubber(cell, machine, *prototype);
            break;
        case MachineKind::Storage:
        case MachineKind::None:
            break;
        }
    }

    /// Counts the operation timer up to its length; true once it is there.
    static bool tickTimer(MachineState &machine, const PrototypeDef &prototype)
    {
        const int ticks = operationTicks(prototype);
        if (machine.progress < ticks)
            ++machine.progress;
        return machine.progress >= ticks;
    }

    void workExtractor(CellId cell, MachineState &machine, const PrototypeDef &prototype)
    {
        if (!tickTimer(machine, prototype))
            return;
        const ResourceId resource = m_state.resourceKind[cell];
        const std::uint16_t amount = m_state.resourceAmount[cell];
        if (resource == kNoResource || resource >= m_content.resources.size() || amount == 0)
            return;
        if (totalCount(machine.output) >= prototype.capacity)
            return;
        const ItemId item = m_content.resources[resource].item;
        m_state.set(Layer::ResourceAmount, m_state.resourceAmount, cell, std::uint16_t(amount - 1),
                    m_changes);
        if (amount == 1) // exhausted: the deposit is gone
            m_state.set(Layer::ResourceKind, m_state.resourceKind, cell, kNoResource, m_changes);
        addItems(machine.output, item, 1);
        created(item, 1);
        pollute(cell, prototype);
        machine.progress = 0;
        m_changes.mark(cell);
    }

    void workAssembler(CellId cell, MachineState &machine, const PrototypeDef &prototype)
    {
        if (machine.recipe >= m_content.recipes.size())
            return;
        const RecipeDef &recipe = m_content.recipes[machine.recipe];
        if (machine.running) {
            ++machine.progress;
            if (machine.progress < std::max<int>(1, recipe.ticks))
                return;
            for (const ItemStack &out : recipe.outputs) {
                addItems(machine.output, out.item, out.count);
                created(out.item, out.count);
            }
            machine.running = false;
            machine.progress = 0;
            m_changes.mark(cell);
        }
        for (const ItemStack &in : recipe.inputs) {
            if (countOf(machine.input, in.item) < in.count)
                return;
        }
        std::uint32_t produced = 0;
        for (const ItemStack &out : recipe.outputs)
            produced += out.count;
        if (totalCount(machine.output) + produced > prototype.capacity)
            return;
        for (const ItemStack &in : recipe.inputs) {
            removeItems(machine.input, in.item, in.count);
            destroyed(in.item, in.count);
        }
        machine.running = true;
        machine.progress = 0;
        pollute(cell, prototype);
        m_changes.mark(cell);
    }

    void advanceLane(ConveyorLane &lane, const PrototypeDef &prototype)
    {
        const int length = operationTicks(prototype);
        const int spacing = laneSpacing(prototype);
        for (int i = 0; i < lane.count; ++i) {
            const int limit = i == 0 ? length : std::max(0, lane.progress[i - 1] - spacing);
            lane.progress[i] = std::uint16_t(std::min(lane.progress[i] + 1, limit));
        }
    }

    void workSeeder(CellId cell, MachineState &machine, const PrototypeDef &prototype)
    {
        if (!tickTimer(machine, prototype))
            return;
        if (!prototype.hasConsumes || prototype.effect == 0
            || countOf(machine.input, prototype.consumes) == 0)
            return;
        const FloraRules &flora = m_content.automaton.flora;
        const std::uint8_t planted = std::min(prototype.effect, flora.maxFlora);
        if (planted == 0)
            return;
        bool any = false;
        for (const CellId near : neighbours(cell)) {
            if (m_state.flora[near] != 0 || !(flora.terrainMask >> m_state.terrain[near] & 1))
                continue;
            m_state.set(Layer::Flora, m_state.flora, near, planted, m_changes);
            any = true;
        }
        if (!any)
            return; // nowhere to plant: keep the seed and wait
        removeItems(machine.input, prototype.consumes, 1);
        destroyed(prototype.consumes, 1);
        pollute(cell, prototype);
        machine.progress = 0;
        m_changes.mark(cell);
    }

    void workScrubber(CellId cell, MachineState &machine, const PrototypeDef &prototype)
    {
        if (!tickTimer(machine, prototype))
            return;
        if (!prototype.hasConsumes || prototype.effect == 0
            || countOf(machine.input, prototype.consumes) == 0)
            return;
        bool any = false;
        const auto clean = [&](CellId target) {
            const std::uint8_t p = m_state.pollution[target];
            if (p == 0)
                return;
            m_state.set(Layer::Pollution, m_state.pollution, target,
                        std::uint8_t(p - std::min(p, prototype.effect)), m_changes);
            any = true;
        };
        clean(cell);
        for (const CellId near : neighbours(cell))
            clean(near);
        if (!any)
            return; // clean air: keep the filter and wait
        removeItems(machine.input, prototype.consumes, 1);
        destroyed(prototype.consumes, 1);
        machine.progress = 0;
        m_changes.mark(cell);
    }

    // --- Phase 2: transfers ---------------------------------------------------------

    /// Offers one `item` from the neighbour `from` to the structure on `target`; true
    /// (and the item is in) when the target takes it through the side facing `from`.
    bool offer(CellId target, CellId from, ItemId item)
    {
        const PrototypeDef *prototype = prototypeAt(target);
        if (!prototype)
            return false;
        const int side = sideFacing(target, from);
        if (side < 0 || !(prototype->inputSides >> side & 1))
            return false;
        MachineState *found = machineAt(target);
        if (!found)
            return false;
        MachineState &machine = *found;
        switch (prototype->kind) {
        case MachineKind::Conveyor:
        case MachineKind::Splitter: {
            ConveyorLane &lane = machine.lane;
            // The gap behind the last item also means at most one new item per tick.
            if (lane.count >= laneCapacity(*prototype))
                return false;
            if (lane.count > 0 && lane.progress[lane.count - 1] < laneSpacing(*prototype))
                return false;
            lane.items[lane.count] = item;
            lane.progress[lane.count] = 0;
            ++lane.count;
            break;
        }
        case MachineKind::Assembler:
        case MachineKind::Storage:
        case MachineKind::Seeder:
        case MachineKind::Scrubber:
            if (inputRoom(machine, *prototype, m_content, item) == 0)
                return false;
            addItems(machine.input, item, 1);
            if (prototype->kind == MachineKind::Storage)
                ++m_arrivals[{target, item}];
            break;
        case MachineKind::Extractor:
        case MachineKind::Inserter:
        case MachineKind::None:
            return false;
        }
        machine.lastReceivedTick = m_stamp;
        m_changes.mark(target);
        return true;
    }

    void transfer(CellId cell, MachineState &machine)
    {
        const PrototypeDef *prototype = prototypeAt(cell);
        if (!prototype)
            return;
        switch (prototype->kind) {
        case MachineKind::Extractor:
        case MachineKind::Assembler:
            pushBuffer(cell, machine.output, *prototype, false);
            break;
        case MachineKind::Storage:
            pushBuffer(cell, machine.input, *prototype, true);
            break;
        case MachineKind::Conveyor:
        case MachineKind::Splitter:
            pushLane(cell, machine, *prototype);
            break;
        case MachineKind::Inserter:
            insert(cell, machine, *prototype);
            break;
        case MachineKind::Seeder:
        case MachineKind::Scrubber:
        case MachineKind::None:
            break;
        }
    }

    /// Each output side, in side order, gets at most one item per tick: the lowest item
    /// id that the structure there takes.
    void pushBuffer(CellId cell, std::vector<ItemStack> &buffer, const PrototypeDef &prototype,
                    bool holdArrivals)
    {
        const int sides = int(neighbours(cell).size());
        for (int side = 0; side < sides && !buffer.empty(); ++side) {
            if (!(prototype.outputSides >> side & 1))
                continue;
            const CellId target = sideCell(cell, side);
            for (const ItemStack &stack : buffer) {
                const ItemId item = stack.item;
                if (holdArrivals && arrivedThisTick(cell, item) >= stack.count)
                    continue;
                if (!offer(target, cell, item))
                    continue;
                removeItems(buffer, item, 1);
                m_changes.mark(cell);
                break;
            }
        }
    }

    void popFront(ConveyorLane &lane)
    {
        for (int i = 1; i < lane.count; ++i) {
            lane.items[i - 1] = lane.items[i];
            lane.progress[i - 1] = lane.progress[i];
        }
        --lane.count;
        lane.items[lane.count] = 0;
        lane.progress[lane.count] = 0;
    }

    /// The front item, once done, goes out of the first output side that takes it;
    /// a splitter starts at nextSide and moves it past the side used (round robin).
    void pushLane(CellId cell, MachineState &machine, const PrototypeDef &prototype)
    {
        ConveyorLane &lane = machine.lane;
        if (lane.count == 0 || lane.progress[0] < operationTicks(prototype))
            return;
        const int sides = int(neighbours(cell).size());
        const bool roundRobin = prototype.kind == MachineKind::Splitter;
        const int first = roundRobin ? machine.nextSide % sides : 0;
        for (int k = 0; k < sides; ++k) {
            const int side = (first + k) % sides;
            if (!(prototype.outputSides >> side & 1))
                continue;
            if (!offer(sideCell(cell, side), cell, lane.items[0]))
                continue;
            popFront(lane);
            if (roundRobin)
                machine.nextSide = std::uint8_t((side + 1) % sides);
            m_changes.mark(cell);
            return;
        }
    }

    static int lowestSide(SideMask mask, int sides)
    {
        for (int side = 0; side < sides; ++side) {
            if (mask >> side & 1)
                return side;
        }
        return -1;
    }

    /// Once its timer is done, moves one item from the structure behind (its first
    /// input side) to the one in front (its first output side): the lowest item id
    /// the front takes, from an output buffer, a storage's contents or a lane's
    /// finished front item.
    void insert(CellId cell, MachineState &machine, const PrototypeDef &prototype)
    {
        if (machine.progress < operationTicks(prototype))
            return;
        const int sides = int(neighbours(cell).size());
        const int back = lowestSide(prototype.inputSides, sides);
        const int front = lowestSide(prototype.outputSides, sides);
        if (back < 0 || front < 0)
            return;
        const CellId sourceCell = sideCell(cell, back);
        const CellId target = sideCell(cell, front);
        const PrototypeDef *source = prototypeAt(sourceCell);
        MachineState *found = machineAt(sourceCell);
        if (!source || !found || sourceCell == target)
            return;
        MachineState &from = *found;
        bool moved = false;
        switch (source->kind) {
        case MachineKind::Extractor:
        case MachineKind::Assembler:
            moved = takeFromBuffer(from.output, sourceCell, target, cell, false);
            break;
        case MachineKind::Storage:
            moved = takeFromBuffer(from.input, sourceCell, target, cell, true);
            break;
        case MachineKind::Conveyor:
        case MachineKind::Splitter:
            if (from.lane.count > 0 && from.lane.progress[0] >= operationTicks(*source)
                && offer(target, cell, from.lane.items[0])) {
                popFront(from.lane);
                moved = true;
            }
            break;
        case MachineKind::Inserter:
        case MachineKind::Seeder:
        case MachineKind::Scrubber:
        case MachineKind::None:
            break;
        }
        if (!moved)
            return;
        machine.progress = 0;
        m_changes.mark(sourceCell);
    }

    bool takeFromBuffer(std::vector<ItemStack> &buffer, CellId sourceCell, CellId target,
                        CellId inserter, bool holdArrivals)
    {
        for (const ItemStack &stack : buffer) {
            const ItemId item = stack.item;
            if (holdArrivals && arrivedThisTick(sourceCell, item) >= stack.count)
                continue;
            if (!offer(target, inserter, item))
                continue;
            removeItems(buffer, item, 1);
            return true;
        }
        return false;
    }

    WorldState &m_state;
    const Content &m_content;
    ChangeSet &m_changes;
    ItemLedger *m_ledger;
    const std::uint64_t m_stamp;
    /// The first machine of m_state.machines, valid for the whole step (no step inserts
    /// or erases), and how many there are.
    MachineMap::iterator m_machines;
    std::size_t m_count = 0;
    std::size_t m_current = 0; ///< the index of the machine being transferred
    /// (storage cell, item) -> items that entered it this tick.
    std::map<std::pair<CellId, ItemId>, std::uint32_t> m_arrivals;
};

} // namespace

void stepMachines(WorldState &state, const Content &content, ChangeSet &changes, ItemLedger *ledger)
{
    MachineStep(state, content, changes, ledger).run();
}

std::map<ItemId, std::uint64_t> countItems(const WorldState &state)
{
    std::map<ItemId, std::uint64_t> counts;
    for (const auto &[cell, machine] : state.machines) {
        for (const auto &[item, count] : heldItems(machine))
            counts[item] += count;
    }
    for (const Player &player : state.players) {
        for (const auto &[item, count] : player.inventory) {
            if (count > 0)
                counts[item] += count;
        }
    }
    return counts;
}

std::uint32_t inputRoom(const MachineState &machine, const PrototypeDef &prototype,
                        const Content &content, ItemId item)
{
    const std::uint32_t held = totalCount(machine.input);
    const std::uint32_t capacity = prototype.capacity;
    switch (prototype.kind) {
    case MachineKind::Storage:
        return capacity > held ? capacity - held : 0;
    case MachineKind::Seeder:
    case MachineKind::Scrubber:
        if (!prototype.hasConsumes || item != prototype.consumes)
            return 0;
        return capacity > held ? capacity - held : 0;
    case MachineKind::Assembler: {
        if (machine.recipe >= content.recipes.size())
            return 0;
        for (const ItemStack &in : content.recipes[machine.recipe].inputs) {
            if (in.item != item)
                continue;
            const std::uint32_t limit = std::max<std::uint32_t>(
                in.count, std::min<std::uint32_t>(2u * in.count, capacity));
            const std::uint32_t have = countOf(machine.input, item);
            return limit > have ? limit - have : 0;
        }
        return 0;
    }
    case MachineKind::Extractor:
    case MachineKind::Conveyor:
    case MachineKind::Splitter:
    case MachineKind::Inserter:
    case MachineKind::None:
        return 0;
    }
    return 0;
}

std::map<ItemId, std::uint32_t> heldItems(const MachineState &machine)
{
    std::map<ItemId, std::uint32_t> held;
    for (const ItemStack &stack : machine.input)
        held[stack.item] += stack.count;
    for (const ItemStack &stack : machine.output)
        held[stack.item] += stack.count;
    for (int i = 0; i < machine.lane.count; ++i)
        ++held[machine.lane.items[i]];
    return held;
}

} // namespace hex::sim
