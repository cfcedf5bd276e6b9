#include "planetmesh.h"

#include "celllook.h"

#include "protocol/worldcodec.h"

#include <algorithm>
#include <numeric>
#include <cmath>
#include <array>
#include <bit>
#include <cstring>
#include <functional>
#include <limits>

namespace hex::client {

using geometry::CellId;
using geometry::Vec3;

namespace {

constexpr std::uint32_t kUnassigned = std::numeric_limits<std::uint32_t>::max();
constexpr float kCornerMark = -1.0f;

} // namespace

PlanetMesh::PlanetMesh(const geometry::HexSphere &sphere, float radius)
    : m_cellCount(sphere.cellCount())
{
    // Corner k of a cell lies between its neighbours k and k+1; the lowest id of the
    // three cells that meet there owns its vertex. Every cell gets its centre and the
    // corners it owns, consecutively: Euler gives two corners a cell on average.
    std::vector<std::uint32_t> cornerVertex(std::size_t(m_cellCount) * 6, kUnassigned);
    std::uint32_t vertices = 0;
    for (CellId cell = 0; cell < m_cellCount; ++cell) {
        ++vertices; // the centre
        const auto nbs = sphere.neighbours(cell);
        const std::size_t count = nbs.size();
        for (std::size_t k = 0; k < count; ++k) {
            if (cell < nbs[k] && cell < nbs[(k + 1) % count])
                cornerVertex[std::size_t(cell) * 6 + k] = vertices++;
        }
    }
    // Hexagons make 6 triangles, the 12 pentagons 5.
    const std::uint64_t triangles = std::uint64_t(m_cellCount) * 6 - 12;
    m_vertices.resize(qsizetype(vertices) * kVertexStride);
    m_indices.resize(qsizetype(triangles) * 3 * qsizetype(sizeof(std::uint32_t)));

    // Triangles go in chunk order, so that each chunk's are one run of indices
    // (chunkIndexOffsets()); within a chunk, in cell order.
    const std::uint32_t chunks = sphere.chunkCount();
    m_chunkIndexOffsets.assign(std::size_t(chunks) + 1, 0);
    for (CellId cell = 0; cell < m_cellCount; ++cell)
        m_chunkIndexOffsets[sphere.chunkOf(cell) + 1] += 3 * std::uint32_t(sphere.neighbours(cell).size());
    std::partial_sum(m_chunkIndexOffsets.begin(), m_chunkIndexOffsets.end(),
                     m_chunkIndexOffsets.begin());
    Q_ASSERT(m_chunkIndexOffsets.back() == triangles * 3);
    std::vector<std::uint32_t> chunkCursor(m_chunkIndexOffsets.begin(), m_chunkIndexOffsets.end() - 1);

    auto *vertex = reinterpret_cast<float *>(m_vertices.data());
    auto *indexBase = reinterpret_cast<std::uint32_t *>(m_indices.data());
    auto put = [&vertex, radius](const Vec3 &unit, float mark) {
        vertex[0] = unit.x * radius;
        vertex[1] = unit.y * radius;
        vertex[2] = unit.z * radius;
        vertex[3] = mark;
        vertex += 4;
    };

    std::uint32_t next = 0;
    std::array<std::uint32_t, 6> corner{};
    for (CellId cell = 0; cell < m_cellCount; ++cell) {
        const geometry::CellCorners corners = sphere.corners(cell);
        const auto nbs = sphere.neighbours(cell);
        const auto count = std::size_t(corners.count);
        Q_ASSERT(count == nbs.size());
        const std::uint32_t centre = next++;
        put(sphere.centre(cell), float(cell));
        for (std::size_t k = 0; k < count; ++k) {
            const std::uint32_t own = cornerVertex[std::size_t(cell) * 6 + k];
            if (own != kUnassigned) {
                Q_ASSERT(own == next);
                put(corners.points[k], kCornerMark);
                corner[k] = next++;
                continue;
            }
            // Another cell of the three owns it: find the same corner in its polygon,
            // the one between this cell and the third.
            const CellId a = nbs[k];
            const CellId b = nbs[(k + 1) % count];
            const CellId owner = std::min(a, b);
            const CellId third = owner == a ? b : a;
            const auto ownerNbs = sphere.neighbours(owner);
            const std::size_t ownerCount = ownerNbs.size();
            std::uint32_t found = kUnassigned;
            for (std::size_t j = 0; j < ownerCount; ++j) {
                const CellId p = ownerNbs[j];
                const CellId q = ownerNbs[(j + 1) % ownerCount];
                if ((p == cell && q == third) || (p == third && q == cell)) {
                    found = cornerVertex[std::size_t(owner) * 6 + j];
                    break;
                }
            }
            Q_ASSERT(found != kUnassigned);
            corner[k] = found;
        }
        // Counter-clockwise seen from outside, as (centre, k, k+1) is; the centre last
        // so that it is the provoking vertex of a flat varying.
        std::uint32_t &cursor = chunkCursor[sphere.chunkOf(cell)];
        std::uint32_t *index = indexBase + cursor;
        for (std::size_t k = 0; k < count; ++k) {
            index[0] = corner[k];
            index[1] = corner[(k + 1) % count];
            index[2] = centre;
            index += 3;
        }
        cursor += std::uint32_t(3 * count);
    }
    Q_ASSERT(next == vertices);
    for (std::uint32_t chunk = 0; chunk < chunks; ++chunk)
        Q_ASSERT(chunkCursor[chunk] == m_chunkIndexOffsets[chunk + 1]);
}

QSize PlanetMesh::lookTextureSize(std::uint32_t cellCount)
{
    const auto rows = (std::uint64_t(cellCount) + kLookTextureWidth - 1) / kLookTextureWidth;
    return QSize(kLookTextureWidth, int(std::max<std::uint64_t>(rows, 1)));
}

QByteArray PlanetMesh::looks(const protocol::VisibleCells &cells)
{
    const std::uint32_t count = cells.cellCount();
    const QSize size = lookTextureSize(count);
    QByteArray bytes(qsizetype(size.width()) * size.height() * kLookBytesPerCell, '\0');
    auto *out = reinterpret_cast<std::uint8_t *>(bytes.data());
    // A block of ids at a time: all of them would be 10 MiB at n=512.
    std::array<CellId, 4096> ids;
    for (CellId first = 0; first < count; first += CellId(ids.size())) {
        const std::size_t n = std::min<std::size_t>(ids.size(), count - first);
        std::iota(ids.begin(), ids.begin() + std::ptrdiff_t(n), first);
        writeCellColours(cells, std::span<const CellId>(ids.data(), n), out, kLookBytesPerCell);
    }
    return bytes;
}

std::pair<int, int> PlanetMesh::octahedralTexel(const Vec3 &direction, int size)
{
    const float l1 = std::abs(direction.x) + std::abs(direction.y) + std::abs(direction.z);
    float u = direction.x / l1;
    float v = direction.y / l1;
    if (direction.z < 0.0f) {
        const float fu = (1.0f - std::abs(v)) * (u >= 0.0f ? 1.0f : -1.0f);
        const float fv = (1.0f - std::abs(u)) * (v >= 0.0f ? 1.0f : -1.0f);
        u = fu;
        v = fv;
    }
    auto texel = [size](float t) {
        return std::clamp(int((t * 0.5f + 0.5f) * float(size)), 0, size - 1);
    };
    return {texel(u), texel(v)};
}

QByteArray PlanetMesh::cellIdMap(const geometry::HexSphere &sphere, int size)
{
    QByteArray bytes(qsizetype(size) * size * 4, Qt::Uninitialized);
    auto *out = reinterpret_cast<std::uint8_t *>(bytes.data());

    // The planes through the sphere's centre and each edge of the last cell, scaled so
    // that the cell's centre is at 1: the weight of the centre is the least of them.
    CellId planesOf = std::numeric_limits<CellId>::max();
    std::array<Vec3, 6> planes{};
    int planeCount = 0;
    auto centreWeight = [&](CellId cell, const Vec3 &p) {
        if (cell != planesOf) {
            const geometry::CellCorners corners = sphere.corners(cell);
            const Vec3 c = sphere.centre(cell);
            planeCount = corners.count;
            for (int k = 0; k < corners.count; ++k) {
                const Vec3 &a = corners.points[std::size_t(k)];
                const Vec3 &b = corners.points[std::size_t((k + 1) % corners.count)];
                Vec3 n{a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
                const float atCentre = n.x * c.x + n.y * c.y + n.z * c.z;
                const float scale = atCentre != 0.0f ? 1.0f / atCentre : 0.0f;
                planes[std::size_t(k)] = Vec3{n.x * scale, n.y * scale, n.z * scale};
            }
            planesOf = cell;
        }
        float weight = 1.0f;
        for (int k = 0; k < planeCount; ++k) {
            const Vec3 &n = planes[std::size_t(k)];
            weight = std::min(weight, n.x * p.x + n.y * p.y + n.z * p.z);
        }
        return std::clamp(weight, 0.0f, 1.0f);
    };

    for (int j = 0; j < size; ++j) {
        const float v = 2.0f * (float(j) + 0.5f) / float(size) - 1.0f;
        for (int i = 0; i < size; ++i) {
            const float u = 2.0f * (float(i) + 0.5f) / float(size) - 1.0f;
            // Unfold: the centre diamond is the upper hemisphere (z >= 0), the corners
            // the lower one.
            Vec3 d{u, v, 1.0f - std::abs(u) - std::abs(v)};
            if (d.z < 0.0f) {
                const float x = (1.0f - std::abs(v)) * (u >= 0.0f ? 1.0f : -1.0f);
                const float y = (1.0f - std::abs(u)) * (v >= 0.0f ? 1.0f : -1.0f);
                d.x = x;
                d.y = y;
            }
            const float length = std::sqrt(d.x * d.x + d.y * d.y + d.z * d.z);
            d = Vec3{d.x / length, d.y / length, d.z / length};
            const CellId cell = sphere.cellAt(d);
            out[0] = std::uint8_t(cell & 0xFF);
            out[1] = std::uint8_t((cell >> 8) & 0xFF);
            out[2] = std::uint8_t((cell >> 16) & 0xFF);
            out[3] = std::uint8_t(std::lround(centreWeight(cell, d) * 255.0f));
            out += 4;
        }
    }
    return bytes;
}

std::vector<CellRange> PlanetMesh::coalesce(std::span<const CellId> cells)
{
    // A tick's changes come chunk by chunk, each ascending: often sorted already, and
    // then used as they are.
    std::vector<CellId> sorted;
    std::span<const CellId> ordered = cells;
    if (!std::is_sorted(cells.begin(), cells.end())) {
        // Many cells (a tick's changes, where the pentagons' low ids break the order):
        // a bitmap of the ids, read in order, costs less than sorting them.
        const CellId top = *std::max_element(cells.begin(), cells.end());
        if (cells.size() >= 2048 && std::size_t(top / 64) < cells.size() * 16) {
            std::vector<std::uint64_t> bits(std::size_t(top / 64) + 1, 0);
            for (const CellId cell : cells)
                bits[cell / 64] |= std::uint64_t(1) << (cell % 64);
            std::vector<CellRange> ranges;
            for (std::size_t word = 0; word < bits.size(); ++word) {
                for (std::uint64_t w = bits[word]; w != 0; w &= w - 1) {
                    const auto cell = CellId(word * 64 + std::size_t(std::countr_zero(w)));
                    if (!ranges.empty() && ranges.back().first + ranges.back().count == cell)
                        ++ranges.back().count;
                    else
                        ranges.push_back({cell, 1});
                }
            }
            return ranges;
        }
        sorted.assign(cells.begin(), cells.end());
        std::sort(sorted.begin(), sorted.end());
        ordered = sorted;
    }
    std::vector<CellRange> ranges;
    for (const CellId cell : ordered) {
        if (!ranges.empty()) {
            CellRange &last = ranges.back();
            if (cell - last.first < last.count)
                continue; // a duplicate
            if (cell - last.first == last.count) {
                ++last.count;
                continue;
            }
        }
        ranges.push_back({cell, 1});
    }
    return ranges;
}

std::vector<CellRange> PlanetMesh::join(std::vector<CellRange> ranges, std::uint32_t smallGap,
                                        std::size_t maxRanges)
{
    maxRanges = std::max<std::size_t>(maxRanges, 1);
    if (ranges.size() <= 1)
        return ranges;
    auto gapAfter = [&ranges](std::size_t i) {
        return ranges[i + 1].first - (ranges[i].first + ranges[i].count);
    };
    // The gaps that stay open: the largest maxRanges-1 of those over smallGap.
    std::vector<std::uint32_t> wide;
    for (std::size_t i = 0; i + 1 < ranges.size(); ++i) {
        if (gapAfter(i) > smallGap)
            wide.push_back(gapAfter(i));
    }
    std::uint32_t threshold = smallGap; // gaps above it stay open
    std::size_t openAtThreshold = 0;    // gaps equal to the threshold that may stay open
    if (wide.size() > maxRanges - 1) {
        const auto keep = std::ptrdiff_t(maxRanges - 1);
        std::nth_element(wide.begin(), wide.begin() + keep, wide.end(), std::greater<>());
        // wide[keep] is the largest gap that closes; ties with it close too, unless
        // they fit in what the strictly larger ones leave.
        threshold = wide[std::size_t(keep)];
        const auto larger = std::size_t(
            std::count_if(wide.begin(), wide.end(), [&](std::uint32_t g) { return g > threshold; }));
        openAtThreshold = std::size_t(keep) - larger;
    }
    std::vector<CellRange> joined;
    joined.push_back(ranges.front());
    for (std::size_t i = 0; i + 1 < ranges.size(); ++i) {
        const std::uint32_t gap = gapAfter(i);
        bool open = gap > threshold;
        if (!open && gap == threshold && gap > smallGap && openAtThreshold > 0) {
            open = true;
            --openAtThreshold;
        }
        const CellRange &next = ranges[i + 1];
        if (open)
            joined.push_back(next);
        else
            joined.back().count = next.first + next.count - joined.back().first;
    }
    return joined;
}

std::vector<IndexRange> PlanetMesh::drawRanges(const std::vector<bool> &chunks,
                                               std::span<const std::uint32_t> chunkIndexOffsets,
                                               std::uint32_t smallGap, std::size_t maxRanges)
{
    Q_ASSERT(chunkIndexOffsets.size() == chunks.size() + 1);
    // Runs of chunk ids, in join()'s terms (its ranges need not be cells).
    std::vector<CellRange> runs;
    for (std::uint32_t chunk = 0; chunk < chunks.size(); ++chunk) {
        if (!chunks[chunk])
            continue;
        if (!runs.empty() && runs.back().first + runs.back().count == chunk)
            ++runs.back().count;
        else
            runs.push_back({chunk, 1});
    }
    std::vector<IndexRange> ranges;
    for (const CellRange &run : join(std::move(runs), smallGap, maxRanges)) {
        const std::uint32_t first = chunkIndexOffsets[run.first];
        ranges.push_back({first, chunkIndexOffsets[run.first + run.count] - first});
    }
    return ranges;
}

std::vector<TexelRect> PlanetMesh::texelRects(CellRange range)
{
    std::vector<TexelRect> rects;
    if (range.count == 0)
        return rects;
    constexpr std::uint64_t width = kLookTextureWidth;
    std::uint64_t first = range.first;
    const std::uint64_t end = first + range.count;
    // The rest of the first row, when the range starts inside it.
    if (first % width != 0) {
        const std::uint64_t rowEnd = std::min(end, (first / width + 1) * width);
        rects.push_back({int(first % width), int(first / width), int(rowEnd - first), 1});
        first = rowEnd;
    }
    // Whole rows.
    const std::uint64_t rows = (end - first) / width;
    if (rows > 0) {
        rects.push_back({0, int(first / width), int(width), int(rows)});
        first += rows * width;
    }
    // The start of the last row.
    if (first < end)
        rects.push_back({0, int(first / width), int(end - first), 1});
    return rects;
}

} // namespace hex::client
