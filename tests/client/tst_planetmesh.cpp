#include "render/celllook.h"
#include "render/planetmesh.h"

#include "geometry/hexsphere.h"
#include "protocol/worldcodec.h"
#include "sim/terrain.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <vector>

using hex::client::CellRange;
using hex::client::IndexRange;
using hex::client::PlanetMesh;
using hex::client::TexelRect;
using hex::geometry::CellId;
using hex::geometry::HexSphere;

Q_DECLARE_METATYPE(std::vector<CellId>)
Q_DECLARE_METATYPE(std::vector<CellRange>)
Q_DECLARE_METATYPE(CellRange)
Q_DECLARE_METATYPE(std::vector<TexelRect>)
Q_DECLARE_METATYPE(std::vector<IndexRange>)

class tst_PlanetMesh : public QObject
{
    Q_OBJECT

private slots:
    void coalesce_data();
    void coalesce();
    void coalesceManyUnsorted();
    void meshShape_data();
    void meshShape();
    void looks_data();
    void looks();
    void lookTextureSize_data();
    void lookTextureSize();
    void join_data();
    void join();
    void drawRanges_data();
    void drawRanges();
    void texelRects_data();
    void texelRects();
    void octahedralTexel_data();
    void octahedralTexel();
    void cellIdMap();
};

void tst_PlanetMesh::coalesce_data()
{
    QTest::addColumn<std::vector<CellId>>("cells");
    QTest::addColumn<std::vector<CellRange>>("expected");

    QTest::newRow("nothing") << std::vector<CellId>{} << std::vector<CellRange>{};
    QTest::newRow("one cell") << std::vector<CellId>{7} << std::vector<CellRange>{{7, 1}};
    QTest::newRow("a run") << std::vector<CellId>{3, 4, 5, 6} << std::vector<CellRange>{{3, 4}};
    QTest::newRow("unsorted with duplicates")
        << std::vector<CellId>{9, 2, 3, 9, 1, 10, 2} << std::vector<CellRange>{{1, 3}, {9, 2}};
    QTest::newRow("gaps split runs")
        << std::vector<CellId>{0, 2, 4, 5} << std::vector<CellRange>{{0, 1}, {2, 1}, {4, 2}};
    QTest::newRow("the largest ids") << std::vector<CellId>{0xFFFFFFFEu, 0xFFFFFFFDu}
                                     << std::vector<CellRange>{{0xFFFFFFFDu, 2}};
}

void tst_PlanetMesh::coalesce()
{
    QFETCH(std::vector<CellId>, cells);
    QFETCH(std::vector<CellRange>, expected);
    QVERIFY(PlanetMesh::coalesce(cells) == expected);
}

void tst_PlanetMesh::coalesceManyUnsorted()
{
    // Enough cells for the bitmap path: a tick's worth, shuffled, with duplicates.
    std::vector<CellId> cells;
    std::uint32_t state = 12345;
    for (int i = 0; i < 6000; ++i) {
        state = state * 1664525u + 1013904223u;
        cells.push_back((state >> 8) % 50000);
    }
    cells.push_back(cells.front());
    cells.push_back(49999);
    cells.push_back(0);
    std::vector<CellId> unique = cells;
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
    std::vector<CellRange> expected;
    for (const CellId cell : unique) {
        if (!expected.empty() && expected.back().first + expected.back().count == cell)
            ++expected.back().count;
        else
            expected.push_back({cell, 1});
    }
    QVERIFY(PlanetMesh::coalesce(cells) == expected);
    QCOMPARE(expected.front().first, CellId(0));
}

void tst_PlanetMesh::meshShape_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::newRow("n=1, the dodecahedron") << 1;
    QTest::newRow("n=2") << 2;
    QTest::newRow("n=16, the test world") << 16;
    QTest::newRow("n=40, 3x3 chunks a rhombus") << 40;
}

