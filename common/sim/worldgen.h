#pragma once

#include "geometry/hexsphere.h"

#include <cstdint>
#include <vector>

namespace hex::sim {

/// The generated ground of a world: one byte of each per cell, indexed by cell id.
struct GeneratedTerrain
{
    std::vector<std::uint8_t> terrain;   ///< hex::sim::Terrain values
    std::vector<std::uint8_t> elevation; ///< 0 deepest ocean .. 255 highest peak
};

/// Elevation and biomes from seeded fractal value noise over each cell's centre;
/// +Z is north (latitude decides the polar caps).
/// Integer arithmetic throughout (centres are quantised first), so the same seed and
/// sphere give the same bytes on every machine and compiler.
GeneratedTerrain generateTerrain(const geometry::HexSphere &sphere, std::uint64_t seed);
/// generateTerrain() for the cells [begin, end) only, written to terrain[cell] and
/// elevation[cell]: each cell depends on nothing but its centre and the seed, so ranges
/// may be generated anywhere, in any order (the compute workers' bulk jobs).
void generateTerrainRange(const geometry::HexSphere &sphere, std::uint64_t seed,
                          geometry::CellId begin, geometry::CellId end, std::uint8_t *terrain,
                          std::uint8_t *elevation);

/// A noise field over the cells whose terrain is in `terrainMask` (bit t: terrain t): what
/// world generation places deposits and flora patches by.
struct NoiseField
{
    std::uint64_t seed = 0;
    int frequency = 2;
    int octaves = 1;
    std::uint8_t terrainMask = 0;
};

/// Writes the noise of `field` to out[cell] for the cells [begin, end) whose terrain[cell]
/// is in the field's mask (others are left alone). Each cell depends only on its centre,
/// its terrain and the field, so ranges may be computed anywhere (the compute workers'
/// bulk jobs).
void noiseFieldRange(const geometry::HexSphere &sphere, const NoiseField &field,
                     const std::uint8_t *terrain, geometry::CellId begin, geometry::CellId end,
                     std::int64_t *out);

/// The sea level on the 0..255 elevation scale: cells below it are water.
inline constexpr std::uint8_t kSeaLevel = 118;

} // namespace hex::sim
