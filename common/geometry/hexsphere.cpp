#include "hexsphere.h"

#include <QCoreApplication>
#include <QtGlobal>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <numbers>

// How the sphere is laid out
//
// The icosahedron's 20 faces pair up into ten rhombi ("diamonds") with corners T, L, B, R:
// north diamond d (0..4) is N, U_d, L_d, U_{d+1}; south diamond d (5..9) is U_{d+1}, L_d,
// S, L_{d+1}. Each diamond carries an (n+1)×(n+1) lattice (i along T→L, j along T→R).
// A diamond owns the points with 0 <= i < n and 1 <= j <= n, which covers every cell but
// the two poles exactly once; the other lattice points (its T–L and L–B edges) are owned by
// a neighbouring diamond and are resolved through m_tables.lattice.
//
// Ids: 0 = N, 1 = S, 2+d = north diamond d's R corner, 7+d = south diamond d's R corner;
// the remaining cells follow chunk by chunk, row-major inside each chunk.
//
// Neighbours come from the triangulated lattice: each counter-clockwise triangle (a, b, c)
// tells a that b is followed by c in its fan, and chaining a cell's fan edges yields its
// neighbours in counter-clockwise order.

namespace hex::geometry {

namespace {

/// This file's texts, in one translation context (a free tr() would take lupdate's
/// guess at the enclosing class).
struct Text
{
    Q_DECLARE_TR_FUNCTIONS(hex::geometry::HexSphere)
};

/// Double precision vector for building; the stored tables are float.
struct DVec
{
    double x = 0.0;
    double y = 0.0;
    double z = 0.0;

