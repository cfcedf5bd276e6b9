#include "geometry/hexsphere.h"

#include <QTest>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <numbers>
#include <random>
#include <set>
#include <thread>
#include <type_traits>
#include <vector>

using namespace hex::geometry;

namespace {

/// The exact bits of a point, so that "the same corner" means bit-identical.
using PointBits = std::array<std::uint32_t, 3>;

PointBits bitsOf(const Vec3 &v)
{
    return {std::bit_cast<std::uint32_t>(v.x), std::bit_cast<std::uint32_t>(v.y),
            std::bit_cast<std::uint32_t>(v.z)};
}

/// Positive when a → b → c turns counter-clockwise seen from outside, around `around`.
float turn(const Vec3 &around, const Vec3 &a, const Vec3 &b)
{
    return dot(cross(a - around, b - around), around);
}

/// `v` projected onto the plane tangent to the sphere at unit vector `at`.
Vec3 tangent(const Vec3 &at, const Vec3 &v)
{
    return v - at * dot(v, at);
}

/// Uniform directions on the sphere from a fixed seed.
std::vector<Vec3> randomDirections(std::size_t count, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> zDist(-1.0, 1.0);
    std::uniform_real_distribution<double> phiDist(0.0, 2.0 * std::numbers::pi);
    std::vector<Vec3> result;
    result.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const double z = zDist(rng);
        const double phi = phiDist(rng);
        const double r = std::sqrt(std::max(0.0, 1.0 - z * z));
        result.push_back({float(r * std::cos(phi)), float(r * std::sin(phi)), float(z)});
    }
    return result;
}

/// The reference answer: a plain scan, first (lowest id) maximum of dot(centre, direction).
class BruteForce
{
public:
    explicit BruteForce(const HexSphere &sphere)
    {
        for (CellId c = 0; c < sphere.cellCount(); ++c)
            m_centres.push_back(sphere.centre(c));
    }

    CellId nearest(const Vec3 &direction) const
    {
        CellId best = 0;
        float bestDot = dot(m_centres[0], direction);
        for (CellId c = 1; c < m_centres.size(); ++c) {
            const float d = dot(m_centres[c], direction);
            if (d > bestDot) {
                bestDot = d;
                best = c;
            }
        }
        return best;
    }

private:
    std::vector<Vec3> m_centres;
};

void addSizeRows(bool withLargest)
{
    QTest::addColumn<int>("subdivisions");
    QTest::newRow("n=1, the dodecahedron") << 1;
    QTest::newRow("n=2, the smallest with hexagons") << 2;
    QTest::newRow("n=3, odd, hexagons in face centres") << 3;
    QTest::newRow("n=5, several rings between pentagons") << 5;
    QTest::newRow("n=16, one chunk per rhombus") << 16;
    QTest::newRow("n=64, four by four chunks per rhombus") << 64;
    if (withLargest)
        QTest::newRow("n=128, eight by eight chunks per rhombus") << 128;
}

} // namespace

class tst_HexSphere : public QObject
{
    Q_OBJECT

private slots:
    void countsAndPentagons_data();
    void countsAndPentagons();
    void adjacencyIsSymmetric_data();
    void adjacencyIsSymmetric();
    void counterClockwiseOrder_data();
    void counterClockwiseOrder();
    void neighboursShareOneEdge_data();
    void neighboursShareOneEdge();
    void eulerCharacteristic_data();
    void eulerCharacteristic();
    void cellAtMatchesBruteForce_data();
    void cellAtMatchesBruteForce();
    void cellAtOfEachCentre_data();
    void cellAtOfEachCentre();
    void chunksPartitionCells_data();
    void chunksPartitionCells();
    void sizesFromSubdivisions_data();
    void sizesFromSubdivisions();
    void viewReadsCopiedTables_data();
    void viewReadsCopiedTables();
    void viewRefusesTablesOfAnotherSize_data();
    void viewRefusesTablesOfAnotherSize();
    void sharedIsOneCopyPerSize();
};

void tst_HexSphere::countsAndPentagons_data()
{
    addSizeRows(true);
}

