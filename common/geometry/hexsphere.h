#pragma once

#include "vec3.h"

#include <QString>

#include <tl/expected.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace hex::geometry {

/// Cell ids are dense: 0 .. cellCount()-1. Ids 0..11 are the twelve pentagons.
using CellId = std::uint32_t;
/// Chunk ids are dense: 0 .. chunkCount()-1.
using ChunkId = std::uint32_t;

/// Marks an unused neighbour slot (the sixth slot of a pentagon).
inline constexpr CellId kNoCell = 0xFFFFFFFFu;

/// The corner polygon of one cell: `count` (5 or 6) unit vectors, counter-clockwise
/// seen from outside the sphere. Corner k lies between neighbour k and neighbour k+1.
struct CellCorners
{
    std::array<Vec3, 6> points;
    int count = 0;
};

/// Where the tables of a HexSphere lie: what HexSphere::tables() gives and
/// HexSphere::view() reads, so that processes stepping the same world share one copy
/// (at n=512 they are 120 MiB).
struct HexSphereTables
{
    std::span<const Vec3> centres;
    std::span<const CellId> neighbours; ///< 6 slots per cell, kNoCell pads pentagons
    std::span<const ChunkId> chunkOf;
    std::span<const std::uint32_t> chunkOffsets; ///< CSR into chunkCells
    std::span<const CellId> chunkCells;
    std::span<const std::uint32_t> chunkNeighbourOffsets; ///< CSR into chunkNeighbours
    std::span<const ChunkId> chunkNeighbours;
    std::span<const CellId> lattice; ///< (n+1)² ids per rhombus, for cellAt
    /// cellAt may skip the 2-ring check when cos(angle(direction, best)) >= this: then
    /// no cell outside best's 1-ring can win, even allowing for float rounding. 2
    /// disables it. Computed from the tables when they are built.
    double skipRingCos = 2.0;

    /// The number of tables, and f(name, span) for each, in the order above: the order
    /// copies lay them out in. `name` is for messages ("centre", "chunk neighbour", ...).
    static constexpr std::size_t kCount = 8;
    template<typename F>
    void forEach(F &&f)
    {
        visit(*this, f);
    }
    template<typename F>
    void forEach(F &&f) const
    {
        visit(*this, f);
    }

private:
    template<typename Tables, typename F>
    static void visit(Tables &t, F &f)
    {
        f("centre", t.centres);
        f("neighbour", t.neighbours);
        f("cell chunk", t.chunkOf);
        f("chunk offset", t.chunkOffsets);
        f("chunk cell", t.chunkCells);
        f("chunk neighbour offset", t.chunkNeighbourOffsets);
        f("chunk neighbour", t.chunkNeighbours);
        f("lattice", t.lattice);
    }
};

/// The Goldberg polyhedron GP(n,0) on the unit sphere: the dual of an icosahedron
/// whose faces are subdivided n times. It has 10n²+2 cells; ids 0..11 are the
/// pentagons. The sphere is cut into the 10 rhombi formed by pairs of icosahedron
/// faces, each split k×k into chunks; cell ids are grouped by chunk, so the
/// non-pentagon cells of a chunk have consecutive ids.
///
/// Immutable once built, so any thread may read it.
class HexSphere
{
public:
    /// Builds GP(subdivisions, 0), 1 <= subdivisions <= 1024. `chunkSplit` is k, the
    /// number of chunk rows and columns per rhombus, 1 <= k <= subdivisions; 0 picks
    /// defaultChunkSplit(subdivisions).
    explicit HexSphere(int subdivisions, int chunkSplit = 0);
    /// A sphere that reads the tables of HexSphere(subdivisions, chunkSplit) where they
    /// lie, copied from tables() (into shared memory, say), instead of building its own.
    /// They must stay in place, unchanged, for as long as it lives. Refuses tables of
    /// another size; their contents are trusted.
    static tl::expected<std::shared_ptr<const HexSphere>, QString>
    view(int subdivisions, int chunkSplit, const HexSphereTables &tables);

    /// This process's HexSphere(subdivisions, chunkSplit), built on first use and shared
    /// by every caller while any of them holds it: a game hosted in the client and the
    /// client's own view of it use one copy (120 MiB at n=512). Thread-safe; a caller
    /// that comes while another builds the same sphere waits for it.
    static std::shared_ptr<const HexSphere> shared(int subdivisions, int chunkSplit = 0);

