#include "chunkcover.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace hex::geometry {

namespace {

double angleBetween(const Vec3 &a, const Vec3 &b)
{
    // atan2 of |a×b| and a·b stays accurate for small and near-opposite angles, where
    // acos of the dot product does not.
    return std::atan2(double(length(cross(a, b))), double(dot(a, b)));
}

} // namespace

ChunkCover::ChunkCover(const HexSphere &sphere)
{
    const std::uint32_t count = sphere.chunkCount();
    m_centres.resize(count);
    m_radii.resize(count);
    for (ChunkId chunk = 0; chunk < count; ++chunk) {
        Vec3 sum;
        for (const CellId cell : sphere.chunkCells(chunk))
            sum = sum + sphere.centre(cell);
        const Vec3 centre = normalized(sum);
        // The farthest corner is the one at the longest chord from the centre: compare
        // squared chords, and take one angle a chunk (2 asin(chord / 2) between unit
        // vectors) instead of an atan2 a corner. It is a corner of the chunk's outline,
        // so only the cells on its border (a neighbour in another chunk) are looked at.
        double longestChord2 = 0.0;
        for (const CellId cell : sphere.chunkCells(chunk)) {
            const auto nbs = sphere.neighbours(cell);
            if (std::all_of(nbs.begin(), nbs.end(),
                            [&](CellId nb) { return sphere.chunkOf(nb) == chunk; }))
                continue;
            const CellCorners corners = sphere.corners(cell);
            for (int i = 0; i < corners.count; ++i) {
                const double dx = double(corners.points[i].x) - double(centre.x);
                const double dy = double(corners.points[i].y) - double(centre.y);
                const double dz = double(corners.points[i].z) - double(centre.z);
                longestChord2 = std::max(longestChord2, dx * dx + dy * dy + dz * dz);
            }
        }
        const double radius = 2.0 * std::asin(std::min(std::sqrt(longestChord2) / 2.0, 1.0));
        m_centres[chunk] = centre;
        // A little slack for float rounding in the corners and the view direction.
        m_radii[chunk] = radius + 1e-5;
        m_largestRadius = std::max(m_largestRadius, m_radii[chunk]);
    }
}

double ChunkCover::gap(ChunkId chunk, const Vec3 &unitDirection) const
{
    return angleBetween(m_centres[chunk], unitDirection) - m_radii[chunk];
}

ChunkSet ChunkCover::covered(const Vec3 &direction, double radiusRadians) const
{
    ChunkSet set(chunkCount(), false);
    update(direction, radiusRadians, 0.0, set);
    return set;
}

void ChunkCover::update(const Vec3 &direction, double radiusRadians, double marginRadians,
                        ChunkSet &subscribed, std::vector<ChunkId> *added,
                        std::vector<ChunkId> *removed) const
{
    const bool everything = radiusRadians >= std::numbers::pi;
    const bool nothing = radiusRadians <= 0.0 || length(direction) == 0.0f;
    const Vec3 unit = nothing ? Vec3{} : normalized(direction);
    for (ChunkId chunk = 0; chunk < chunkCount(); ++chunk) {
        const bool was = subscribed[chunk];
        bool now = everything;
        if (!everything && !nothing) {
            const double g = gap(chunk, unit);
            now = g <= radiusRadians || (was && g <= radiusRadians + marginRadians);
        }
        if (now == was)
            continue;
        subscribed[chunk] = now;
        if (now && added)
            added->push_back(chunk);
        if (!now && removed)
            removed->push_back(chunk);
    }
}

} // namespace hex::geometry