void tst_HexSphere::countsAndPentagons()
{
    QFETCH(int, subdivisions);
    const HexSphere sphere(subdivisions);
    const std::uint32_t n = std::uint32_t(subdivisions);
    QCOMPARE(sphere.cellCount(), 10 * n * n + 2);
    QCOMPARE(sphere.subdivisions(), subdivisions);

    // How often each cell is named as someone's neighbour: its true degree, independent of
    // the span length neighbours() reports.
    std::vector<int> namedBy(sphere.cellCount(), 0);
    for (CellId c = 0; c < sphere.cellCount(); ++c) {
        const auto nbs = sphere.neighbours(c);
        QCOMPARE(nbs.size(), HexSphere::isPentagon(c) ? 5u : 6u);
        std::set<CellId> distinct;
        for (const CellId nb : nbs) {
            QVERIFY2(nb < sphere.cellCount(), qPrintable(QString("cell %1").arg(c)));
            QVERIFY2(nb != c, qPrintable(QString("cell %1 neighbours itself").arg(c)));
            distinct.insert(nb);
            ++namedBy[nb];
        }
        QVERIFY2(distinct.size() == nbs.size(),
                 qPrintable(QString("cell %1 has a repeated neighbour").arg(c)));
    }
    int pentagons = 0;
    for (CellId c = 0; c < sphere.cellCount(); ++c) {
        pentagons += namedBy[c] == 5;
        QVERIFY2(namedBy[c] == (c < 12 ? 5 : 6),
                 qPrintable(QString("cell %1 is a neighbour of %2 cells").arg(c).arg(namedBy[c])));
    }
    QCOMPARE(pentagons, 12);

    // The pentagons sit at the icosahedron's vertices: 63.4° apart from their nearest.
    const double vertexAngle = std::acos(1.0 / std::sqrt(5.0));
    for (CellId a = 0; a < 12; ++a) {
        double nearest = 10.0;
        for (CellId b = 0; b < 12; ++b) {
            if (a != b)
                nearest
                    = std::min(nearest, std::acos(double(dot(sphere.centre(a), sphere.centre(b)))));
        }
        QVERIFY2(std::abs(nearest - vertexAngle) < 1e-5, qPrintable(QString("pentagon %1").arg(a)));
    }
}

void tst_HexSphere::adjacencyIsSymmetric_data()
{
    addSizeRows(true);
}

void tst_HexSphere::adjacencyIsSymmetric()
{
    QFETCH(int, subdivisions);
    const HexSphere sphere(subdivisions);
    for (CellId c = 0; c < sphere.cellCount(); ++c) {
        for (const CellId nb : sphere.neighbours(c)) {
            const auto back = sphere.neighbours(nb);
            QVERIFY2(std::find(back.begin(), back.end(), c) != back.end(),
                     qPrintable(QString("%1 lists %2 but not the reverse").arg(c).arg(nb)));
        }
    }
}

void tst_HexSphere::counterClockwiseOrder_data()
{
    addSizeRows(true);
}

