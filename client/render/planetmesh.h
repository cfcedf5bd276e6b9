#pragma once

#include "geometry/hexsphere.h"
#include "sim/terrain.h"

#include <QByteArray>
#include <QSize>

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace hex::protocol {
struct VisibleCells;
}

namespace hex::client {

/// A run of consecutive cell ids: first, first+1, ..., first+count-1.
struct CellRange
{
    geometry::CellId first = 0;
    std::uint32_t count = 0;

    bool operator==(const CellRange &) const = default;
};

/// A run of a mesh's indices: first, first+1, ..., first+count-1. One draw call.
struct IndexRange
{
    std::uint32_t first = 0;
    std::uint32_t count = 0;

    bool operator==(const IndexRange &) const = default;
};

/// A rectangle of the look texture, in texels: what one texture upload covers.
struct TexelRect
{
    int x = 0;
    int y = 0;
    int width = 0;
    int height = 0;

    bool operator==(const TexelRect &) const = default;
};

/// The planet as one triangle mesh, built once on the CPU for PlanetView to upload,
/// and the per-cell look texture that colours it.
///
/// The mesh never changes while a world is shown. Each cell is a fan of triangles
/// around its centre vertex; corners are shared by the three cells that meet there
/// (about three vertices per cell in all). A vertex is four floats: its position, then
/// the cell id for a centre (an exact float up to 2^24) or -1 for a corner. Every
/// triangle lists its two corners first and its centre last, so that the centre is the
/// provoking vertex: the shader reads the cell's look once, at the centre, and passes
/// it flat to the whole triangle, shading it from 1 at the centre to kCornerShade at
/// the corners so that the outlines read.
///
/// What a cell looks like is one RGBA8 texel of the look texture (alpha unused),
/// cell c at (c mod kLookTextureWidth, c div kLookTextureWidth): changed cells are
/// rewritten in place and uploaded as a few rectangles (PlanetView::updateCells()).
class PlanetMesh
{
public:
    /// Bytes per vertex in vertexData(): position xyz, then the cell id or -1.
    static constexpr int kVertexStride = 4 * sizeof(float);
    /// Bytes per cell in a look array: one RGBA8 texel.
    static constexpr int kLookBytesPerCell = 4;
    /// Texels per row of the look texture: 8 KiB rows, and under 8192 rows up to
    /// n = 1024.
    static constexpr int kLookTextureWidth = 2048;
    /// Corner colour = centre colour × this.
    static constexpr float kCornerShade = 0.72f;

    /// Builds positions and indices for every cell of `sphere`, in one pass with no
    /// allocation per cell. The planet has radius `radius`.
    explicit PlanetMesh(const geometry::HexSphere &sphere, float radius = 1.0f);

    std::uint32_t cellCount() const { return m_cellCount; }
    std::uint32_t vertexCount() const
    {
        return std::uint32_t(m_vertices.size() / kVertexStride);
    }
    std::uint32_t indexCount() const
    {
        return std::uint32_t(m_indices.size() / sizeof(std::uint32_t));
    }
    /// kVertexStride bytes per vertex, see the class comment.
    const QByteArray &vertexData() const { return m_vertices; }
    /// Triangle indices, uint32: corner, corner, centre; the triangles of each chunk
    /// (HexSphere::chunkCells()) together, chunk after chunk.
    const QByteArray &indexData() const { return m_indices; }
    /// Where each chunk's triangles start in indexData(), in indices: chunk c's are
    /// indices [offsets[c], offsets[c + 1]). HexSphere::chunkCount() + 1 entries, the
    /// last indexCount().
    const std::vector<std::uint32_t> &chunkIndexOffsets() const { return m_chunkIndexOffsets; }

    /// The size of the look texture for `cellCount` cells: kLookTextureWidth wide and
    /// as many rows as it takes (at least one).
    static QSize lookTextureSize(std::uint32_t cellCount);
    /// The look texture's texels for every cell of `cells`, each as cellColour() says,
    /// padded with black to the whole texture (lookTextureSize()).
    static QByteArray looks(const protocol::VisibleCells &cells);
    /// Writes the texel of a cell whose look is `rgb` to `out` (kLookBytesPerCell).
    static void writeCellLook(std::uint8_t *out, sim::Rgb rgb)
    {
        out[0] = rgb.r;
        out[1] = rgb.g;
        out[2] = rgb.b;
        out[3] = 255;
    }
    /// Byte offset of `cell`'s texel in a look array.
    static qsizetype lookOffset(geometry::CellId cell)
    {
        return qsizetype(cell) * kLookBytesPerCell;
    }

    /// The cell-id map the far planet is drawn with (see PlanetView): `size`² RGBA8
    /// texels (rows from v = -1 up) over the octahedral projection of directions in
    /// world (HexSphere) coordinates: octahedralTexel() says which texel sees a
    /// direction. A texel holds the id of the cell in its direction (HexSphere::cellAt()
    /// of the texel's centre) in r, g, b (low byte first), and in alpha how near the
    /// cell's centre it lies (255 at the centre, 0 on the cell's edge: the weight the
    /// mesh's fan gives the centre vertex there).
    static QByteArray cellIdMap(const geometry::HexSphere &sphere, int size);
    /// The texel (x, y) of a `size`² octahedral map that sees `direction` (need not be
    /// unit, must not be zero): fold the lower hemisphere onto the square's corners,
    /// then scale the square to the texels. planetfar.frag does the same.
    static std::pair<int, int> octahedralTexel(const geometry::Vec3 &direction, int size);

    /// Sorts `cells`, drops duplicates and merges neighbouring ids into ranges,
    /// ascending.
    static std::vector<CellRange> coalesce(std::span<const geometry::CellId> cells);
    /// Joins ascending, disjoint `ranges` across the gaps between them (the cells in a
    /// gap are uploaded again, unchanged): first every gap of at most `smallGap` cells,
    /// then the smallest gaps left until at most `maxRanges` (>= 1) remain. The result
    /// covers every cell of `ranges`, ascending.
    static std::vector<CellRange> join(std::vector<CellRange> ranges, std::uint32_t smallGap,
                                       std::size_t maxRanges);
    /// The runs of indices that draw the chunks marked in `chunks` (one flag a chunk
    /// id) of a mesh whose chunks start at `chunkIndexOffsets` (chunkIndexOffsets()):
    /// the runs of consecutive marked chunk ids, joined as join() joins cell ranges
    /// (every gap of at most `smallGap` chunks, then the smallest until at most
    /// `maxRanges` remain), each turned into its chunks' indices. Ascending; empty
    /// when no chunk is marked. The chunks in a joined gap are drawn too.
    static std::vector<IndexRange> drawRanges(const std::vector<bool> &chunks,
                                              std::span<const std::uint32_t> chunkIndexOffsets,
                                              std::uint32_t smallGap, std::size_t maxRanges);
    /// The texture rectangles that cover `range` of the look texture, in order: at most
    /// three (the rest of its first row, its whole middle rows, the start of its last).
    static std::vector<TexelRect> texelRects(CellRange range);

private:
    std::uint32_t m_cellCount = 0;
    QByteArray m_vertices;
    QByteArray m_indices;
    std::vector<std::uint32_t> m_chunkIndexOffsets;
};

} // namespace hex::client
