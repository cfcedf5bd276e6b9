#pragma once

#include <cstdint>

namespace hex::sim {

/// What the ground of a cell is. Stored as one byte per cell, on the wire too:
/// values are never renumbered.
enum class Terrain : std::uint8_t {
    DeepWater = 0,
    ShallowWater = 1,
    Sand = 2,
    Grassland = 3,
    Forest = 4,
    Desert = 5,
    Rock = 6,
    Snow = 7,
};

inline constexpr int kTerrainCount = 8;

/// An sRGB colour, one byte per channel.
struct Rgb
{
    std::uint8_t r = 0;
    std::uint8_t g = 0;
    std::uint8_t b = 0;
};

/// How `terrain` looks at `elevation` (0..255): water darkens with depth, land
/// lightens with height. Unknown terrain values get magenta so they stand out.
Rgb terrainColour(std::uint8_t terrain, std::uint8_t elevation);

} // namespace hex::sim