void tst_HexSphere::counterClockwiseOrder()
{
    QFETCH(int, subdivisions);
    const HexSphere sphere(subdivisions);
    for (CellId c = 0; c < sphere.cellCount(); ++c) {
        const Vec3 centre = sphere.centre(c);
        QVERIFY2(std::abs(length(centre) - 1.0f) < 1e-6f, qPrintable(QString("cell %1").arg(c)));

        // Consecutive neighbours turn left, and the angles between them, seen in the plane
        // tangent at the centre, add up to one full turn (so the ring goes round once).
        const auto nbs = sphere.neighbours(c);
        const int count = int(nbs.size());
        double totalAngle = 0.0;
        for (int k = 0; k < count; ++k) {
            const Vec3 a = tangent(centre, sphere.centre(nbs[k]));
            const Vec3 b = tangent(centre, sphere.centre(nbs[(k + 1) % count]));
            QVERIFY2(turn(centre, sphere.centre(nbs[k]), sphere.centre(nbs[(k + 1) % count])) > 0,
                     qPrintable(QString("cell %1, neighbours %2 and %3").arg(c).arg(k).arg(k + 1)));
            totalAngle += std::atan2(double(dot(cross(a, b), centre)), double(dot(a, b)));
        }
        QVERIFY2(std::abs(totalAngle - 2.0 * std::numbers::pi) < 1e-3,
                 qPrintable(QString("cell %1 turns %2 rad").arg(c).arg(totalAngle)));

        // Corners: unit length, counter-clockwise, and corner k inside the triangle of the
        // cell and its neighbours k and k+1.
        const CellCorners corners = sphere.corners(c);
        QCOMPARE(corners.count, count);
        for (int k = 0; k < count; ++k) {
            const Vec3 p = corners.points[k];
            QVERIFY(std::abs(length(p) - 1.0f) < 1e-6f);
            QVERIFY2(turn(centre, p, corners.points[(k + 1) % count]) > 0,
                     qPrintable(QString("cell %1, corners %2 and %3").arg(c).arg(k).arg(k + 1)));
            const Vec3 a = sphere.centre(nbs[k]);
            const Vec3 b = sphere.centre(nbs[(k + 1) % count]);
            QVERIFY2(dot(cross(centre, a), p) > 0 && dot(cross(a, b), p) > 0
                         && dot(cross(b, centre), p) > 0,
                     qPrintable(QString("cell %1, corner %2 is misplaced").arg(c).arg(k)));
        }
    }
}

void tst_HexSphere::neighboursShareOneEdge_data()
{
    addSizeRows(true);
}

void tst_HexSphere::neighboursShareOneEdge()
{
    QFETCH(int, subdivisions);
    const HexSphere sphere(subdivisions);
    for (CellId c = 0; c < sphere.cellCount(); ++c) {
        const CellCorners mine = sphere.corners(c);
        for (const CellId nb : sphere.neighbours(c)) {
            const CellCorners theirs = sphere.corners(nb);
            int shared = 0;
            for (int a = 0; a < mine.count; ++a) {
                for (int b = 0; b < theirs.count; ++b)
                    shared += bitsOf(mine.points[a]) == bitsOf(theirs.points[b]);
            }
            QVERIFY2(
                shared == 2,
                qPrintable(QString("cells %1 and %2 share %3 corners").arg(c).arg(nb).arg(shared)));
        }
    }
}

void tst_HexSphere::eulerCharacteristic_data()
{
    addSizeRows(true);
}

void tst_HexSphere::eulerCharacteristic()
{
    QFETCH(int, subdivisions);
    const HexSphere sphere(subdivisions);

    std::vector<PointBits> points;
    for (CellId c = 0; c < sphere.cellCount(); ++c) {
        const CellCorners corners = sphere.corners(c);
        for (int k = 0; k < corners.count; ++k)
            points.push_back(bitsOf(corners.points[k]));
    }
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());
    auto indexOf = [&](const Vec3 &p) {
        return std::uint64_t(std::lower_bound(points.begin(), points.end(), bitsOf(p))
                             - points.begin());
    };

    std::vector<std::uint64_t> edges;
    for (CellId c = 0; c < sphere.cellCount(); ++c) {
        const CellCorners corners = sphere.corners(c);
        for (int k = 0; k < corners.count; ++k) {
            const std::uint64_t a = indexOf(corners.points[k]);
            const std::uint64_t b = indexOf(corners.points[(k + 1) % corners.count]);
            edges.push_back(std::min(a, b) << 32 | std::max(a, b));
        }
    }
    std::sort(edges.begin(), edges.end());
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());

    const qint64 vertices = qint64(points.size());
    const qint64 edgeCount = qint64(edges.size());
    const qint64 faces = sphere.cellCount();
    QCOMPARE(vertices - edgeCount + faces, qint64(2));
    // Each corner is shared by three cells: one per triangle of the subdivided icosahedron.
    QCOMPARE(vertices, qint64(20) * subdivisions * subdivisions);
}

void tst_HexSphere::cellAtMatchesBruteForce_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::newRow("n=1, the dodecahedron") << 1;
    QTest::newRow("n=2, the smallest with hexagons") << 2;
    QTest::newRow("n=7, odd and prime") << 7;
    QTest::newRow("n=16, one chunk per rhombus") << 16;
    QTest::newRow("n=40, fine cells") << 40;
}

