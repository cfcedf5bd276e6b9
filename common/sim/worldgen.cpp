#include "worldgen.h"

#include "terrain.h"
#include "world.h"

#include <algorithm>
#include <cstdlib>
#include <queue>
#include <utility>

namespace hex::sim {

namespace {

// Fixed point: coordinates carry 16 fractional bits.
constexpr int kFracBits = 16;
constexpr std::int64_t kOne = std::int64_t(1) << kFracBits;

std::uint64_t mix(std::uint64_t x)
{
    // splitmix64's finaliser: a cheap, well-spread integer hash.
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// A pseudo-random value in [0, kOne) for one lattice point.
std::int64_t latticeValue(std::uint64_t seed, std::int64_t x, std::int64_t y, std::int64_t z)
{
    std::uint64_t h = mix(seed ^ std::uint64_t(x) * 0x8CB92BA72F3D8DD7ull);
    h = mix(h ^ std::uint64_t(y) * 0xD6E8FEB86659FD93ull);
    h = mix(h ^ std::uint64_t(z) * 0xA0761D6478BD642Full);
    return std::int64_t(h >> (64 - kFracBits));
}

// Smoothstep 3t²-2t³ in fixed point, t in [0, kOne].
std::int64_t fade(std::int64_t t)
{
    return (t * t / kOne) * (3 * kOne - 2 * t) / kOne;
}

std::int64_t lerp(std::int64_t a, std::int64_t b, std::int64_t t)
{
    return a + (b - a) * t / kOne;
}

std::int64_t floorDiv(std::int64_t a, std::int64_t b)
{
    std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Trilinear value noise at a fixed-point position, in [0, kOne).
std::int64_t valueNoise(std::uint64_t seed, std::int64_t px, std::int64_t py, std::int64_t pz)
{
    const std::int64_t x0 = floorDiv(px, kOne), y0 = floorDiv(py, kOne), z0 = floorDiv(pz, kOne);
    const std::int64_t fx = fade(px - x0 * kOne), fy = fade(py - y0 * kOne),
                       fz = fade(pz - z0 * kOne);
    std::int64_t c[2][2];
    for (int dy = 0; dy < 2; ++dy) {
        for (int dz = 0; dz < 2; ++dz) {
            c[dy][dz] = lerp(latticeValue(seed, x0, y0 + dy, z0 + dz),
                             latticeValue(seed, x0 + 1, y0 + dy, z0 + dz), fx);
        }
    }
    return lerp(lerp(c[0][0], c[1][0], fy), lerp(c[0][1], c[1][1], fy), fz);
}

// Fractal sum of `octaves` noise layers starting at `frequency`, in [0, kOne).
std::int64_t fractalNoise(std::uint64_t seed, const std::int64_t p[3], int frequency, int octaves)
{
    std::int64_t sum = 0;
    std::int64_t weightSum = 0;
    std::int64_t weight = kOne;
    for (int o = 0; o < octaves; ++o) {
        const std::int64_t f = std::int64_t(frequency) << o;
        sum += valueNoise(mix(seed + std::uint64_t(o)), p[0] * f, p[1] * f, p[2] * f) * weight
               / kOne;
        weightSum += weight;
        weight /= 2;
    }
    return sum * kOne / weightSum;
}

// A cell's centre in fixed point: the only floating point worldgen reads.
void quantisedCentre(const geometry::HexSphere &sphere, geometry::CellId cell, std::int64_t p[3])
{
    const geometry::Vec3 c = sphere.centre(cell);
    p[0] = std::llround(double(c.x) * kOne);
    p[1] = std::llround(double(c.y) * kOne);
    p[2] = std::llround(double(c.z) * kOne);
}

// Noise frequency that gives features of about `cells` cells across at any size.
int featureFrequency(const geometry::HexSphere &sphere, int cells)
{
    return std::max(2, sphere.subdivisions() / cells);
}

// Places each resource's deposits: the eligible cells (its terrains, not yet taken) where
// a noise field is highest, as many as its abundance asks, so deposits come in patches.
void placeDeposits(const geometry::HexSphere &sphere, const Content &content, std::uint64_t seed,
                   WorldState &state, const NoiseFieldFill &fill, std::vector<std::int64_t> &noise)
{
    const std::uint32_t count = sphere.cellCount();
    const int frequency = featureFrequency(sphere, 12);
    std::vector<std::pair<std::int64_t, geometry::CellId>> candidates;
    for (std::size_t r = 1; r < content.resources.size(); ++r) {
        const ResourceDef &resource = content.resources[r];
        if (resource.abundance == 0 || resource.maxAmount == 0)
            continue;
        const std::uint64_t resourceSeed = mix(seed ^ 0x6465706F736974ull ^ (r << 56));
        fill(NoiseField{resourceSeed, frequency, 2, resource.terrainMask}, state.terrain.data(),
             noise.data());
        candidates.clear();
        for (geometry::CellId cell = 0; cell < count; ++cell) {
            if (state.resourceKind[cell] != kNoResource
                || !(resource.terrainMask >> state.terrain[cell] & 1))
                continue;
            candidates.emplace_back(noise[cell], cell);
        }
        const std::size_t wanted
            = std::min<std::size_t>(candidates.size(), std::size_t(std::uint64_t(candidates.size())
                                                                   * resource.abundance / 65536));
        // Highest noise first; equal noise: lower cell first.
        auto higher = [](const auto &a, const auto &b) {
            return a.first != b.first ? a.first > b.first : a.second < b.second;
        };
        std::nth_element(candidates.begin(), candidates.begin() + std::ptrdiff_t(wanted),
                         candidates.end(), higher);
        for (std::size_t i = 0; i < wanted; ++i) {
            const geometry::CellId cell = candidates[i].second;
            const std::uint32_t half = resource.maxAmount / 2u;
            state.resourceKind[cell] = ResourceId(r);
            state.resourceAmount[cell]
                = std::uint16_t(resource.maxAmount - half + mix(resourceSeed ^ cell) % (half + 1));
        }
    }
}

// Lakes: fills every basin on land up to the level where it would spill toward the sea
// (a priority flood from the ocean), at most `maxWater` deep.
void fillBasins(const geometry::HexSphere &sphere, std::uint8_t maxWater, WorldState &state)
{
    const std::uint32_t count = sphere.cellCount();
    std::vector<std::uint8_t> level(count, 0);
    std::vector<std::uint8_t> reached(count, 0);
    // Lowest level first, then lowest cell: the same order on every machine.
    std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> frontier;
    auto push = [&](geometry::CellId cell, std::uint8_t value) {
        reached[cell] = 1;
        level[cell] = value;
        frontier.push(std::uint64_t(value) << 32 | cell);
    };
    for (geometry::CellId cell = 0; cell < count; ++cell) {
        const auto terrain = Terrain(state.terrain[cell]);
        if (terrain == Terrain::DeepWater || terrain == Terrain::ShallowWater)
            push(cell, state.elevation[cell]);
    }
    while (!frontier.empty()) {
        const std::uint64_t top = frontier.top();
        frontier.pop();
        const auto cell = geometry::CellId(top & 0xFFFFFFFFu);
        for (const geometry::CellId nb : sphere.neighbours(cell)) {
            if (!reached[nb])
                push(nb, std::max(level[cell], state.elevation[nb]));
        }
    }
    for (geometry::CellId cell = 0; cell < count; ++cell) {
        const auto terrain = Terrain(state.terrain[cell]);
        if (terrain == Terrain::DeepWater || terrain == Terrain::ShallowWater || !reached[cell])
            continue;
        state.water[cell]
            = std::uint8_t(std::min<int>(level[cell] - state.elevation[cell], maxWater));
    }
}

} // namespace

GeneratedTerrain generateTerrain(const geometry::HexSphere &sphere, std::uint64_t seed)
{
    const std::uint32_t count = sphere.cellCount();
    GeneratedTerrain out;
    out.terrain.resize(count);
    out.elevation.resize(count);
    generateTerrainRange(sphere, seed, 0, count, out.terrain.data(), out.elevation.data());
    return out;
}

void generateTerrainRange(const geometry::HexSphere &sphere, std::uint64_t seed,
                          geometry::CellId begin, geometry::CellId end, std::uint8_t *terrainOut,
                          std::uint8_t *elevationOut)
{
    const std::uint64_t elevationSeed = mix(seed ^ 0x656C657661746Eull);
    const std::uint64_t moistureSeed = mix(seed ^ 0x6D6F6973747572ull);
    for (geometry::CellId cell = begin; cell < end; ++cell) {
        const geometry::Vec3 c = sphere.centre(cell);
        // Quantise once; everything after this line is integer arithmetic.
        const std::int64_t p[3]
            = {std::llround(double(c.x) * kOne), std::llround(double(c.y) * kOne),
               std::llround(double(c.z) * kOne)};
        const std::int64_t height = fractalNoise(elevationSeed, p, 2, 6);
        const std::int64_t moisture = fractalNoise(moistureSeed, p, 3, 4);

        // Stretch the noise (which clusters around the middle) over 0..255.
        const std::int64_t stretched
            = std::clamp<std::int64_t>((height - kOne / 2) * 255 * 9 / (5 * kOne) + 128, 0, 255);
        const auto elevation = std::uint8_t(stretched);
        const std::int64_t latitude = std::abs(p[2]); // 0 at the equator, kOne at a pole

        Terrain terrain;
        if (elevation < kSeaLevel - 30)
            terrain = Terrain::DeepWater;
        else if (elevation < kSeaLevel)
            terrain = Terrain::ShallowWater;
        else if (latitude > kOne * 94 / 100 - (elevation - kSeaLevel) * kOne / 800)
            terrain = Terrain::Snow; // polar caps, reaching further on high ground
        else if (elevation > 232)
            terrain = Terrain::Snow; // peaks
        else if (elevation > 200)
            terrain = Terrain::Rock;
        else if (elevation < kSeaLevel + 5)
            terrain = Terrain::Sand;
        else if (moisture < kOne * 40 / 100 && latitude < kOne * 6 / 10)
            terrain = Terrain::Desert;
        else if (moisture > kOne * 55 / 100)
            terrain = Terrain::Forest;
        else
            terrain = Terrain::Grassland;
        terrainOut[cell] = std::uint8_t(terrain);
        elevationOut[cell] = elevation;
    }
}

void noiseFieldRange(const geometry::HexSphere &sphere, const NoiseField &field,
                     const std::uint8_t *terrain, geometry::CellId begin, geometry::CellId end,
                     std::int64_t *out)
{
    for (geometry::CellId cell = begin; cell < end; ++cell) {
        if (!(field.terrainMask >> terrain[cell] & 1))
            continue;
        std::int64_t p[3];
        quantisedCentre(sphere, cell, p);
        out[cell] = fractalNoise(field.seed, p, field.frequency, field.octaves);
    }
}

WorldState generateWorld(std::shared_ptr<const geometry::HexSphere> sphere, const Content &content,
                         std::uint64_t seed)
{
    GeneratedTerrain ground = generateTerrain(*sphere, seed);
    return generateWorld(std::move(sphere), content, seed, ground);
}

WorldState generateWorld(std::shared_ptr<const geometry::HexSphere> sphere, const Content &content,
                         std::uint64_t seed, const GeneratedTerrain &ground,
                         const NoiseFieldFill &fillGiven)
{
    const std::uint32_t count = sphere->cellCount();
    const geometry::HexSphere *s0 = sphere.get();
    const NoiseFieldFill fill
        = fillGiven ? fillGiven
                    : NoiseFieldFill([s0, count](const NoiseField &field,
                                                 const std::uint8_t *terrain, std::int64_t *out) {
                          noiseFieldRange(*s0, field, terrain, 0, count, out);
                      });
    std::vector<std::int64_t> noise(count);
    WorldState state = WorldState::blank(std::move(sphere), seed);
    const geometry::HexSphere &s = *state.sphere;
    state.terrain.assign(ground.terrain.begin(), ground.terrain.end());
    state.elevation.assign(ground.elevation.begin(), ground.elevation.end());

    placeDeposits(s, content, seed, state, fill, noise);

    fillBasins(s, content.automaton.water.maxWater, state);

    // Flora: patches of the suitable terrain, thinned at random, so the automaton starts
    // from a ragged mix.
    const FloraRules &flora = content.automaton.flora;
    const std::uint64_t floraSeed = mix(seed ^ 0x666C6F7261ull);
    const int floraFrequency = featureFrequency(s, 8);
    const int floraStart = std::clamp<int>(flora.maxFlora / 2, 1, 255);
    fill(NoiseField{floraSeed, floraFrequency, 2, flora.terrainMask}, state.terrain.data(),
         noise.data());
    for (geometry::CellId cell = 0; cell < count; ++cell) {
        if (!(flora.terrainMask >> state.terrain[cell] & 1))
            continue;
        const std::int64_t patch = noise[cell];
        const std::uint64_t dice = mix(floraSeed ^ cell) % 100;
        if (patch > kOne / 2 && dice < 40)
            state.flora[cell] = std::uint8_t(floraStart);
    }
    state.cellsHash = state.computeCellsHash();
    return state;
}

} // namespace hex::sim