void tst_PlanetMesh::meshShape()
{
    QFETCH(int, subdivisions);
    const HexSphere sphere(subdivisions);
    const PlanetMesh mesh(sphere, 2.0f);
    const std::uint32_t cells = sphere.cellCount();

    QCOMPARE(mesh.cellCount(), cells);
    // Every centre, and every corner once: the 2·cells − 4 faces of the triangulation
    // the cells are dual to.
    QCOMPARE(mesh.vertexCount(), 3 * cells - 4);
    QCOMPARE(mesh.vertexData().size(), qsizetype(mesh.vertexCount()) * PlanetMesh::kVertexStride);
    QCOMPARE(mesh.indexCount(), (cells * 6 - 12) * 3); // 6 triangles a hexagon, 5 a pentagon

    const auto *vertices = reinterpret_cast<const float *>(mesh.vertexData().constData());
    const auto *indices = reinterpret_cast<const std::uint32_t *>(mesh.indexData().constData());
    auto position = [&](std::size_t v) {
        return QVector3D(vertices[4 * v], vertices[4 * v + 1], vertices[4 * v + 2]);
    };
    auto mark = [&](std::size_t v) { return vertices[4 * v + 3]; };

    std::vector<int> centreOf(cells, 0);
    for (std::uint32_t v = 0; v < mesh.vertexCount(); ++v) {
        QVERIFY2(qAbs(position(v).length() - 2.0f) < 1e-4f, "every vertex on the sphere");
        if (mark(v) >= 0.0f) {
            const auto cell = CellId(mark(v));
            QCOMPARE(float(cell), mark(v));
            QVERIFY(cell < cells);
            ++centreOf[cell];
            const hex::geometry::Vec3 c = sphere.centre(cell);
            QVERIFY2((position(v) - 2.0f * QVector3D(c.x, c.y, c.z)).length() < 1e-4f,
                     "a centre vertex sits on its cell's centre");
        } else {
            QCOMPARE(mark(v), -1.0f);
        }
    }
    QVERIFY2(std::all_of(centreOf.begin(), centreOf.end(), [](int n) { return n == 1; }),
             "one centre vertex a cell");

    // Each chunk's triangles are one run of indices, chunk after chunk.
    const std::vector<std::uint32_t> &chunkStarts = mesh.chunkIndexOffsets();
    QCOMPARE(chunkStarts.size(), std::size_t(sphere.chunkCount()) + 1);
    QCOMPARE(chunkStarts.front(), 0u);
    QCOMPARE(chunkStarts.back(), mesh.indexCount());
    for (hex::geometry::ChunkId chunk = 0; chunk < sphere.chunkCount(); ++chunk) {
        std::uint32_t triangles = 0;
        for (const CellId cell : sphere.chunkCells(chunk))
            triangles += HexSphere::isPentagon(cell) ? 5 : 6;
        QCOMPARE(chunkStarts[chunk + 1] - chunkStarts[chunk], 3 * triangles);
    }

    std::vector<int> uses(mesh.vertexCount(), 0);
    std::vector<int> fans(cells, 0);
    hex::geometry::ChunkId chunk = 0;
    for (std::size_t t = 0; t < mesh.indexCount() / 3; ++t) {
        const std::uint32_t a = indices[3 * t];
        const std::uint32_t b = indices[3 * t + 1];
        const std::uint32_t c = indices[3 * t + 2];
        QVERIFY(a < mesh.vertexCount() && b < mesh.vertexCount() && c < mesh.vertexCount());
        QVERIFY2(mark(a) < 0.0f && mark(b) < 0.0f, "two corners first");
        QVERIFY2(mark(c) >= 0.0f, "the centre last: the provoking vertex");
        const auto cell = CellId(mark(c));
        while (3 * t >= chunkStarts[chunk + 1])
            ++chunk;
        QVERIFY2(sphere.chunkOf(cell) == chunk, "a chunk's run holds its cells' triangles");
        ++fans[cell];
        ++uses[a];
        ++uses[b];
        // Both corners are corners of the centre's cell.
        const hex::geometry::CellCorners corners = sphere.corners(cell);
        for (const std::uint32_t corner : {a, b}) {
            bool found = false;
            for (int k = 0; k < corners.count; ++k) {
                const hex::geometry::Vec3 &p = corners.points[std::size_t(k)];
                found = found || (position(corner) - 2.0f * QVector3D(p.x, p.y, p.z)).length() < 1e-4f;
            }
            QVERIFY2(found, "a triangle stays within its cell");
        }
        const QVector3D face
            = QVector3D::crossProduct(position(b) - position(a), position(c) - position(a));
        QVERIFY2(QVector3D::dotProduct(face, position(a)) > 0.0f, "triangles face outwards");
    }
    for (CellId cell = 0; cell < cells; ++cell)
        QCOMPARE(fans[cell], HexSphere::isPentagon(cell) ? 5 : 6);
    for (std::uint32_t v = 0; v < mesh.vertexCount(); ++v) {
        if (mark(v) < 0.0f)
            QVERIFY2(uses[v] == 6, "a corner is shared by the fans of its three cells");
    }
}