void tst_HexSphere::cellAtMatchesBruteForce()
{
    QFETCH(int, subdivisions);
    const HexSphere sphere(subdivisions);
    const BruteForce reference(sphere);

    std::vector<Vec3> directions = randomDirections(100'000, 0x5eed + subdivisions);
    // Awkward directions on top: the icosahedron's vertices, face centres and edge
    // midpoints (where the face choice flips), and corners and edge midpoints of some cells
    // (exact or near ties between cells).
    const HexSphere icosahedron(1);
    for (CellId c = 0; c < icosahedron.cellCount(); ++c) {
        directions.push_back(icosahedron.centre(c));
        const CellCorners corners = icosahedron.corners(c);
        directions.insert(directions.end(), corners.points.begin(),
                          corners.points.begin() + corners.count);
        for (const CellId nb : icosahedron.neighbours(c))
            directions.push_back(normalized(icosahedron.centre(c) + icosahedron.centre(nb)));
    }
    std::mt19937_64 rng(42);
    for (int s = 0; s < 2000; ++s) {
        const CellId c = CellId(rng() % sphere.cellCount());
        const CellCorners corners = sphere.corners(c);
        directions.insert(directions.end(), corners.points.begin(),
                          corners.points.begin() + corners.count);
        for (const CellId nb : sphere.neighbours(c))
            directions.push_back(normalized(sphere.centre(c) + sphere.centre(nb)));
    }
    // Not normalised.
    directions.push_back({3.0f, -4.0f, 12.0f});
    directions.push_back({-0.001f, 0.0f, 0.0f});

    int mismatches = 0;
    QString first;
    for (const Vec3 &direction : directions) {
        const CellId expected = reference.nearest(direction);
        const CellId actual = sphere.cellAt(direction);
        if (actual != expected && mismatches++ == 0) {
            first = QString("(%1, %2, %3): cellAt %4, nearest %5")
                        .arg(direction.x)
                        .arg(direction.y)
                        .arg(direction.z)
                        .arg(actual)
                        .arg(expected);
        }
    }
    QVERIFY2(mismatches == 0, qPrintable(QString("%1 of %2 directions wrong, first %3")
                                             .arg(mismatches)
                                             .arg(directions.size())
                                             .arg(first)));
}

void tst_HexSphere::cellAtOfEachCentre_data()
{
    addSizeRows(true);
}

void tst_HexSphere::cellAtOfEachCentre()
{
    QFETCH(int, subdivisions);
    const HexSphere sphere(subdivisions);
    for (CellId c = 0; c < sphere.cellCount(); ++c)
        QVERIFY2(sphere.cellAt(sphere.centre(c)) == c, qPrintable(QString("cell %1").arg(c)));
}

void tst_HexSphere::chunksPartitionCells_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::addColumn<int>("chunkSplit");
    QTest::addColumn<int>("expectedSplit");
    QTest::newRow("n=1, one chunk per rhombus") << 1 << 0 << 1;
    QTest::newRow("n=3 split 3×3, one cell per chunk") << 3 << 3 << 3;
    QTest::newRow("n=16, default split is one chunk") << 16 << 0 << 1;
    QTest::newRow("n=16 split 4×4 by override") << 16 << 4 << 4;
    QTest::newRow("n=17, default split rounds up to 2") << 17 << 0 << 2;
    QTest::newRow("n=64, default split is 4") << 64 << 0 << 4;
    QTest::newRow("n=64 split 3×3, uneven chunks") << 64 << 3 << 3;
    QTest::newRow("n=128, default split is 8") << 128 << 0 << 8;
}

