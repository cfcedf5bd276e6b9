#pragma once

#include "content.h"

#include <array>
#include <cstdint>

namespace hex::sim {

/// Items moving along a conveyor: up to kLaneSlots, front first. progress counts
/// ticks since the item entered, up to the prototype's ticksPerOperation.
struct ConveyorLane
{
    static constexpr int kLaneSlots = 8;
    std::array<ItemId, kLaneSlots> items{};
    std::array<std::uint16_t, kLaneSlots> progress{};
    std::uint8_t count = 0;
    bool operator==(const ConveyorLane &) const = default;
};

/// Sparse per-structure state, keyed by cell in WorldState::machines. Only cells with
/// a structure have one.
struct MachineState
{
    /// Assembler: the recipe it runs, or kNoRecipe.
    RecipeId recipe = kNoRecipe;
    /// Ticks into the current operation (extraction, recipe cycle, seeding...).
    std::uint16_t progress = 0;
    /// True while an assembler cycle runs (its inputs are already consumed).
    bool running = false;
    /// Splitter: the output side used last, for round-robin.
    std::uint8_t nextSide = 0;
    /// The tick an item last entered, so nothing moves twice in one tick.
    std::uint64_t lastReceivedTick = 0;
    /// Input buffer (assembler inputs, storage contents, seeder/scrubber supplies),
    /// sorted by item id, counts > 0.
    std::vector<ItemStack> input;
    /// Output buffer (extractor and assembler products), sorted by item id.
    std::vector<ItemStack> output;
    /// Conveyors and splitters: the items in transit.
    ConveyorLane lane;

    bool operator==(const MachineState &) const = default;
};

} // namespace hex::sim
