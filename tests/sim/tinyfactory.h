// Hand-made worlds and content for the factory and action tests, so that they do not
// depend on the shipped content files.
#pragma once

#include "geometry/hexsphere.h"
#include "sim/content.h"
#include "sim/factory.h"
#include "sim/terrain.h"
#include "sim/worldstate.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

namespace hex::sim::test {

/// Item ids of tinyContent().
enum TinyItem : ItemId { Ore, Plate, Gear, Seeds, Filter, Stone, TinyItemCount };

/// Prototype ids of tinyContent().
enum TinyPrototype : PrototypeId {
    None,
    Extractor,
    Conveyor,
    Furnace,
    Assembler,
    Chest,  ///< storage, capacity 8, takes from every side, pushes nowhere
    Outbox, ///< storage, capacity 20, takes from its back, pushes out of its front
    Splitter,
    Inserter,
    Seeder,
    Scrubber,
    Warehouse, ///< storage, capacity 2000, takes from every side
    TinyPrototypeCount
};

/// Recipe ids of tinyContent().
enum TinyRecipe : RecipeId { Smelt, CutGear, PressFilter, TinyRecipeCount };

/// Resource ids of tinyContent().
enum TinyResource : ResourceId { NoDeposit, IronDeposit };

inline constexpr SideMask sides(std::initializer_list<int> list)
{
    SideMask mask = 0;
    for (int side : list)
        mask |= SideMask(1u << side);
    return mask;
}

/// A small content made in code: ore is smelted into plates, plates cut into gears.
inline Content tinyContent()
{
    Content c;
    c.items = {{"ore", "Ore"},     {"plate", "Plate"},   {"gear", "Gear"},
               {"seeds", "Seeds"}, {"filter", "Filter"}, {"stone", "Stone"}};
    c.resources.resize(2);
    c.resources[IronDeposit] = {"iron", "Iron", Ore, 1000, 1000, 0xFF};

    c.prototypes.resize(TinyPrototypeCount);
    const auto proto
        = [&](TinyPrototype id, const char *key, MachineKind kind, SideMask in, SideMask out,
              std::vector<ItemStack> cost, std::uint16_t capacity, std::uint16_t ticks) {
              PrototypeDef &p = c.prototypes[id];
              p.key = QString::fromLatin1(key);
              p.name = p.key;
              p.kind = kind;
              p.inputSides = in;
              p.outputSides = out;
              p.buildCost = std::move(cost);
              p.capacity = capacity;
              p.ticksPerOperation = ticks;
              return &p;
          };
    const SideMask back = sides({2, 3, 4});
    const SideMask front = sides({0});
    const SideMask all = sides({0, 1, 2, 3, 4, 5});
    proto(Extractor, "extractor", MachineKind::Extractor, 0, front, {{Plate, 2}}, 5, 2)
        ->pollutionPerOperation
        = 1;
    proto(Conveyor, "conveyor", MachineKind::Conveyor, back, front, {{Plate, 1}}, 4, 4);
    proto(Furnace, "furnace", MachineKind::Assembler, back, front, {{Stone, 3}}, 10, 1)
        ->pollutionPerOperation
        = 2;
    proto(Assembler, "assembler", MachineKind::Assembler, back, front, {{Plate, 3}, {Gear, 1}}, 10,
          1);
    proto(Chest, "chest", MachineKind::Storage, all, 0, {{Plate, 2}}, 8, 1);
    proto(Outbox, "outbox", MachineKind::Storage, sides({3}), front, {{Plate, 2}}, 20, 1);
    proto(Splitter, "splitter", MachineKind::Splitter, sides({3}), sides({1, 5}), {{Plate, 2}}, 4,
          2);
    proto(Inserter, "inserter", MachineKind::Inserter, sides({3}), front, {{Plate, 1}}, 1, 3);
    PrototypeDef *seeder
        = proto(Seeder, "seeder", MachineKind::Seeder, back, 0, {{Plate, 2}}, 10, 5);
    seeder->consumes = Seeds;
    seeder->hasConsumes = true;
    seeder->effect = 10;
    PrototypeDef *scrubber
        = proto(Scrubber, "scrubber", MachineKind::Scrubber, back, 0, {{Plate, 2}}, 10, 5);
    scrubber->consumes = Filter;
    scrubber->hasConsumes = true;
    scrubber->effect = 20;
    proto(Warehouse, "warehouse", MachineKind::Storage, all, 0, {{Plate, 5}}, 2000, 1);

    c.recipes.resize(TinyRecipeCount);
    c.recipes[Smelt] = {"smelt", "Smelt", {{Ore, 1}}, {{Plate, 1}}, 4, {Furnace}};
    c.recipes[CutGear] = {"gear", "Cut gear", {{Plate, 2}}, {{Gear, 1}}, 6, {Assembler}};
    c.recipes[PressFilter]
        = {"filter", "Press filter", {{Stone, 2}}, {{Filter, 1}}, 3, {Assembler, Furnace}};

    c.automaton.flora.terrainMask
        = std::uint8_t(1u << int(Terrain::Grassland) | 1u << int(Terrain::Forest));
    c.automaton.flora.maxFlora = 255;
    c.version = QStringLiteral("tiny");
    return c;
}

/// An empty world on `sphere`: grassland everywhere, nothing owned or built.
inline WorldState emptyWorld(std::shared_ptr<const geometry::HexSphere> sphere)
{
    WorldState s = WorldState::blank(std::move(sphere), 7);
    std::fill(s.terrain.begin(), s.terrain.end(), std::uint8_t(Terrain::Grassland));
    std::fill(s.elevation.begin(), s.elevation.end(), std::uint8_t(150));
    s.cellsHash = s.computeCellsHash();
    return s;
}

/// The slot of `other` among `cell`'s neighbours, or -1.
inline int slotOf(const geometry::HexSphere &sphere, CellId cell, CellId other)
{
    const auto around = sphere.neighbours(cell);
    const auto it = std::find(around.begin(), around.end(), other);
    return it == around.end() ? -1 : int(it - around.begin());
}

/// The orientation that makes side `side` of a structure on `cell` face `other`.
inline std::uint8_t facing(const geometry::HexSphere &sphere, CellId cell, CellId other,
                           int side = 0)
{
    const int d = int(sphere.neighbours(cell).size());
    return std::uint8_t(((slotOf(sphere, cell, other) - side) % d + d) % d);
}

/// An orientation of `prototype` on `cell` with an input side facing `from` (unless
/// kNoCell) and an output side facing `to` (unless kNoCell); nullopt if none.
inline std::optional<std::uint8_t> orientationFor(const geometry::HexSphere &sphere,
                                                  const PrototypeDef &prototype, CellId cell,
                                                  CellId from, CellId to)
{
    const auto around = sphere.neighbours(cell);
    const int d = int(around.size());
    for (int o = 0; o < d; ++o) {
        bool inOk = from == geometry::kNoCell, outOk = to == geometry::kNoCell;
        for (int side = 0; side < d; ++side) {
            const CellId faced = around[(o + side) % d];
            inOk = inOk || (faced == from && (prototype.inputSides >> side & 1));
            outOk = outOk || (faced == to && (prototype.outputSides >> side & 1));
        }
        if (inOk && outOk)
            return std::uint8_t(o);
    }
    return std::nullopt;
}

/// `length` cells in a straight line from `start`, first step toward neighbour slot
/// `slot`: each next cell is the one opposite the previous (on hexagons).
inline std::vector<CellId> straightLine(const geometry::HexSphere &sphere, CellId start, int slot,
                                        int length)
{
    std::vector<CellId> cells{start};
    CellId next = sphere.neighbours(start)[slot];
    while (int(cells.size()) < length) {
        const CellId here = next;
        const int d = int(sphere.neighbours(here).size());
        next = sphere.neighbours(here)[(slotOf(sphere, here, cells.back()) + d / 2) % d];
        cells.push_back(here);
    }
    return cells;
}

/// True when no cell of the line is a pentagon and no two cells repeat.
inline bool hexagonsOnly(const std::vector<CellId> &cells)
{
    std::vector<CellId> sorted = cells;
    std::sort(sorted.begin(), sorted.end());
    return std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()
           && std::none_of(cells.begin(), cells.end(),
                           [](CellId c) { return geometry::HexSphere::isPentagon(c); });
}

/// The first straight line of `length` hexagons starting at or after `from`.
inline std::vector<CellId> findLine(const geometry::HexSphere &sphere, int length, CellId from = 12)
{
    for (CellId start = from; start < sphere.cellCount(); ++start) {
        for (int slot = 0; slot < 6; ++slot) {
            auto line = straightLine(sphere, start, slot, length);
            if (hexagonsOnly(line))
                return line;
        }
    }
    return {};
}

/// Places a structure directly (no cost, no ownership checks), as a test set-up. The
/// machine it returns stays valid only until the next insert into or erase from
/// state.machines (the next place(), for one).
inline MachineState &place(WorldState &state, CellId cell, PrototypeId prototype,
                           std::uint8_t orientation)
{
    ChangeSet ignored;
    ignored.reset(state.cellCount());
    state.set(Layer::Structure, state.structure, cell, prototype, ignored);
    state.set(Layer::Orientation, state.orientation, cell, orientation, ignored);
    MachineState &machine = state.machines[cell];
    machine = MachineState{};
    return machine;
}

/// One step of the machines with a fresh change set; advances the tick.
inline ChangeSet stepOnce(WorldState &state, const Content &content, ItemLedger *ledger = nullptr)
{
    ChangeSet changes;
    changes.reset(state.cellCount());
    stepMachines(state, content, changes, ledger);
    ++state.tick;
    return changes;
}

inline void stepTimes(WorldState &state, const Content &content, int ticks)
{
    for (int i = 0; i < ticks; ++i)
        stepOnce(state, content);
}

} // namespace hex::sim::test
