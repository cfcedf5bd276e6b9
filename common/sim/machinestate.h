#pragma once

#include "content.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace hex::sim {

/// Items moving along a conveyor or splitter: up to kLaneSlots, front first.
/// progress[i] is how far item i has come, in ticks, from 0 (just entered) to the
/// prototype's ticksPerOperation (done: it leaves as soon as the structure in front
/// takes it). Items keep a gap: progress[i] <= progress[i - 1] - spacing, where
/// spacing = max(1, ticksPerOperation / lane capacity); so a lane takes at most one
/// new item per tick and a blocked front item makes the ones behind queue up.
struct ConveyorLane
{
    static constexpr int kLaneSlots = 8;
    std::array<ItemId, kLaneSlots> items{};
    std::array<std::uint16_t, kLaneSlots> progress{};
    std::uint8_t count = 0;
    bool operator==(const ConveyorLane &) const = default;
};

/// Sparse per-structure state, keyed by cell in WorldState::machines. Exactly the cells
/// with a structure have one. Every field takes part in the state hash.
struct MachineState
{
    /// Assembler: the recipe it runs, or kNoRecipe.
    RecipeId recipe = kNoRecipe;
    /// Ticks into the current operation: an extraction, a recipe cycle, an insert, a
    /// seeding, a scrub. Counts up to the operation's length and waits there while the
    /// machine is blocked.
    std::uint16_t progress = 0;
    /// True while an assembler cycle runs (its inputs are already consumed).
    bool running = false;
    /// Splitter: the output side to try first for the next item (round robin).
    std::uint8_t nextSide = 0;
    /// The tick (WorldState::tick + 1 while stepMachines() computes it, i.e. the
    /// StepResult::tick it becomes) in which an item last entered this machine from a
    /// neighbour; 0 when none ever did. A record for clients and tests: the rules that
    /// keep items from moving twice in a tick are the lane gap and the step's own
    /// bookkeeping (see docs/GAMEPLAY.md, "Factory").
    std::uint64_t lastReceivedTick = 0;
    /// Input buffer (assembler inputs, storage contents, seeder/scrubber supplies),
    /// sorted by item id, counts > 0.
    std::vector<ItemStack> input;
    /// Output buffer (extractor and assembler products), sorted by item id, counts > 0.
    std::vector<ItemStack> output;
    /// Conveyors and splitters: the items in transit.
    ConveyorLane lane;

    bool operator==(const MachineState &) const = default;
};

/// How many of `item` a sorted item buffer holds.
inline std::uint32_t countOf(const std::vector<ItemStack> &buffer, ItemId item)
{
    const auto it = std::lower_bound(buffer.begin(), buffer.end(), item,
                                     [](const ItemStack &s, ItemId id) { return s.item < id; });
    return it != buffer.end() && it->item == item ? it->count : 0;
}

/// The number of items of every kind in a buffer.
inline std::uint32_t totalCount(const std::vector<ItemStack> &buffer)
{
    std::uint32_t total = 0;
    for (const ItemStack &stack : buffer)
        total += stack.count;
    return total;
}

/// Adds `count` of `item` to a sorted buffer, keeping it sorted. The caller makes sure
/// the stack stays below 65536 (capacities are 16-bit).
inline void addItems(std::vector<ItemStack> &buffer, ItemId item, std::uint32_t count)
{
    if (count == 0)
        return;
    const auto it = std::lower_bound(buffer.begin(), buffer.end(), item,
                                     [](const ItemStack &s, ItemId id) { return s.item < id; });
    if (it != buffer.end() && it->item == item)
        it->count = std::uint16_t(it->count + count);
    else
        buffer.insert(it, ItemStack{item, std::uint16_t(count)});
}

/// Removes `count` of `item` from a sorted buffer, dropping the stack when it empties.
/// The caller has checked countOf() >= count.
inline void removeItems(std::vector<ItemStack> &buffer, ItemId item, std::uint32_t count)
{
    const auto it = std::lower_bound(buffer.begin(), buffer.end(), item,
                                     [](const ItemStack &s, ItemId id) { return s.item < id; });
    if (it == buffer.end() || it->item != item || count == 0)
        return;
    if (it->count <= count)
        buffer.erase(it);
    else
        it->count = std::uint16_t(it->count - count);
}

} // namespace hex::sim
