#include "planetmesh.h"

#include "celllook.h"

#include "protocol/worldcodec.h"

#include <algorithm>
#include <cstring>

namespace hex::client {

using geometry::CellId;
using geometry::Vec3;

PlanetMesh::PlanetMesh(const geometry::HexSphere &sphere, float radius)
    : m_cellCount(sphere.cellCount())
{
    // Hexagons make 6 triangles, the 12 pentagons 5.
    const std::uint64_t triangles = std::uint64_t(m_cellCount) * 6 - 12;
    m_vertices.resize(qsizetype(vertexCount()) * kVertexStride);
    m_indices.resize(qsizetype(triangles) * 3 * qsizetype(sizeof(std::uint32_t)));

    auto *vertex = reinterpret_cast<float *>(m_vertices.data());
    auto *index = reinterpret_cast<std::uint32_t *>(m_indices.data());
    auto put = [&vertex, radius](const Vec3 &unit) {
        vertex[0] = unit.x * radius;
        vertex[1] = unit.y * radius;
        vertex[2] = unit.z * radius;
        vertex[3] = unit.x;
        vertex[4] = unit.y;
        vertex[5] = unit.z;
        vertex += 6;
    };

    for (CellId cell = 0; cell < m_cellCount; ++cell) {
        const geometry::CellCorners corners = sphere.corners(cell);
        const std::uint32_t base = cell * kVerticesPerCell;
        put(sphere.centre(cell));
        for (int k = 0; k < corners.count; ++k)
            put(corners.points[std::size_t(k)]);
        for (int k = corners.count; k < kVerticesPerCell - 1; ++k)
            put(corners.points[std::size_t(corners.count - 1)]);
        // Corners run counter-clockwise seen from outside, so each fan triangle faces out.
        for (int k = 0; k < corners.count; ++k) {
            index[0] = base;
            index[1] = base + 1 + std::uint32_t(k);
            index[2] = base + 1 + std::uint32_t((k + 1) % corners.count);
            index += 3;
        }
    }
    Q_ASSERT(reinterpret_cast<char *>(index) == m_indices.data() + m_indices.size());
}

void PlanetMesh::writeCellColours(float *out, sim::Rgb rgb)
{
    const float r = float(rgb.r) / 255.0f;
    const float g = float(rgb.g) / 255.0f;
    const float b = float(rgb.b) / 255.0f;
    out[0] = r;
    out[1] = g;
    out[2] = b;
    for (int k = 1; k < kVerticesPerCell; ++k) {
        out[3 * k + 0] = r * kCornerShade;
        out[3 * k + 1] = g * kCornerShade;
        out[3 * k + 2] = b * kCornerShade;
    }
}

QByteArray PlanetMesh::colours(const protocol::VisibleCells &cells)
{
    const std::uint32_t count = cells.cellCount();
    QByteArray bytes(qsizetype(count) * kColourBytesPerCell, Qt::Uninitialized);
    auto *out = reinterpret_cast<float *>(bytes.data());
    for (CellId cell = 0; cell < count; ++cell) {
        writeCellColours(out, cellColour(cells, cell));
        out += kColourFloatsPerCell;
    }
    return bytes;
}

std::vector<CellRange> PlanetMesh::coalesce(std::span<const CellId> cells)
{
    std::vector<CellId> sorted(cells.begin(), cells.end());
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());

    std::vector<CellRange> ranges;
    for (const CellId cell : sorted) {
        if (!ranges.empty() && ranges.back().first + ranges.back().count == cell)
            ++ranges.back().count;
        else
            ranges.push_back({cell, 1});
    }
    return ranges;
}

} // namespace hex::client
