#pragma once

#include <cstdint>

namespace hex::sim {

/// splitmix64's finaliser: a bijective, well-spread 64-bit hash.
constexpr std::uint64_t mix64(std::uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/// Counter-based random numbers: a pure function of (seed, tick, cell, stream), so a
/// cell's dice never depend on which thread rolls them or in what order. `stream`
/// separates independent uses within one tick (flora, ore, ...).
constexpr std::uint32_t random32(std::uint64_t seed, std::uint64_t tick, std::uint32_t cell,
                                 std::uint32_t stream)
{
    const std::uint64_t h
        = mix64(seed ^ mix64(tick * 0xD1B54A32D192ED03ull ^ (std::uint64_t(cell) << 20) ^ stream));
    return std::uint32_t(h >> 32);
}

/// True with probability per65536 / 65536 (0 never, 65536 always).
constexpr bool chance(std::uint64_t seed, std::uint64_t tick, std::uint32_t cell,
                      std::uint32_t stream, std::uint32_t per65536)
{
    return (random32(seed, tick, cell, stream) >> 16) < per65536;
}

} // namespace hex::sim
