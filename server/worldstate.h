#pragma once

#include "geometry/hexsphere.h"
#include "sim/worldgen.h"

#include <QString>

#include <cstdint>

namespace hex::server {

/// The world a server runs. Written only by the tick thread (the thread the
/// GameServer lives in); transports on that thread read it between ticks.
struct WorldState
{
    WorldState(QString worldName, int subdivisions, std::uint64_t worldSeed)
        : name(std::move(worldName))
        , seed(worldSeed)
        , sphere(subdivisions)
        , ground(sim::generateTerrain(sphere, worldSeed))
    {}

    QString name;
    std::uint64_t seed = 0;
    geometry::HexSphere sphere;
    sim::GeneratedTerrain ground;
    /// Ticks completed.
    std::uint64_t tick = 0;
    /// The rate the world is stepped at, in updates per second.
    int ups = 20;
};

} // namespace hex::server
