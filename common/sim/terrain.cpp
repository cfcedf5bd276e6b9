#include "terrain.h"

#include <algorithm>
#include <array>

namespace hex::sim {

namespace {

constexpr std::array<Rgb, kTerrainCount> kBase = {{
    {22, 52, 120},   // DeepWater
    {44, 104, 170},  // ShallowWater
    {214, 200, 150}, // Sand
    {98, 160, 70},   // Grassland
    {40, 110, 50},   // Forest
    {200, 170, 100}, // Desert
    {120, 110, 104}, // Rock
    {236, 240, 245}, // Snow
}};

std::uint8_t scaled(std::uint8_t channel, int percent)
{
    return std::uint8_t(std::clamp(channel * percent / 100, 0, 255));
}

} // namespace

Rgb terrainColour(std::uint8_t terrain, std::uint8_t elevation)
{
    if (terrain >= kTerrainCount)
        return {255, 0, 255};
    const Rgb base = kBase[terrain];
    // Water: 70 % at the deepest, 110 % at the shore. Land: 85 % low, 115 % high.
    const bool water = terrain <= std::uint8_t(Terrain::ShallowWater);
    const int percent = water ? 70 + elevation * 40 / 255 : 85 + elevation * 30 / 255;
    return {scaled(base.r, percent), scaled(base.g, percent), scaled(base.b, percent)};
}

} // namespace hex::sim
