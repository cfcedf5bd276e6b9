#include "celllook.h"

#include "protocol/worldcodec.h"

#include <algorithm>
#include <array>
#include <bit>

namespace hex::client {

namespace {

using sim::Rgb;

constexpr std::uint16_t kNoOwner = 0xFFFF;

// Amounts (0..255) count on a logarithmic scale: content may cap flora at 8 or water at
// 64, and a seedling or a puddle should show as well as a jungle or a lake does.
// Weights are out of 256: the least amount blends in at the minimum weight, 255 at the
// maximum.

const Rgb kWaterBlue{40, 100, 200};
constexpr int kWaterMinWeight = 72;
constexpr int kWaterMaxWeight = 208;

const Rgb kFloraGreen{18, 118, 26};
constexpr int kFloraMinWeight = 72;
constexpr int kFloraMaxWeight = 216;

/// A deposit's tint: strong enough to read through flora and water.
constexpr int kResourceWeight = 184;

const Rgb kSmog{76, 69, 60};
constexpr int kPollutionMinWeight = 32;
constexpr int kPollutionMaxWeight = 216;

/// Owned ground: a light tint. A structure: its own colour, then this much owner.
constexpr int kOwnerTintWeight = 64;
constexpr int kStructureOwnerWeight = 40;

constexpr std::array<Rgb, 5> kResourcePalette = {{
    {0, 0, 0},       // 0: none
    {146, 62, 38},   // 1: iron, rust red-brown
    {226, 124, 44},  // 2: copper, orange
    {28, 26, 30},    // 3: coal, near black
    {206, 204, 198}, // 4: stone, light grey
}};

constexpr std::array<Rgb, 8> kPlayerPalette = {{
    {228, 52, 52},  // red
    {52, 112, 236}, // blue
    {240, 220, 40}, // yellow
    {156, 68, 220}, // purple
    {36, 204, 196}, // cyan
    {250, 118, 16}, // orange
    {232, 84, 176}, // pink
    {136, 224, 52}, // lime
}};

/// Saturated, and far from every terrain colour: no mid greens, sea blues, sands or
/// greys.
constexpr std::array<Rgb, 10> kStructurePalette = {{
    {0, 0, 0},      // 0: none
    {236, 88, 16},  // 1: extractor, vivid orange
    {255, 226, 40}, // 2: conveyor, bright yellow
    {196, 28, 36},  // 3: furnace, red
    {112, 48, 236}, // 4: assembler, violet
    {90, 20, 60},   // 5: chest, dark wine
    {0, 236, 255},  // 6: splitter, cyan
    {255, 96, 208}, // 7: inserter, hot pink
    {148, 255, 0},  // 8: seeder, acid green
    {90, 255, 200}, // 9: scrubber, aquamarine
}};

std::uint32_t mixBits(std::uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

/// A colour of hue `hue` (0..1535: six sectors of 256), saturation and value 0..255.
Rgb fromHsv(int hue, int saturation, int value)
{
    const int sector = hue / 256;
    const int f = hue % 256;
    const int p = value * (255 - saturation) / 255;
    const int q = value * (255 * 256 - saturation * f) / (255 * 256);
    const int t = value * (255 * 256 - saturation * (255 - f)) / (255 * 256);
    auto rgb = [](int r, int g, int b) {
        return Rgb{std::uint8_t(r), std::uint8_t(g), std::uint8_t(b)};
    };
    switch (sector) {
    case 0:
        return rgb(value, t, p);
    case 1:
        return rgb(q, value, p);
    case 2:
        return rgb(p, value, t);
    case 3:
        return rgb(p, q, value);
    case 4:
        return rgb(t, p, value);
    default:
        return rgb(value, p, q);
    }
}

/// A stable colour for an index past a palette's end.
Rgb derivedColour(std::uint32_t index, std::uint32_t salt, int saturation, int value)
{
    return fromHsv(int(mixBits(index * 0x9E3779B9u ^ salt) % 1536), saturation, value);
}

/// log2(amount) in 1/16 steps: 0 for 1, 16 for 2, ..., 127 for 255.
constexpr int logLevel(std::uint8_t amount)
{
    const int width = std::bit_width(unsigned(amount)); // 1..8
    const int below = 1 << (width - 1);
    return (width - 1) * 16 + (amount - below) * 16 / below;
}

/// 0 for no amount, else `minimum` .. `maximum` along logLevel().
constexpr int rampWeight(std::uint8_t amount, int minimum, int maximum)
{
    if (amount == 0)
        return 0;
    return minimum + (maximum - minimum) * logLevel(amount) / 127;
}

/// rampWeight() for every amount: cellColour() runs for thousands of cells a tick, and
/// the divisions are the dearest part of it.
template<int Minimum, int Maximum>
constexpr std::array<std::uint8_t, 256> rampTable()
{
    std::array<std::uint8_t, 256> table{};
    for (int amount = 0; amount < 256; ++amount)
        table[std::size_t(amount)] = std::uint8_t(rampWeight(std::uint8_t(amount), Minimum, Maximum));
    return table;
}
constexpr auto kWaterRamp = rampTable<kWaterMinWeight, kWaterMaxWeight>();
constexpr auto kFloraRamp = rampTable<kFloraMinWeight, kFloraMaxWeight>();
constexpr auto kPollutionRamp = rampTable<kPollutionMinWeight, kPollutionMaxWeight>();

bool isWater(std::uint8_t terrain)
{
    return terrain == std::uint8_t(sim::Terrain::DeepWater)
           || terrain == std::uint8_t(sim::Terrain::ShallowWater);
}

/// blend() for a weight already in 0..256, inlined where cellColour() calls it.
[[gnu::always_inline]] inline Rgb mix(Rgb from, Rgb to, int weight)
{
    auto channel = [weight](int a, int b) {
        return std::uint8_t(a + (b - a) * weight / 256);
    };
    return {channel(from.r, to.r), channel(from.g, to.g), channel(from.b, to.b)};
}

} // namespace

Rgb blend(Rgb from, Rgb to, int weight)
{
    return mix(from, to, std::clamp(weight, 0, 256));
}

Rgb resourceColour(std::uint8_t resource)
{
    if (resource < kResourcePalette.size())
        return kResourcePalette[resource];
    return derivedColour(resource, 0x5EED0001u, 180, 200);
}

Rgb playerColour(std::uint16_t player)
{
    if (player == kNoOwner)
        return {};
    if (player < kPlayerPalette.size())
        return kPlayerPalette[player];
    return derivedColour(player, 0x5EED0002u, 200, 236);
}

Rgb structureColour(std::uint16_t prototype)
{
    if (prototype < kStructurePalette.size())
        return kStructurePalette[prototype];
    return derivedColour(prototype, 0x5EED0003u, 255, 255);
}

namespace {

/// sim::terrainColour() of every terrain and elevation, made once.
struct GroundTable
{
    std::array<std::array<Rgb, 256>, sim::kTerrainCount> colours;
    GroundTable()
    {
        for (int terrain = 0; terrain < sim::kTerrainCount; ++terrain) {
            for (int elevation = 0; elevation < 256; ++elevation) {
                colours[std::size_t(terrain)][std::size_t(elevation)]
                    = sim::terrainColour(std::uint8_t(terrain), std::uint8_t(elevation));
            }
        }
    }
};

const GroundTable &groundTable()
{
    static const GroundTable table;
    return table;
}

/// cellColour(), inlined into both of its callers. The layers that apply to some cells
/// only blend with weight 0 (which changes nothing) where they do not apply, instead of
/// being skipped: a tick's changed cells come in no pattern a branch predictor could
/// follow, and a wrong guess costs more than the blend.
[[gnu::always_inline]] inline Rgb colourOf(const protocol::VisibleCells &cells,
                                           const GroundTable &ground, geometry::CellId cell)
{
    const std::uint16_t owner = cells.owner[cell];
    const bool owned = owner != kNoOwner;
    if (const std::uint16_t structure = cells.structure[cell]) {
        const Rgb look = structureColour(structure);
        return owned ? mix(look, playerColour(owner), kStructureOwnerWeight) : look;
    }

    const std::uint8_t terrain = cells.terrain[cell];
    Rgb look = terrain < sim::kTerrainCount
                   ? ground.colours[terrain][cells.elevation[cell]]
                   : sim::terrainColour(terrain, cells.elevation[cell]);
    look = mix(look, kWaterBlue, isWater(terrain) ? 0 : kWaterRamp[cells.water[cell]]);
    look = mix(look, kFloraGreen, kFloraRamp[cells.flora[cell]]);
    const std::uint8_t resource = cells.resource[cell];
    look = mix(look, resourceColour(resource), resource != 0 ? kResourceWeight : 0);
    look = mix(look, kSmog, kPollutionRamp[cells.pollution[cell]]);
    return mix(look, playerColour(owner), owned ? kOwnerTintWeight : 0);
}

} // namespace

Rgb cellColour(const protocol::VisibleCells &cells, geometry::CellId cell)
{
    Q_ASSERT(cell < cells.cellCount());
    return colourOf(cells, groundTable(), cell);
}

void writeCellColours(const protocol::VisibleCells &cells, std::span<const geometry::CellId> ids,
                      std::uint8_t *out, std::size_t bytesPerCell)
{
    Q_ASSERT(bytesPerCell >= 3);
    const GroundTable &ground = groundTable();
    const std::uint32_t count = cells.cellCount();
    for (const geometry::CellId cell : ids) {
        if (cell >= count)
            continue;
        const Rgb look = colourOf(cells, ground, cell);
        std::uint8_t *texel = out + std::size_t(cell) * bytesPerCell;
        texel[0] = look.r;
        texel[1] = look.g;
        texel[2] = look.b;
        std::fill(texel + 3, texel + bytesPerCell, std::uint8_t(255));
    }
}

} // namespace hex::client
