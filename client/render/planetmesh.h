#pragma once

#include "geometry/hexsphere.h"
#include "sim/terrain.h"

#include <QByteArray>

#include <cstddef>
#include <cstdint>
#include <span>
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

/// The planet as one triangle mesh, built on the CPU for PlanetView to upload.
///
/// Every cell owns kVerticesPerCell consecutive vertices: its centre, then its corners
/// (a pentagon repeats its last corner in the unused sixth slot), and is drawn as a
/// fan of triangles around the centre. Because the slots are fixed, cell c's vertices
/// start at c·kVerticesPerCell and its colours can be rewritten in place.
///
/// Vertex data is float throughout: positions and normals interleaved (6 floats per
/// vertex), colours in a separate array (3 floats per vertex, linear 0..1), indices
/// uint32. Corners are drawn darker than the centre so that the cell outlines read.
class PlanetMesh
{
public:
    static constexpr int kVerticesPerCell = 7;
    /// Bytes per vertex in vertexData(): position xyz then normal xyz.
    static constexpr int kVertexStride = 6 * sizeof(float);
    /// Bytes per vertex in a colour array: rgb.
    static constexpr int kColourStride = 3 * sizeof(float);
    static constexpr int kColourBytesPerCell = kVerticesPerCell * kColourStride;
    /// Floats per cell in a colour array.
    static constexpr std::ptrdiff_t kColourFloatsPerCell = std::ptrdiff_t(3) * kVerticesPerCell;
    /// Corner colour = centre colour × this.
    static constexpr float kCornerShade = 0.72f;

    /// Builds positions, normals and indices for every cell of `sphere`, in one pass
    /// with no allocation per cell. The planet has radius `radius`.
    explicit PlanetMesh(const geometry::HexSphere &sphere, float radius = 1.0f);

    std::uint32_t cellCount() const { return m_cellCount; }
    std::uint32_t vertexCount() const { return m_cellCount * kVerticesPerCell; }
    std::uint32_t indexCount() const
    {
        return std::uint32_t(m_indices.size() / sizeof(std::uint32_t));
    }
    /// Interleaved positions and normals, kVertexStride bytes per vertex.
    const QByteArray &vertexData() const { return m_vertices; }
    /// Triangle indices, uint32.
    const QByteArray &indexData() const { return m_indices; }

    /// The colour array for every cell of `cells`, each as cellColour() says:
    /// kColourBytesPerCell bytes per cell.
    static QByteArray colours(const protocol::VisibleCells &cells);
    /// Writes the kVerticesPerCell colours of one cell whose look is `rgb` to `out`
    /// (kColourFloatsPerCell floats): `rgb` at the centre, shaded by kCornerShade at
    /// the corners.
    static void writeCellColours(float *out, sim::Rgb rgb);
    /// Byte offset of `cell`'s first colour in a colour array.
    static qsizetype colourOffset(geometry::CellId cell)
    {
        return qsizetype(cell) * kColourBytesPerCell;
    }

    /// Sorts `cells`, drops duplicates and merges neighbouring ids into ranges,
    /// ascending.
    static std::vector<CellRange> coalesce(std::span<const geometry::CellId> cells);

private:
    std::uint32_t m_cellCount = 0;
    QByteArray m_vertices;
    QByteArray m_indices;
};

} // namespace hex::client