void tst_PlanetMesh::looks_data()
{
    QTest::addColumn<int>("terrain");
    QTest::addColumn<int>("elevation");
    QTest::addColumn<int>("flora");
    QTest::addColumn<int>("resource");
    QTest::addColumn<int>("structure");
    QTest::addColumn<int>("owner");
    QTest::newRow("deep water") << int(hex::sim::Terrain::DeepWater) << 10 << 0 << 0 << 0 << 0xFFFF;
    QTest::newRow("grassland") << int(hex::sim::Terrain::Grassland) << 140 << 0 << 0 << 0 << 0xFFFF;
    QTest::newRow("snow on a peak") << int(hex::sim::Terrain::Snow) << 255 << 0 << 0 << 0 << 0xFFFF;
    QTest::newRow("unknown terrain") << 200 << 0 << 0 << 0 << 0 << 0xFFFF;
    QTest::newRow("a forest in bloom")
        << int(hex::sim::Terrain::Forest) << 90 << 220 << 0 << 0 << 0xFFFF;
    QTest::newRow("an owned iron deposit")
        << int(hex::sim::Terrain::Rock) << 180 << 0 << 1 << 0 << 2;
    QTest::newRow("a player's furnace")
        << int(hex::sim::Terrain::Desert) << 120 << 0 << 0 << 3 << 0;
}

void tst_PlanetMesh::looks()
{
    QFETCH(int, terrain);
    QFETCH(int, elevation);
    QFETCH(int, flora);
    QFETCH(int, resource);
    QFETCH(int, structure);
    QFETCH(int, owner);
    // Cell 0 is bare deep water, cell 1 the row's.
    hex::protocol::VisibleCells cells;
    cells.terrain = {0, std::uint8_t(terrain)};
    cells.elevation = {0, std::uint8_t(elevation)};
    cells.flora = {0, std::uint8_t(flora)};
    cells.water = {0, 0};
    cells.pollution = {0, 0};
    cells.resource = {0, std::uint8_t(resource)};
    cells.structure = {0, std::uint16_t(structure)};
    cells.orientation = {0, 0};
    cells.owner = {0xFFFF, std::uint16_t(owner)};
    const QByteArray bytes = PlanetMesh::looks(cells);
    QCOMPARE(PlanetMesh::lookTextureSize(2), QSize(PlanetMesh::kLookTextureWidth, 1));
    QCOMPARE(bytes.size(), qsizetype(PlanetMesh::kLookTextureWidth) * PlanetMesh::kLookBytesPerCell);

    for (CellId cell = 0; cell < 2; ++cell) {
        const auto *rgba
            = reinterpret_cast<const std::uint8_t *>(bytes.constData() + PlanetMesh::lookOffset(cell));
        const hex::sim::Rgb expected = hex::client::cellColour(cells, cell);
        QCOMPARE(rgba[0], expected.r);
        QCOMPARE(rgba[1], expected.g);
        QCOMPARE(rgba[2], expected.b);
        QCOMPARE(rgba[3], std::uint8_t(255));
    }
    // The rest of the row is padding.
    QVERIFY(std::all_of(bytes.begin() + PlanetMesh::lookOffset(2), bytes.end(),
                        [](char byte) { return byte == 0; }));
}

void tst_PlanetMesh::lookTextureSize_data()
{
    QTest::addColumn<int>("cells");
    QTest::addColumn<int>("rows");
    QTest::newRow("no cell: still one row") << 0 << 1;
    QTest::newRow("n=4") << 162 << 1;
    QTest::newRow("exactly one row") << PlanetMesh::kLookTextureWidth << 1;
    QTest::newRow("one past a row") << PlanetMesh::kLookTextureWidth + 1 << 2;
    QTest::newRow("n=512") << 2621442 << 1281;
}

void tst_PlanetMesh::lookTextureSize()
{
    QFETCH(int, cells);
    QFETCH(int, rows);
    QCOMPARE(PlanetMesh::lookTextureSize(std::uint32_t(cells)),
             QSize(PlanetMesh::kLookTextureWidth, rows));
}

