#pragma once

#include "hexsphere.h"
#include "vec3.h"

#include <cstdint>
#include <vector>

namespace hex::geometry {

/// A set of chunks of one sphere, as one bit per chunk id.
using ChunkSet = std::vector<bool>;

/// Which chunks a view of the planet reaches: interest management for the server and
/// the view a client asks for. A view is a spherical cap, a direction from the centre
/// and an angular radius. A chunk is in the cap when any of its cells' corners can be:
/// its bounding cap (centre direction and the widest angle to a corner) overlaps the
/// view's. Immutable after construction; one per sphere, shared by every session.
class ChunkCover
{
public:
    explicit ChunkCover(const HexSphere &sphere);

    std::uint32_t chunkCount() const { return std::uint32_t(m_centres.size()); }
    /// The unit direction of the centre of `chunk`'s bounding cap.
    Vec3 centre(ChunkId chunk) const { return m_centres[chunk]; }
    /// The angle, in radians, from centre(chunk) to the farthest corner of its cells.
    double radius(ChunkId chunk) const { return m_radii[chunk]; }
    /// The largest radius() of any chunk: the default hysteresis margin.
    double largestRadius() const { return m_largestRadius; }

    /// The chunks reaching into the cap of `radiusRadians` around `direction` (any
    /// length but zero). A radius of π or more is every chunk; 0 or less is none.
    ChunkSet covered(const Vec3 &direction, double radiusRadians) const;

    /// Moves `subscribed` to a new view with hysteresis: a chunk joins when it reaches
    /// into the cap of `radiusRadians`, and leaves only when it no longer reaches into
    /// the wider cap of `radiusRadians + marginRadians`, so a view that jitters across a
    /// chunk border does not drop and re-add it. Appends the chunks that joined to
    /// `added` and those that left to `removed` (ascending), when given. `subscribed`
    /// must have chunkCount() entries.
    void update(const Vec3 &direction, double radiusRadians, double marginRadians,
                ChunkSet &subscribed, std::vector<ChunkId> *added = nullptr,
                std::vector<ChunkId> *removed = nullptr) const;

private:
    /// How far `chunk` is from the view: the angle between their centres less the
    /// chunk's radius (negative when the view's centre lies inside the chunk's cap).
    double gap(ChunkId chunk, const Vec3 &unitDirection) const;

    std::vector<Vec3> m_centres;
    std::vector<double> m_radii;
    double m_largestRadius = 0.0;
};

} // namespace hex::geometry