    DVec operator+(const DVec &o) const { return {x + o.x, y + o.y, z + o.z}; }
    DVec operator-(const DVec &o) const { return {x - o.x, y - o.y, z - o.z}; }
    DVec operator*(double s) const { return {x * s, y * s, z * s}; }
};

double dot(const DVec &a, const DVec &b)
{
    return a.x * b.x + a.y * b.y + a.z * b.z;
}

DVec cross(const DVec &a, const DVec &b)
{
    return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}

DVec normalizedD(const DVec &v)
{
    return v * (1.0 / std::sqrt(dot(v, v)));
}

Vec3 toFloat(const DVec &v)
{
    return {float(v.x), float(v.y), float(v.z)};
}

constexpr int kDiamonds = 10;
constexpr CellId kNorthPole = 0;
constexpr CellId kSouthPole = 1;

struct Diamond
{
    DVec t;
    DVec l;
    DVec b;
    DVec r;
};

/// The ten diamonds' corners on the unit sphere.
std::array<Diamond, kDiamonds> makeDiamonds()
{
    const double z = 1.0 / std::sqrt(5.0);
    const double radius = 2.0 / std::sqrt(5.0);
    const double step = 2.0 * std::numbers::pi / 5.0;
    auto upper = [&](int d) {
        const double a = step * (d % 5);
        return DVec{radius * std::cos(a), radius * std::sin(a), z};
    };
    auto lower = [&](int d) {
        const double a = step * (d % 5) + step / 2.0;
        return DVec{radius * std::cos(a), radius * std::sin(a), -z};
    };
    const DVec north{0.0, 0.0, 1.0};
    const DVec south{0.0, 0.0, -1.0};
    std::array<Diamond, kDiamonds> diamonds;
    for (int d = 0; d < 5; ++d) {
        diamonds[d] = {north, upper(d), lower(d), upper(d + 1)};
        diamonds[5 + d] = {upper(d + 1), lower(d), south, lower(d + 1)};
    }
    return diamonds;
}

/// Unnormalised position of lattice point (i, j) of `dm`: planar on each of its two faces.
DVec latticePoint(const Diamond &dm, int n, int i, int j)
{
    const double inv = 1.0 / n;
    if (i + j <= n)
        return dm.t + (dm.l - dm.t) * (i * inv) + (dm.r - dm.t) * (j * inv);
    return dm.b + (dm.l - dm.b) * ((n - j) * inv) + (dm.r - dm.b) * ((n - i) * inv);
}

/// First index of chunk row (or column) `a` of `k` over `n` lattice rows: ceil(a·n/k).
int chunkStart(int a, int n, int k)
{
    return (a * n + k - 1) / k;
}

/// Whether cell `a` (dot `da`) is a better match than `b` (dot `db`): larger dot product,
/// and on an exact tie the lower id, as a plain ascending scan would pick.
inline bool better(float da, CellId a, float db, CellId b)
{
    return da > db || (da == db && a < b);
}

} // namespace

HexSphere::HexSphere(int subdivisions, int chunkSplit)
    : m_n(subdivisions)
    , m_k(chunkSplit == 0 ? defaultChunkSplit(subdivisions) : chunkSplit)
{
    Q_ASSERT(m_n >= 1 && m_n <= 1024);
    Q_ASSERT(m_k >= 1 && m_k <= m_n);
    m_cellCount = std::uint32_t(cellCountFor(m_n));
    buildCells();
    useOwnTables();
    buildNeighbours();
    useOwnTables();
    buildChunks();
    useOwnTables();
    buildFaces();
    buildSearchBound();
}

std::shared_ptr<const HexSphere> HexSphere::shared(int subdivisions, int chunkSplit)
{
    const int k = chunkSplit == 0 ? defaultChunkSplit(subdivisions) : chunkSplit;
    static std::mutex mutex;
    static std::map<std::pair<int, int>, std::weak_ptr<const HexSphere>> spheres;
    const std::scoped_lock lock(mutex);
    std::weak_ptr<const HexSphere> &slot = spheres[{subdivisions, k}];
    if (auto sphere = slot.lock())
        return sphere;
    // Forget the spheres nobody holds any more.
    std::erase_if(spheres, [&slot](const auto &entry) {
        return entry.second.expired() && &entry.second != &slot;
    });
    auto sphere = std::make_shared<const HexSphere>(subdivisions, k);
    slot = sphere;
    return sphere;
}

tl::expected<std::shared_ptr<const HexSphere>, QString>
HexSphere::view(int subdivisions, int chunkSplit, const HexSphereTables &tables)
{
    if (subdivisions < 1 || subdivisions > 1024)
        return tl::unexpected(
            Text::tr("a sphere has 1 to 1024 subdivisions, not %1").arg(subdivisions));
    const int k = chunkSplit == 0 ? defaultChunkSplit(subdivisions) : chunkSplit;
    if (k < 1 || k > subdivisions)
        return tl::unexpected(Text::tr("a chunk split of %1 does not fit %2 subdivisions")
                                  .arg(chunkSplit)
                                  .arg(subdivisions));
    const std::uint64_t cells = cellCountFor(subdivisions);
    const std::uint64_t chunks = std::uint64_t(kDiamonds) * std::uint64_t(k) * std::uint64_t(k);
    const std::uint64_t latticePoints = std::uint64_t(kDiamonds) * std::uint64_t(subdivisions + 1)
                                        * std::uint64_t(subdivisions + 1);
    // Each table's size, in HexSphereTables::forEach() order; the chunk neighbours' is
    // the last of their offsets, once those are known to be there.
    const std::uint64_t expected[HexSphereTables::kCount]
        = {cells, cells * 6, cells, chunks + 1, cells, chunks + 1, 0, latticePoints};
    QString error;
    std::size_t i = 0;
    tables.forEach([&](const char *name, const auto &span) {
        const std::uint64_t want = &span == static_cast<const void *>(&tables.chunkNeighbours)
                                       ? tables.chunkNeighbourOffsets.back()
                                       : expected[i];
        if (error.isEmpty() && span.size() != want) {
            error = Text::tr("the sphere's %1 table holds %2 entries, not %3")
                        .arg(QLatin1String(name))
                        .arg(span.size())
                        .arg(want);
        }
        ++i;
    });
    if (!error.isEmpty())
        return tl::unexpected(error);

    std::shared_ptr<HexSphere> sphere(new HexSphere);
    sphere->m_n = subdivisions;
    sphere->m_k = k;
    sphere->m_cellCount = std::uint32_t(cells);
    sphere->m_tables = tables;
    sphere->buildFaces();
    return sphere;
}

HexSphereTables HexSphere::tables() const
{
    return m_tables;
}

void HexSphere::useOwnTables()
{
    const double skipRingCos = m_tables.skipRingCos;
    m_tables = HexSphereTables{m_own.centres,         m_own.neighbours, m_own.chunkOf,
                               m_own.chunkOffsets,    m_own.chunkCells, m_own.chunkNeighbourOffsets,
                               m_own.chunkNeighbours, m_own.lattice,    skipRingCos};
}

int HexSphere::defaultChunkSplit(int subdivisions)
{
    return (subdivisions + 15) / 16;
}

std::uint64_t HexSphere::cellCountFor(int subdivisions)
{
    return 10ull * std::uint64_t(subdivisions) * std::uint64_t(subdivisions) + 2ull;
}

void HexSphere::buildCells()
{
    const int n = m_n;
    const int k = m_k;
    const auto diamonds = makeDiamonds();

    m_own.centres.resize(m_cellCount);
    m_own.chunkOf.resize(m_cellCount);
    m_own.lattice.assign(std::size_t(kDiamonds) * (n + 1) * (n + 1), kNoCell);

    // Owned points, chunk by chunk, row-major inside each chunk.
    CellId next = 12;
    for (int d = 0; d < kDiamonds; ++d) {
        const Diamond &dm = diamonds[d];
        const CellId cornerId = d < 5 ? CellId(2 + d) : CellId(7 + d - 5);
        for (int a = 0; a < k; ++a) {
            for (int b = 0; b < k; ++b) {
                const ChunkId chunk = ChunkId((d * k + a) * k + b);
                for (int i = chunkStart(a, n, k); i < chunkStart(a + 1, n, k); ++i) {
                    for (int jp = chunkStart(b, n, k); jp < chunkStart(b + 1, n, k); ++jp) {
                        const int j = jp + 1;
                        const bool corner = i == 0 && j == n;
                        const CellId id = corner ? cornerId : next++;
                        m_own.lattice[latticeIndex(d, i, j)] = id;
                        m_own.centres[id]
                            = toFloat(corner ? dm.r : normalizedD(latticePoint(dm, n, i, j)));
                        m_own.chunkOf[id] = chunk;
                    }
                }
            }
        }
    }
    Q_ASSERT(next == m_cellCount);

    m_own.centres[kNorthPole] = {0.0f, 0.0f, 1.0f};
    m_own.centres[kSouthPole] = {0.0f, 0.0f, -1.0f};
    m_own.chunkOf[kNorthPole] = 0;
    m_own.chunkOf[kSouthPole] = ChunkId((5 * k + k - 1) * k + k - 1);

    // Points a diamond does not own: its T and L corners, its T–L edge (j = 0) and its
    // L–B edge (i = n), including B. Map each to the owner's lattice point.
    auto north = [](int x) {
        return x;
    };
    auto south = [](int x) {
        return 5 + x;
    };
    for (int d = 0; d < kDiamonds; ++d) {
        const bool isNorth = d < 5;
        const int e = d % 5;
        const int prev = (e + 4) % 5;
        auto at = [&](int diamond, int i, int j) {
            return m_own.lattice[latticeIndex(diamond, i, j)];
        };
        auto set = [&](int i, int j, CellId id) {
            m_own.lattice[latticeIndex(d, i, j)] = id;
        };

        set(0, 0, isNorth ? kNorthPole : at(north(e), 0, n));
        set(n, 0, isNorth ? at(north(prev), 0, n) : at(south(prev), 0, n));
        set(n, n, isNorth ? at(south(prev), 0, n) : kSouthPole);
        for (int i = 1; i < n; ++i)
            set(i, 0, isNorth ? at(north(prev), 0, i) : at(north(e), i, n));
        for (int j = 1; j < n; ++j)
            set(n, j, isNorth ? at(south(prev), 0, j) : at(south(prev), j, n));
    }

#ifndef QT_NO_DEBUG
    // Every lattice point must resolve to a cell at the same place.
    for (int d = 0; d < kDiamonds; ++d) {
        for (int i = 0; i <= n; ++i) {
            for (int j = 0; j <= n; ++j) {
                const CellId id = m_own.lattice[latticeIndex(d, i, j)];
                Q_ASSERT(id < m_cellCount);
                const DVec p = normalizedD(latticePoint(diamonds[d], n, i, j));
                const Vec3 c = m_own.centres[id];
                const double err = std::abs(p.x - c.x) + std::abs(p.y - c.y) + std::abs(p.z - c.z);
                Q_ASSERT(err < 1e-5);
            }
        }
    }
#endif
}

void HexSphere::buildNeighbours()
{
    const int n = m_n;
    const auto diamonds = makeDiamonds();

    // Fan edges: slot s of cell x says "neighbour from[s] is followed by to[s]".
    m_own.neighbours.assign(std::size_t(m_cellCount) * 6, kNoCell);
    std::vector<CellId> to(std::size_t(m_cellCount) * 6, kNoCell);
    std::vector<std::uint8_t> fanCount(m_cellCount, 0);
    CellId *from = m_own.neighbours.data();
    auto addFan = [&](CellId a, CellId b, CellId c) {
        const std::uint8_t slot = fanCount[a]++;
        Q_ASSERT(slot < 6);
        from[std::size_t(a) * 6 + slot] = b;
        to[std::size_t(a) * 6 + slot] = c;
    };
    auto addTriangle = [&](CellId a, CellId b, CellId c, bool flip) {
        if (flip)
            std::swap(b, c);
        addFan(a, b, c);
        addFan(b, c, a);
        addFan(c, a, b);
    };
    auto clockwise = [](const DVec &a, const DVec &b, const DVec &c) {
        return dot(cross(b - a, c - a), a + b + c) < 0.0;
    };

    for (int d = 0; d < kDiamonds; ++d) {
        const Diamond &dm = diamonds[d];
        // The lattice map is affine on each half, so one test per half fixes the orientation
        // of all its small triangles.
        const bool flipUpper = clockwise(dm.t, dm.l, dm.r);
        const bool flipLower = clockwise(dm.l, dm.b, dm.r);
        for (int i = 0; i < n; ++i) {
            const CellId *row = m_own.lattice.data() + latticeIndex(d, i, 0);
            const CellId *below = row + (n + 1);
            for (int j = 0; j < n; ++j) {
                addTriangle(row[j], below[j], row[j + 1], flipUpper);
                addTriangle(below[j], below[j + 1], row[j + 1], flipLower);
            }
        }
    }

    // Chain each fan into a counter-clockwise ring, starting from slot 0.
    for (CellId cell = 0; cell < m_cellCount; ++cell) {
        const int count = fanCount[cell];
        Q_ASSERT(count == (isPentagon(cell) ? 5 : 6));
        CellId *fanSlots = from + std::size_t(cell) * 6;
        std::array<CellId, 6> f;
        std::array<CellId, 6> t;
        std::copy_n(fanSlots, count, f.begin());
        std::copy_n(to.data() + std::size_t(cell) * 6, count, t.begin());
        CellId current = t[0];
        for (int s = 1; s < count; ++s) {
            fanSlots[s] = current;
            int found = 0;
            while (found < count && f[found] != current)
                ++found;
            Q_ASSERT(found < count);
            current = t[found];
        }
        Q_ASSERT(current == f[0]);
    }
}

void HexSphere::buildChunks()
{
    const std::uint32_t chunks = std::uint32_t(kDiamonds * m_k * m_k);

    // Cells per chunk: a counting sort over ascending ids keeps each list ascending.
    m_own.chunkOffsets.assign(chunks + 1, 0);
    for (CellId cell = 0; cell < m_cellCount; ++cell)
        ++m_own.chunkOffsets[m_own.chunkOf[cell] + 1];
    for (std::uint32_t c = 0; c < chunks; ++c)
        m_own.chunkOffsets[c + 1] += m_own.chunkOffsets[c];
    m_own.chunkCells.resize(m_cellCount);
    {
        std::vector<std::uint32_t> fill(m_own.chunkOffsets.begin(), m_own.chunkOffsets.end() - 1);
        for (CellId cell = 0; cell < m_cellCount; ++cell)
            m_own.chunkCells[fill[m_own.chunkOf[cell]]++] = cell;
    }
    useOwnTables(); // chunkCells() reads them below

    // Chunk neighbours, from the cell adjacency.
    m_own.chunkNeighbourOffsets.assign(chunks + 1, 0);
    m_own.chunkNeighbours.clear();
    std::vector<ChunkId> found;
    for (ChunkId chunk = 0; chunk < chunks; ++chunk) {
        found.clear();
        for (const CellId cell : chunkCells(chunk)) {
            for (const CellId nb : neighbours(cell)) {
                const ChunkId other = m_own.chunkOf[nb];
                if (other != chunk && (found.empty() || found.back() != other))
                    found.push_back(other);
            }
        }
        std::sort(found.begin(), found.end());
        found.erase(std::unique(found.begin(), found.end()), found.end());
        m_own.chunkNeighbours.insert(m_own.chunkNeighbours.end(), found.begin(), found.end());
        m_own.chunkNeighbourOffsets[chunk + 1] = std::uint32_t(m_own.chunkNeighbours.size());
    }
    m_own.chunkNeighbours.shrink_to_fit();
}

void HexSphere::buildFaces()
{
    const double n = m_n;
    const auto diamonds = makeDiamonds();
    m_faces.clear();
    m_faces.reserve(std::size_t(2) * kDiamonds);

    // origin + s·e1 + t·e2 spans the face; the lattice coordinates are affine in (s, t).
    auto addFace = [&](std::uint32_t diamond, const DVec &origin, const DVec &corner1,
                       const DVec &corner2, bool lowerHalf) {
        const DVec e1 = corner1 - origin;
        const DVec e2 = corner2 - origin;
        DVec normal = normalizedD(cross(e1, e2));
        if (dot(normal, origin) < 0.0)
            normal = normal * -1.0;
        // Dual basis in the plane: dot(f1, e1) = 1, dot(f1, e2) = 0, and the reverse.
        const DVec c1 = cross(e2, normal);
        const DVec c2 = cross(normal, e1);
        const DVec f1 = c1 * (1.0 / dot(c1, e1));
        const DVec f2 = c2 * (1.0 / dot(c2, e2));
        Face face;
        face.normal = toFloat(normal);
        face.distance = float(dot(normal, origin));
        face.diamond = diamond;
        if (!lowerHalf) {
            // p = T + u(L−T) + v(R−T): i = u·n, j = v·n.
            face.axisI = toFloat(f1 * n);
            face.offsetI = float(-n * dot(origin, f1));
            face.axisJ = toFloat(f2 * n);
            face.offsetJ = float(-n * dot(origin, f2));
        } else {
            // p = B + s(L−B) + t(R−B): j = n − s·n, i = n − t·n.
            face.axisJ = toFloat(f1 * -n);
            face.offsetJ = float(n + n * dot(origin, f1));
            face.axisI = toFloat(f2 * -n);
            face.offsetI = float(n + n * dot(origin, f2));
        }
        m_faces.push_back(face);
    };

    for (std::uint32_t d = 0; d < kDiamonds; ++d) {
        const Diamond &dm = diamonds[d];
        addFace(d, dm.t, dm.l, dm.r, false);
        addFace(d, dm.b, dm.l, dm.r, true);
    }
}

void HexSphere::buildSearchBound()
{
    // The smallest angle between two cells two steps apart. Those pairs are the
    // non-consecutive members of some cell's ring; cells three or more steps apart are
    // farther still on this near-regular mesh.
    double minChord2 = 4.0;
    for (CellId middle = 0; middle < m_cellCount; ++middle) {
        const auto ring = neighbours(middle);
        const int count = int(ring.size());
        for (int a = 0; a < count; ++a) {
            const Vec3 p = m_tables.centres[ring[a]];
            for (int b = a + 2; b < count - (a == 0 ? 1 : 0); ++b) {
                const Vec3 q = m_tables.centres[ring[b]];
                const double dx = double(p.x) - q.x;
                const double dy = double(p.y) - q.y;
                const double dz = double(p.z) - q.z;
                minChord2 = std::min(minChord2, dx * dx + dy * dy + dz * dz);
            }
        }
    }
    // Centres are unit length within one float rounding; 1e-6 rad covers the chord error.
    const double twoStep = 2.0 * std::asin(std::min(1.0, std::sqrt(minChord2) / 2.0)) - 1e-6;

    // If the direction lies within `reach` of best's centre, every cell two or more steps
    // away is at least twoStep − reach from it, so its cosine trails best's by at least
    // cos(reach) − cos(twoStep − reach). Keep that gap above the worst float error of the
    // two dot products being compared (2·γ₃ ≈ 3.6e-7) plus the centres' length error
    // (2·2⁻²⁴ ≈ 1.2e-7), with room to spare.
    const double budget = 8e-7;
    const double half = twoStep / 2.0;
    const double sinHalf = std::sin(half);
    if (half <= 0.0 || budget >= 2.0 * sinHalf)
        return;
    const double reach = half - std::asin(budget / (2.0 * sinHalf));
    if (reach > 0.0)
        m_tables.skipRingCos = std::cos(reach);
}

CellCorners HexSphere::corners(CellId cell) const
{
    CellCorners result;
    const auto nbs = neighbours(cell);
    result.count = int(nbs.size());
    for (int k = 0; k < result.count; ++k) {
        std::array<CellId, 3> ids{cell, nbs[k], nbs[(k + 1) % result.count]};
        std::sort(ids.begin(), ids.end());
        result.points[k] = normalized(m_tables.centres[ids[0]] + m_tables.centres[ids[1]]
                                      + m_tables.centres[ids[2]]);
    }
    return result;
}

std::span<const CellId> HexSphere::chunkCells(ChunkId chunk) const
{
    const std::uint32_t begin = m_tables.chunkOffsets[chunk];
    return {m_tables.chunkCells.data() + begin, m_tables.chunkOffsets[chunk + 1] - begin};
}

std::span<const ChunkId> HexSphere::chunkNeighbours(ChunkId chunk) const
{
    const std::uint32_t begin = m_tables.chunkNeighbourOffsets[chunk];
    return {m_tables.chunkNeighbours.data() + begin,
            m_tables.chunkNeighbourOffsets[chunk + 1] - begin};
}

CellId HexSphere::cellAt(const Vec3 &direction) const
{
    Q_ASSERT(dot(direction, direction) > 0.0f);

    // The face the ray passes through.
    const Face *face = &m_faces[0];
    float faceDot = dot(direction, face->normal);
    for (std::size_t f = 1; f < m_faces.size(); ++f) {
        const float d = dot(direction, m_faces[f].normal);
        if (d > faceDot) {
            faceDot = d;
            face = &m_faces[f];
        }
    }

    // Its lattice coordinates where the ray meets the face's plane. The lattice is
    // triangular (60° between the i and j axes), so the nearest lattice point is the corner
    // with the largest barycentric weight in the small triangle holding the point.
    const float scale = face->distance / faceDot;
    const float n = float(m_n);
    const float fi = std::clamp(scale * dot(direction, face->axisI) + face->offsetI, 0.0f, n);
    const float fj = std::clamp(scale * dot(direction, face->axisJ) + face->offsetJ, 0.0f, n);
    int i = std::min(int(fi), m_n - 1);
    int j = std::min(int(fj), m_n - 1);
    const float u = fi - float(i);
    const float v = fj - float(j);
    if (u + v < 1.0f) {
        const float w = 1.0f - u - v;
        if (u > w && u >= v)
            ++i;
        else if (v > w && v > u)
            ++j;
    } else {
        const float wi = 1.0f - v; // weight of (i+1, j)
        const float wj = 1.0f - u; // weight of (i, j+1)
        const float w = u + v - 1.0f;
        if (w > wi && w > wj) {
            ++i;
            ++j;
        } else if (wi >= wj) {
            ++i;
        } else {
            ++j;
        }
    }
    CellId best = m_tables.lattice[latticeIndex(int(face->diamond), i, j)];
    float bestDot = dot(m_tables.centres[best], direction);

    // Greedy walk to the best neighbour, then make sure no cell of the 2-ring beats the
    // result, in case the triangulation is not exactly Delaunay somewhere or rounding makes
    // a false local maximum. The 2-ring check is skipped where it provably cannot change
    // the answer (see buildSearchBound).
    const double dx = direction.x;
    const double dy = direction.y;
    const double dz = direction.z;
    const double direction2 = dx * dx + dy * dy + dz * dz;
    for (;;) {
        for (;;) {
            const CellId *nbs = m_tables.neighbours.data() + std::size_t(best) * 6;
            const int count = isPentagon(best) ? 5 : 6;
            CellId step = best;
            float stepDot = bestDot;
            for (int s = 0; s < count; ++s) {
                const float d = dot(m_tables.centres[nbs[s]], direction);
                if (better(d, nbs[s], stepDot, step)) {
                    stepDot = d;
                    step = nbs[s];
                }
            }
            if (step == best)
                break;
            best = step;
            bestDot = stepDot;
        }

        const Vec3 c = m_tables.centres[best];
        const double cosine = c.x * dx + c.y * dy + c.z * dz;
        const double centre2 = double(c.x) * c.x + double(c.y) * c.y + double(c.z) * c.z;
        if (cosine > 0.0
            && cosine * cosine
                   >= m_tables.skipRingCos * m_tables.skipRingCos * centre2 * direction2)
            return best;

        const CellId centre = best;
        const CellId *ring = m_tables.neighbours.data() + std::size_t(centre) * 6;
        const int ringCount = isPentagon(centre) ? 5 : 6;
        for (int s = 0; s < ringCount; ++s) {
            const CellId *outer = m_tables.neighbours.data() + std::size_t(ring[s]) * 6;
            const int outerCount = isPentagon(ring[s]) ? 5 : 6;
            for (int t = 0; t < outerCount; ++t) {
                const float d = dot(m_tables.centres[outer[t]], direction);
                if (better(d, outer[t], bestDot, best)) {
                    bestDot = d;
                    best = outer[t];
                }
            }
        }
        if (best == centre)
            return best;
    }
}

std::size_t HexSphere::memoryBytes() const
{
    auto bytes = [](const auto &v) {
        return v.capacity() * sizeof(v[0]);
    };
    return bytes(m_own.centres) + bytes(m_own.neighbours) + bytes(m_own.chunkOf)
           + bytes(m_own.chunkOffsets) + bytes(m_own.chunkCells)
           + bytes(m_own.chunkNeighbourOffsets) + bytes(m_own.chunkNeighbours)
           + bytes(m_own.lattice) + bytes(m_faces);
}

} // namespace hex::geometry