void tst_HexSphere::chunksPartitionCells()
{
    QFETCH(int, subdivisions);
    QFETCH(int, chunkSplit);
    QFETCH(int, expectedSplit);
    const HexSphere sphere(subdivisions, chunkSplit);
    QCOMPARE(sphere.chunkSplit(), expectedSplit);
    QCOMPARE(sphere.chunkCount(), std::uint32_t(10 * expectedSplit * expectedSplit));

    // Each cell in exactly one list, the one chunkOf names; lists ascending; non-pentagon
    // ids consecutive across the chunks in chunk order.
    std::vector<int> seen(sphere.cellCount(), 0);
    std::size_t total = 0;
    CellId nextHexagon = 12;
    for (ChunkId chunk = 0; chunk < sphere.chunkCount(); ++chunk) {
        const auto cells = sphere.chunkCells(chunk);
        QVERIFY2(!cells.empty(), qPrintable(QString("chunk %1 is empty").arg(chunk)));
        total += cells.size();
        for (std::size_t i = 0; i < cells.size(); ++i) {
            const CellId cell = cells[i];
            QVERIFY(cell < sphere.cellCount());
            ++seen[cell];
            QCOMPARE(sphere.chunkOf(cell), chunk);
            if (i > 0)
                QVERIFY2(cells[i - 1] < cell, qPrintable(QString("chunk %1 order").arg(chunk)));
            if (!HexSphere::isPentagon(cell)) {
                QCOMPARE(cell, nextHexagon);
                ++nextHexagon;
            }
        }
    }
    QCOMPARE(total, std::size_t(sphere.cellCount()));
    QVERIFY(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));

    // Each chunk is one connected patch (so the poles and the rhombus corners went to the
    // chunk they touch).
    std::vector<char> reached(sphere.cellCount(), 0);
    for (ChunkId chunk = 0; chunk < sphere.chunkCount(); ++chunk) {
        const auto cells = sphere.chunkCells(chunk);
        std::vector<CellId> stack{cells[0]};
        reached[cells[0]] = 1;
        std::size_t count = 0;
        while (!stack.empty()) {
            const CellId cell = stack.back();
            stack.pop_back();
            ++count;
            for (const CellId nb : sphere.neighbours(cell)) {
                if (!reached[nb] && sphere.chunkOf(nb) == chunk) {
                    reached[nb] = 1;
                    stack.push_back(nb);
                }
            }
        }
        QVERIFY2(count == cells.size(), qPrintable(QString("chunk %1 is in pieces").arg(chunk)));
    }

    // Chunk neighbours: exactly the chunks reached by one cell step, ascending, symmetric.
    std::vector<std::set<ChunkId>> expected(sphere.chunkCount());
    for (CellId c = 0; c < sphere.cellCount(); ++c) {
        for (const CellId nb : sphere.neighbours(c)) {
            if (sphere.chunkOf(nb) != sphere.chunkOf(c))
                expected[sphere.chunkOf(c)].insert(sphere.chunkOf(nb));
        }
    }
    for (ChunkId chunk = 0; chunk < sphere.chunkCount(); ++chunk) {
        const auto nbs = sphere.chunkNeighbours(chunk);
        QVERIFY2(!nbs.empty(), qPrintable(QString("chunk %1 has no neighbours").arg(chunk)));
        const std::vector<ChunkId> actual(nbs.begin(), nbs.end());
        const std::vector<ChunkId> wanted(expected[chunk].begin(), expected[chunk].end());
        QVERIFY2(actual == wanted, qPrintable(QString("chunk %1's neighbours").arg(chunk)));
        for (const ChunkId other : nbs) {
            const auto back = sphere.chunkNeighbours(other);
            QVERIFY2(std::binary_search(back.begin(), back.end(), chunk),
                     qPrintable(QString("chunks %1 and %2").arg(chunk).arg(other)));
        }
    }
}

void tst_HexSphere::sizesFromSubdivisions_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::addColumn<quint64>("cells");
    QTest::addColumn<int>("split");
    QTest::newRow("n=1: 12 cells, one chunk per rhombus") << 1 << quint64(12) << 1;
    QTest::newRow("n=16: 2562 cells, one chunk per rhombus") << 16 << quint64(2562) << 1;
    QTest::newRow("n=17: 2892 cells, split 2") << 17 << quint64(2892) << 2;
    QTest::newRow("n=512: 2621442 cells, split 32") << 512 << quint64(2621442) << 32;
    QTest::newRow("n=1024: 10485762 cells, split 64") << 1024 << quint64(10485762) << 64;
}