    HexSphere(const HexSphere &) = delete;
    HexSphere &operator=(const HexSphere &) = delete;

    /// Chunks of about 16×16 cells: ceil(n / 16).
    static int defaultChunkSplit(int subdivisions);
    /// 10n²+2.
    static std::uint64_t cellCountFor(int subdivisions);

    /// n, the number of cell steps along each edge of an icosahedron face.
    int subdivisions() const { return m_n; }
    /// 10n²+2.
    std::uint32_t cellCount() const { return m_cellCount; }
    /// True for ids 0..11, whatever n is.
    static constexpr bool isPentagon(CellId cell) { return cell < 12; }

    /// Unit vector to the cell's centre.
    Vec3 centre(CellId cell) const { return m_tables.centres[cell]; }
    /// Five or six neighbours, counter-clockwise seen from outside.
    std::span<const CellId> neighbours(CellId cell) const
    {
        return {m_tables.neighbours.data() + std::size_t(cell) * 6, isPentagon(cell) ? 5u : 6u};
    }
    /// The corner polygon; corner k is the normalised sum of the centres of the cell
    /// and of its neighbours k and k+1, computed so that cells sharing a corner get
    /// bit-identical points.
    CellCorners corners(CellId cell) const;

    /// The chunk that holds `cell`.
    ChunkId chunkOf(CellId cell) const { return m_tables.chunkOf[cell]; }
    /// 10k²: k×k chunks in each of the ten rhombi.
    std::uint32_t chunkCount() const { return std::uint32_t(m_tables.chunkOffsets.size() - 1); }
    /// k: chunk rows (and columns) per rhombus.
    int chunkSplit() const { return m_k; }
    /// The cells of `chunk`, ascending.
    std::span<const CellId> chunkCells(ChunkId chunk) const;
    /// Chunks holding at least one cell adjacent to a cell of `chunk`, ascending.
    std::span<const ChunkId> chunkNeighbours(ChunkId chunk) const;

    /// The cell whose centre is nearest to `direction` (need not be normalised, must
    /// not be zero). O(1) expected: no scan over cells.
    CellId cellAt(const Vec3 &direction) const;

    /// Heap bytes held by this object (tables, not counting sizeof(*this)); 0 but for the
    /// faces for a view().
    std::size_t memoryBytes() const;
    /// Where this sphere's tables lie, for copying them elsewhere and view()ing them.
    HexSphereTables tables() const;

private:
    /// One icosahedron face, prepared for cellAt: the face hit by a ray from the centre is
    /// the one whose normal has the largest dot product with it, since all faces lie at
    /// the same distance from the centre.
    struct Face
    {
        Vec3 normal;        // unit, outward
        float distance = 0; // of the face's plane from the centre
        // Lattice coordinates of a point p on the plane: i = dot(p, axisI) + offsetI, etc.
        Vec3 axisI;
        Vec3 axisJ;
        float offsetI = 0;
        float offsetJ = 0;
        std::uint32_t diamond = 0;
    };

    HexSphere() = default;
    /// Points the tables read by every accessor at m_own's.
    void useOwnTables();
    void buildCells();
    void buildNeighbours();
    void buildChunks();
    void buildFaces();
    void buildSearchBound();
    std::uint32_t latticeIndex(int diamond, int i, int j) const
    {
        return std::uint32_t((diamond * (m_n + 1) + i) * (m_n + 1) + j);
    }

    int m_n = 0;
    int m_k = 0;
    std::uint32_t m_cellCount = 0;
    // The tables every accessor reads: m_own's, or another's for a view().
    HexSphereTables m_tables;
    // The tables a built sphere owns; empty in a view().
    struct OwnTables
    {
        std::vector<Vec3> centres;
        std::vector<CellId> neighbours;
        std::vector<ChunkId> chunkOf;
        std::vector<std::uint32_t> chunkOffsets;
        std::vector<CellId> chunkCells;
        std::vector<std::uint32_t> chunkNeighbourOffsets;
        std::vector<ChunkId> chunkNeighbours;
        std::vector<CellId> lattice;
    } m_own;
    std::vector<Face> m_faces; // the 20 icosahedron faces, for cellAt
};

} // namespace hex::geometry
