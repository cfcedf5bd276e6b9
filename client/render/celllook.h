#pragma once

#include "geometry/hexsphere.h"
#include "sim/terrain.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace hex::protocol {
struct VisibleCells;
}

namespace hex::client {

/// The colour a cell is drawn in, from what the client sees of it, in layers:
///
/// 1. the ground: sim::terrainColour(terrain, elevation);
/// 2. standing water on land blends it toward blue, more with more water;
/// 3. flora blends it toward a rich green, more with denser flora;
/// 4. a resource deposit tints it with the resource's colour (resourceColour()), after
///    water and flora so that deposits stay readable under them;
/// 5. pollution blends it toward a brown-grey smog, more with more pollution;
/// 6. an owned cell takes a light tint of its owner's colour (playerColour());
/// 7. a structure replaces all of that with its prototype's strong colour
///    (structureColour()), mixed with its owner's colour when it has one.
///
/// Integer arithmetic only, so the same cell looks the same on every machine.
/// `cell` must be below cells.cellCount().
sim::Rgb cellColour(const protocol::VisibleCells &cells, geometry::CellId cell);
/// cellColour() of each cell of `ids` (ids from cells.cellCount() on are skipped),
/// written to `out + id * bytesPerCell` as red, green, blue, then 255 in any bytes left
/// (the look texture's layout: see PlanetMesh). What a tick's changes recolour, tens of
/// thousands of cells at n=256: without a call a cell, or a branch on what a cell holds,
/// a third less time than cellColour() for each (bench_client's updateCells figure).
void writeCellColours(const protocol::VisibleCells &cells, std::span<const geometry::CellId> ids,
                      std::uint8_t *out, std::size_t bytesPerCell);

/// The tint of resource `resource` (a content index, 1..255; 0 is none and gives
/// black): 1 iron rust red-brown, 2 copper orange, 3 coal near black, 4 stone light
/// grey, others a colour derived from the index.
sim::Rgb resourceColour(std::uint8_t resource);
/// The colour of player `player` (a player index; 0xFFFF is no player and gives
/// black): eight distinct colours, then colours derived from the index.
sim::Rgb playerColour(std::uint16_t player);
/// The colour of structure prototype `prototype` (a content index, 1..65535; 0 is no
/// structure and gives black): saturated colours unlike any terrain's.
sim::Rgb structureColour(std::uint16_t prototype);

/// `from` moved toward `to` by `weight`/256 (0: `from`, 256: `to`).
sim::Rgb blend(sim::Rgb from, sim::Rgb to, int weight);

} // namespace hex::client