void tst_HexSphere::sizesFromSubdivisions()
{
    QFETCH(int, subdivisions);
    QFETCH(quint64, cells);
    QFETCH(int, split);
    QCOMPARE(quint64(HexSphere::cellCountFor(subdivisions)), cells);
    QCOMPARE(HexSphere::defaultChunkSplit(subdivisions), split);
}

/// A sphere's tables copied, one after another, into one block: as the server lays them
/// out in the segment its compute workers map.
struct CopiedTables
{
    explicit CopiedTables(const HexSphereTables &from)
        : tables(from)
    {
        std::size_t total = 0;
        from.forEach([&total](const char *, const auto &span) { total += span.size_bytes(); });
        bytes.resize(total);
        std::size_t used = 0;
        tables.forEach([&](const char *, auto &span) {
            using T = typename std::remove_reference_t<decltype(span)>::element_type; // 4-byte aligned
            std::memcpy(bytes.data() + used, span.data(), span.size_bytes());
            span = std::span<T>(reinterpret_cast<T *>(bytes.data() + used), span.size());
            used += span.size_bytes();
        });
    }

    HexSphereTables tables;
    std::vector<std::byte> bytes;
};

void tst_HexSphere::viewReadsCopiedTables_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::addColumn<int>("chunkSplit");
    QTest::newRow("n=1") << 1 << 0;
    QTest::newRow("n=16 split 4×4") << 16 << 4;
    QTest::newRow("n=64, default split") << 64 << 0;
    QTest::newRow("n=64 split 3×3, uneven chunks") << 64 << 3;
}