void tst_PlanetMesh::join_data()
{
    QTest::addColumn<std::vector<CellRange>>("ranges");
    QTest::addColumn<int>("smallGap");
    QTest::addColumn<int>("maxRanges");
    QTest::addColumn<std::vector<CellRange>>("expected");

    using Ranges = std::vector<CellRange>;
    QTest::newRow("nothing") << Ranges{} << 4 << 3 << Ranges{};
    QTest::newRow("one range stays") << Ranges{{5, 3}} << 4 << 1 << Ranges{{5, 3}};
    QTest::newRow("small gaps close") << Ranges{{0, 2}, {5, 1}, {20, 1}} << 3 << 8
                                      << Ranges{{0, 6}, {20, 1}};
    QTest::newRow("few enough wide gaps stay open")
        << Ranges{{0, 1}, {100, 1}, {300, 1}} << 3 << 3 << Ranges{{0, 1}, {100, 1}, {300, 1}};
    QTest::newRow("too many: the smallest gaps close first")
        << Ranges{{0, 1}, {100, 1}, {300, 1}, {310, 1}} << 3 << 2
        << Ranges{{0, 101}, {300, 11}};
    QTest::newRow("at most one: everything in one")
        << Ranges{{0, 1}, {100, 1}, {300, 1}} << 0 << 1 << Ranges{{0, 301}};
    QTest::newRow("equal gaps: as many open as allowed, the first ones")
        << Ranges{{0, 1}, {11, 1}, {22, 1}, {33, 1}} << 0 << 3
        << Ranges{{0, 1}, {11, 1}, {22, 12}};
}

void tst_PlanetMesh::drawRanges_data()
{
    // Eight chunks of 30, 30, 18, 30, 30, 30, 30 and 30 indices.
    QTest::addColumn<std::vector<int>>("marked");
    QTest::addColumn<int>("smallGap");
    QTest::addColumn<int>("maxRanges");
    QTest::addColumn<std::vector<IndexRange>>("expected");

    using Ranges = std::vector<IndexRange>;
    using Marked = std::vector<int>;
    QTest::newRow("none") << Marked{} << 0 << 4 << Ranges{};
    QTest::newRow("one chunk") << Marked{3} << 0 << 4 << Ranges{{78, 30}};
    QTest::newRow("neighbours make one run") << Marked{1, 2, 3} << 0 << 4 << Ranges{{30, 78}};
    QTest::newRow("apart, each its own run") << Marked{0, 3, 7} << 0 << 4
                                            << Ranges{{0, 30}, {78, 30}, {198, 30}};
    QTest::newRow("a small gap is drawn along") << Marked{0, 2, 7} << 1 << 4
                                               << Ranges{{0, 78}, {198, 30}};
    QTest::newRow("too many runs: the smallest gap closes")
        << Marked{0, 2, 7} << 0 << 2 << Ranges{{0, 78}, {198, 30}};
    QTest::newRow("one draw at most") << Marked{0, 7} << 0 << 1 << Ranges{{0, 228}};
    QTest::newRow("every chunk") << Marked{0, 1, 2, 3, 4, 5, 6, 7} << 0 << 1 << Ranges{{0, 228}};
}

void tst_PlanetMesh::drawRanges()
{
    QFETCH(std::vector<int>, marked);
    QFETCH(int, smallGap);
    QFETCH(int, maxRanges);
    QFETCH(std::vector<IndexRange>, expected);
    const std::vector<std::uint32_t> offsets = {0, 30, 60, 78, 108, 138, 168, 198, 228};
    std::vector<bool> chunks(8, false);
    for (const int chunk : marked)
        chunks[std::size_t(chunk)] = true;
    const std::vector<IndexRange> ranges
        = PlanetMesh::drawRanges(chunks, offsets, std::uint32_t(smallGap), std::size_t(maxRanges));
    QCOMPARE(ranges.size(), expected.size());
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        QCOMPARE(ranges[i].first, expected[i].first);
        QCOMPARE(ranges[i].count, expected[i].count);
    }
}

void tst_PlanetMesh::join()
{
    QFETCH(std::vector<CellRange>, ranges);
    QFETCH(int, smallGap);
    QFETCH(int, maxRanges);
    QFETCH(std::vector<CellRange>, expected);
    const std::vector<CellRange> joined
        = PlanetMesh::join(ranges, std::uint32_t(smallGap), std::size_t(maxRanges));
    QVERIFY(joined == expected);
}

void tst_PlanetMesh::texelRects_data()
{
    constexpr int w = PlanetMesh::kLookTextureWidth;
    QTest::addColumn<CellRange>("range");
    QTest::addColumn<std::vector<TexelRect>>("expected");
    using Rects = std::vector<TexelRect>;
    QTest::newRow("empty") << CellRange{5, 0} << Rects{};
    QTest::newRow("inside a row") << CellRange{5, 3} << Rects{{5, 0, 3, 1}};
    QTest::newRow("a whole row") << CellRange{w, w} << Rects{{0, 1, w, 1}};
    QTest::newRow("across a row's end") << CellRange{w - 2, 5} << Rects{{w - 2, 0, 2, 1}, {0, 1, 3, 1}};
    QTest::newRow("rest, whole rows, start")
        << CellRange{w - 1, 2 * w + 2} << Rects{{w - 1, 0, 1, 1}, {0, 1, w, 2}, {0, 3, 1, 1}};
    QTest::newRow("whole rows from a row's start") << CellRange{0, 3 * w} << Rects{{0, 0, w, 3}};
}

