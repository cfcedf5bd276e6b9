#pragma once

#include "hexsphere.pb.h"

#include "geometry/hexsphere.h"
#include "sim/world.h"

#include <QString>

#include <tl/expected.hpp>

#include <cstdint>
#include <functional>
#include <vector>

namespace hex::protocol {

/// The per-cell state a client sees: the visible subset of sim::WorldState, one value
/// per cell in cell-id order. What a Snapshot carries and ChunkDeltas update.
struct VisibleCells
{
    std::vector<std::uint8_t> terrain;
    std::vector<std::uint8_t> elevation;
    std::vector<std::uint8_t> flora;
    std::vector<std::uint8_t> water;
    std::vector<std::uint8_t> pollution;
    std::vector<std::uint8_t> resource;
    std::vector<std::uint16_t> structure;
    std::vector<std::uint8_t> orientation;
    std::vector<std::uint16_t> owner;

    std::uint32_t cellCount() const { return std::uint32_t(terrain.size()); }
    /// `cellCount` cells of nothing: ocean floor, no owner. What a client that views
    /// part of the planet starts from before chunk snapshots fill it in.
    void resize(std::uint32_t cellCount);
    bool operator==(const VisibleCells &) const = default;
};

/// The visible cells of `state`.
VisibleCells visibleCells(const sim::WorldState &state);

/// Fills `out` with every cell of `state` at its current tick.
void encodeSnapshot(const sim::WorldState &state, Snapshot *out);
/// Fills `out` with the current values of the cells listed in `delta`.
void encodeChunkDelta(const sim::WorldState &state, const sim::ChunkDelta &delta, ChunkDelta *out);
/// Fills `out` with every cell of `chunk` at the state's current tick. `chunk` must be
/// below the sphere's chunkCount().
void encodeChunkSnapshot(const sim::WorldState &state, geometry::ChunkId chunk, ChunkSnapshot *out);

/// Fills `out` with what clients draw of `machine`, the structure on `cell`: its
/// operation's progress and length (`content` gives the prototype's or the recipe's
/// ticks), and the items on its belt.
void encodeMachineView(const sim::WorldState &state, const sim::Content &content,
                       geometry::CellId cell, const sim::MachineState &machine,
                       MachineView *out);
/// Fills `out` with every machine of `chunk` (full = true), ascending cell.
void encodeChunkMachines(const sim::WorldState &state, const sim::Content &content,
                         geometry::ChunkId chunk, ChunkMachines *out);
/// Calls `visit(cell, machine)` for every machine of `chunk`, ascending cell, without
/// looking at the chunk's empty cells.
void forEachMachine(const sim::WorldState &state, geometry::ChunkId chunk,
                    const std::function<void(geometry::CellId, const sim::MachineState &)> &visit);

/// Checks and unpacks a snapshot of a world of `cellCount` cells. On failure says which
/// field has the wrong size.
[[nodiscard]] tl::expected<VisibleCells, QString> decodeSnapshot(const Snapshot &snapshot,
                                                                 std::uint32_t cellCount);
/// Checks `delta` against `sphere` (known chunk, ascending cells of that chunk, field
/// sizes) and applies it to `cells`. Changes nothing and says why when it is invalid.
/// On success appends the changed cell ids to `changed` if given.
[[nodiscard]] tl::expected<void, QString>
applyChunkDelta(const ChunkDelta &delta, const geometry::HexSphere &sphere, VisibleCells &cells,
                std::vector<geometry::CellId> *changed = nullptr);
/// applyChunkDelta() in two steps: the check, for a mirror of `mirrorCells` cells,
/// which changes nothing...
[[nodiscard]] tl::expected<void, QString> checkChunkDelta(const ChunkDelta &delta,
                                                          const geometry::HexSphere &sphere,
                                                          std::uint32_t mirrorCells);
/// ...and the writing of a delta that check accepted (for that sphere and a mirror of
/// that size), which checks nothing. Appends the changed cell ids to `changed` if given.
void writeChunkDelta(const ChunkDelta &delta, VisibleCells &cells,
                     std::vector<geometry::CellId> *changed = nullptr);

/// Checks `snapshot` against `sphere` (known chunk, exactly the chunk's cells in
/// order, field sizes) and writes it into `cells`, which must hold the sphere's cells.
/// Changes nothing and says why when it is invalid. On success appends the chunk's
/// cell ids to `changed` if given.
[[nodiscard]] tl::expected<void, QString>
applyChunkSnapshot(const ChunkSnapshot &snapshot, const geometry::HexSphere &sphere,
                   VisibleCells &cells, std::vector<geometry::CellId> *changed = nullptr);

} // namespace hex::protocol
