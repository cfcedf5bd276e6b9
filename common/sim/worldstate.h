#pragma once

#include "content.h"
#include "geometry/hexsphere.h"
#include "machinestate.h"
#include "rng.h"

#include <QString>

#include <boost/container/flat_map.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <memory_resource>
#include <vector>

namespace hex::sim {

using geometry::CellId;
using geometry::ChunkId;

/// Per-structure state by cell: a sorted vector of (cell, state) pairs, so walking it in
/// ascending cell order reads contiguous memory and finding a cell is a binary search.
/// Unlike std::map, an insert or erase moves the elements after it: it invalidates every
/// reference, pointer and iterator into the map, so hold none across one.
using MachineMap = boost::container::flat_map<CellId, MachineState>;

/// The per-cell arrays of WorldState, for hashing.
enum class Layer : std::uint8_t {
    Terrain,
    Elevation,
    ResourceKind,
    ResourceAmount,
    Flora,
    Water,
    Pollution,
    Structure,
    Orientation,
    Owner,
};

/// One cell-layer value's share of the state hash. The cells' part of the hash is the
/// XOR of this over every cell and layer, so a writer keeps it current by XOR-ing out
/// the old value's share and XOR-ing in the new one (see WorldState::cellsHash); the
/// order of writes, and the thread that makes them, do not matter.
constexpr std::uint64_t cellValueHash(CellId cell, Layer layer, std::uint32_t value)
{
    return mix64((std::uint64_t(cell) << 8 | std::uint64_t(layer)) * 0x9FB21C651E98DF25ull
                 ^ (std::uint64_t(value) << 40));
}

/// One per-cell array of WorldState. A polymorphic-allocator vector so that a running world
/// can keep its arrays in memory it does not own, such as a segment shared with compute
/// workers (see World::placeArrays()). A copy is always made in ordinary heap memory: a copied
/// state is a save point that lives apart from the running world.
template<typename T>
using CellArray = std::pmr::vector<T>;

/// Cells whose visible state changed during a step: one byte per cell, so threads
/// marking different cells never race.
struct ChangeSet
{
    CellArray<std::uint8_t> dirty;

    void reset(std::uint32_t cellCount) { dirty.assign(cellCount, 0); }
    void mark(CellId cell) { dirty[cell] = 1; }
    bool isMarked(CellId cell) const { return dirty[cell] != 0; }
};

/// Index into WorldState::players.
using PlayerId = std::uint16_t;
inline constexpr PlayerId kNoPlayer = 0xFFFF;

struct Player
{
    QString name;
    /// Items the player carries, by item id; counts > 0.
    std::map<ItemId, std::uint32_t> inventory;
    /// Cells the player owns.
    std::uint32_t cellsOwned = 0;
    bool operator==(const Player &) const = default;
};

/// The whole simulated state of a world, as plain arrays over cell ids (structure of
/// arrays) plus sparse machine state. Copyable: a copy is a save point, and
/// restoring it reproduces the same future.
///
/// Only the tick thread writes it; the simulation step may split a write phase over
/// worker threads by cell ranges, each writing only its own cells.
struct WorldState
{
    std::shared_ptr<const geometry::HexSphere> sphere;
    std::uint64_t seed = 0;
    /// Ticks completed.
    std::uint64_t tick = 0;

    // The ground: set by world generation, never changed by the automaton.
    CellArray<std::uint8_t> terrain;   ///< hex::sim::Terrain
    CellArray<std::uint8_t> elevation; ///< 0..255

    // Deposits.
    CellArray<ResourceId> resourceKind;
    CellArray<std::uint16_t> resourceAmount;

    // The living layers, stepped by the automaton (double-buffered there).
    CellArray<std::uint8_t> flora;     ///< 0 = none, else density
    CellArray<std::uint8_t> water;     ///< standing water, 0..maxWater
    CellArray<std::uint8_t> pollution; ///< 0..255

    // Players' mark on the world.
    CellArray<PrototypeId> structure;    ///< kNoStructure or a prototype
    CellArray<std::uint8_t> orientation; ///< 0..5 (0..4 on pentagons)
    CellArray<PlayerId> owner;           ///< kNoPlayer or a player

    /// Per-structure state, ordered by cell so iteration is deterministic. See MachineMap
    /// for what an insert or erase invalidates.
    MachineMap machines;
    std::vector<Player> players;

    /// The XOR of cellValueHash() over every cell and layer. Whoever writes a layer
    /// outside the automaton's own buffers keeps it current through set().
    std::uint64_t cellsHash = 0;

    std::uint32_t cellCount() const { return std::uint32_t(terrain.size()); }

    /// Writes one layer value of one cell, keeping cellsHash current and marking the
    /// cell in `changes` when the value differs. For single-threaded writers (actions,
    /// machines); the automaton's parallel passes keep per-thread hash shares instead.
    template<typename T>
    void set(Layer layer, CellArray<T> &array, CellId cell, T value, ChangeSet &changes)
    {
        const T old = array[cell];
        if (old == value)
            return;
        cellsHash ^= cellValueHash(cell, layer, std::uint32_t(old))
                     ^ cellValueHash(cell, layer, std::uint32_t(value));
        array[cell] = value;
        changes.mark(cell);
    }

    /// Recomputes cellsHash from the arrays (after generation or loading).
    std::uint64_t computeCellsHash() const;

    /// A state for `sphere` with every array sized and empty: terrain 0, no deposits,
    /// nothing living, no structures, no owners; tick 0, no players. cellsHash is
    /// computed. The start of world generation and of hand-made test worlds.
    static WorldState blank(std::shared_ptr<const geometry::HexSphere> sphere, std::uint64_t seed);

    bool operator==(const WorldState &other) const = default;
};

} // namespace hex::sim