void tst_PlanetMesh::texelRects()
{
    QFETCH(CellRange, range);
    QFETCH(std::vector<TexelRect>, expected);
    QVERIFY(PlanetMesh::texelRects(range) == expected);
}

void tst_PlanetMesh::octahedralTexel_data()
{
    QTest::addColumn<float>("x");
    QTest::addColumn<float>("y");
    QTest::addColumn<float>("z");
    QTest::addColumn<int>("i");
    QTest::addColumn<int>("j");
    // A 16² map: the upper hemisphere is the centre diamond, the lower one the corners.
    QTest::newRow("north pole: the centre") << 0.0f << 0.0f << 1.0f << 8 << 8;
    QTest::newRow("+x on the equator: the right edge") << 1.0f << 0.0f << 0.0f << 15 << 8;
    QTest::newRow("-x on the equator: the left edge") << -1.0f << 0.0f << 0.0f << 0 << 8;
    QTest::newRow("+y on the equator: the top edge") << 0.0f << 1.0f << 0.0f << 8 << 15;
    QTest::newRow("south pole: a corner") << 0.0f << 0.0f << -1.0f << 15 << 15;
    QTest::newRow("below, towards -x -y: the opposite corner") << -0.1f << -0.1f << -1.0f << 0 << 0;
    QTest::newRow("not unit: the same texel") << 0.0f << 0.0f << 7.0f << 8 << 8;
    QTest::newRow("halfway up, towards +x") << 1.0f << 0.0f << 1.0f << 12 << 8;
}

void tst_PlanetMesh::octahedralTexel()
{
    QFETCH(float, x);
    QFETCH(float, y);
    QFETCH(float, z);
    QFETCH(int, i);
    QFETCH(int, j);
    const auto texel = PlanetMesh::octahedralTexel(hex::geometry::Vec3{x, y, z}, 16);
    QCOMPARE(texel.first, i);
    QCOMPARE(texel.second, j);
}

void tst_PlanetMesh::cellIdMap()
{
    constexpr int size = 128;
    const HexSphere sphere(4); // 162 cells, each some 100 texels
    const QByteArray map = PlanetMesh::cellIdMap(sphere, size);
    QCOMPARE(map.size(), qsizetype(size) * size * 4);
    const auto *bytes = reinterpret_cast<const std::uint8_t *>(map.constData());
    auto texelAt = [&](const hex::geometry::Vec3 &d) {
        const auto [i, j] = PlanetMesh::octahedralTexel(d, size);
        return bytes + (qsizetype(j) * size + i) * 4;
    };
    auto idOf = [](const std::uint8_t *texel) {
        return CellId(texel[0]) | CellId(texel[1]) << 8 | CellId(texel[2]) << 16;
    };
    for (CellId cell = 0; cell < sphere.cellCount(); ++cell) {
        const hex::geometry::Vec3 c = sphere.centre(cell);
        const std::uint8_t *texel = texelAt(c);
        QCOMPARE(idOf(texel), cell);
        QVERIFY2(texel[3] > 150, "the texel at a cell's centre is near the centre");
        // Just inside a corner: still this cell, and nearly on its edge.
        const hex::geometry::Vec3 p = sphere.corners(cell).points[0];
        const hex::geometry::Vec3 nearCorner{p.x * 0.96f + c.x * 0.04f, p.y * 0.96f + c.y * 0.04f,
                                             p.z * 0.96f + c.z * 0.04f};
        const std::uint8_t *cornerTexel = texelAt(nearCorner);
        if (idOf(cornerTexel) == cell)
            QVERIFY2(cornerTexel[3] < 60, "texels near a corner are near the edge");
    }
    // Every texel names a cell of the sphere, and each cell has texels.
    std::vector<int> texels(sphere.cellCount(), 0);
    for (qsizetype t = 0; t < qsizetype(size) * size; ++t) {
        const CellId id = idOf(bytes + t * 4);
        QVERIFY(id < sphere.cellCount());
        ++texels[id];
    }
    QVERIFY(std::all_of(texels.begin(), texels.end(), [](int n) { return n > 20; }));
}

QTEST_GUILESS_MAIN(tst_PlanetMesh)
#include "tst_planetmesh.moc"