void tst_HexSphere::viewReadsCopiedTables()
{
    QFETCH(int, subdivisions);
    QFETCH(int, chunkSplit);
    const HexSphere built(subdivisions, chunkSplit);
    // The copy is all the view has: the built sphere's tables are not read through it.
    const CopiedTables copy(built.tables());
    QVERIFY(copy.tables.centres.data() != built.tables().centres.data());
    const auto view = HexSphere::view(subdivisions, chunkSplit, copy.tables);
    QVERIFY2(view, view ? "" : qPrintable(view.error()));
    const HexSphere &sphere = **view;
    QCOMPARE(sphere.tables().centres.data(), copy.tables.centres.data());
    QCOMPARE(sphere.subdivisions(), built.subdivisions());
    QCOMPARE(sphere.chunkSplit(), built.chunkSplit());
    QCOMPARE(sphere.cellCount(), built.cellCount());
    QCOMPARE(sphere.chunkCount(), built.chunkCount());
    // It owns only its 20 faces.
    QVERIFY(sphere.memoryBytes() < 4096);
    QVERIFY(built.memoryBytes() > sphere.memoryBytes());

    for (CellId c = 0; c < built.cellCount(); ++c) {
        QCOMPARE(bitsOf(sphere.centre(c)), bitsOf(built.centre(c)));
        const auto a = sphere.neighbours(c);
        const auto b = built.neighbours(c);
        QVERIFY(std::equal(a.begin(), a.end(), b.begin(), b.end()));
        QCOMPARE(sphere.chunkOf(c), built.chunkOf(c));
        const CellCorners ca = sphere.corners(c);
        const CellCorners cb = built.corners(c);
        QCOMPARE(ca.count, cb.count);
        for (int k = 0; k < ca.count; ++k)
            QCOMPARE(bitsOf(ca.points[std::size_t(k)]), bitsOf(cb.points[std::size_t(k)]));
    }
    for (ChunkId chunk = 0; chunk < built.chunkCount(); ++chunk) {
        const auto a = sphere.chunkCells(chunk);
        const auto b = built.chunkCells(chunk);
        QVERIFY(std::equal(a.begin(), a.end(), b.begin(), b.end()));
        const auto na = sphere.chunkNeighbours(chunk);
        const auto nb = built.chunkNeighbours(chunk);
        QVERIFY(std::equal(na.begin(), na.end(), nb.begin(), nb.end()));
    }
    for (const Vec3 &direction : randomDirections(20'000, 0x71e3 + subdivisions))
        QCOMPARE(sphere.cellAt(direction), built.cellAt(direction));
}

void tst_HexSphere::viewRefusesTablesOfAnotherSize_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::addColumn<int>("chunkSplit");
    QTest::addColumn<int>("shortTable"); // -1: none
    QTest::addColumn<QString>("expectedError");
    QTest::newRow("another n") << 17 << 0 << -1 << "centre table holds 2562 entries, not 2892";
    QTest::newRow("another split")
        << 16 << 2 << -1 << "chunk offset table holds 161 entries, not 41";
    QTest::newRow("n out of range") << 0 << 0 << -1 << "1 to 1024 subdivisions, not 0";
    QTest::newRow("split out of range") << 16 << 17 << -1 << "chunk split of 17 does not fit 16";
    QTest::newRow("short neighbours") << 16 << 4 << 1 << "neighbour table holds";
    QTest::newRow("short cell chunks") << 16 << 4 << 2 << "cell chunk table holds";
    QTest::newRow("short chunk cells") << 16 << 4 << 4 << "chunk cell table holds";
    QTest::newRow("short chunk neighbours") << 16 << 4 << 6 << "chunk neighbour table holds";
    QTest::newRow("short lattice") << 16 << 4 << 7 << "lattice table holds";
}

void tst_HexSphere::viewRefusesTablesOfAnotherSize()
{
    QFETCH(int, subdivisions);
    QFETCH(int, chunkSplit);
    QFETCH(int, shortTable);
    QFETCH(QString, expectedError);
    const HexSphere built(16, 4);
    HexSphereTables tables = built.tables();
    auto shorten = [](auto &span) {
        span = span.first(span.size() - 1);
    };
    switch (shortTable) {
    case 1:
        shorten(tables.neighbours);
        break;
    case 2:
        shorten(tables.chunkOf);
        break;
    case 4:
        shorten(tables.chunkCells);
        break;
    case 6:
        shorten(tables.chunkNeighbours);
        break;
    case 7:
        shorten(tables.lattice);
        break;
    default:
        break;
    }
    const auto view = HexSphere::view(subdivisions, chunkSplit, tables);
    QVERIFY(!view);
    QVERIFY2(view.error().contains(expectedError), qPrintable(view.error()));
}

void tst_HexSphere::sharedIsOneCopyPerSize()
{
    // Two threads asking at once get the one sphere.
    std::shared_ptr<const HexSphere> fromThread;
    std::thread other([&fromThread] { fromThread = HexSphere::shared(96); });
    const auto sphere = HexSphere::shared(96);
    other.join();
    QVERIFY(sphere);
    QCOMPARE(fromThread.get(), sphere.get());
    QCOMPARE(sphere->subdivisions(), 96);
    QCOMPARE(sphere->chunkSplit(), HexSphere::defaultChunkSplit(96));
    // 0 is the default split, spelled out or not; another split is another sphere.
    QCOMPARE(HexSphere::shared(96, HexSphere::defaultChunkSplit(96)).get(), sphere.get());
    auto split = HexSphere::shared(96, 3);
    QVERIFY(split.get() != sphere.get());
    QCOMPARE(split->chunkSplit(), 3);
    QVERIFY(HexSphere::shared(97).get() != sphere.get());

    // Kept only while held: once nobody holds it, it is gone.
    const std::weak_ptr<const HexSphere> watched = split;
    fromThread.reset();
    const std::weak_ptr<const HexSphere> watchedDefault = sphere;
    QVERIFY(!watched.expired());
    QCOMPARE(watched.lock()->chunkSplit(), 3);
    split.reset();
    QVERIFY(watched.expired());
    QVERIFY(!watchedDefault.expired());
    const auto again = HexSphere::shared(96, 3);
    QCOMPARE(again->chunkSplit(), 3);
    QCOMPARE(again->cellCount(), sphere->cellCount());
}

QTEST_APPLESS_MAIN(tst_HexSphere)

#include "tst_hexsphere.moc"
