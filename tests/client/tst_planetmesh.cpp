#include "render/celllook.h"
#include "render/planetmesh.h"

#include "geometry/hexsphere.h"
#include "protocol/worldcodec.h"
#include "sim/terrain.h"

#include <QTest>

#include <vector>

using hex::client::CellRange;
using hex::client::PlanetMesh;
using hex::geometry::CellId;
using hex::geometry::HexSphere;

Q_DECLARE_METATYPE(std::vector<CellId>)
Q_DECLARE_METATYPE(std::vector<CellRange>)

class tst_PlanetMesh : public QObject
{
    Q_OBJECT

private slots:
    void coalesce_data();
    void coalesce();
    void meshShape_data();
    void meshShape();
    void colours_data();
    void colours();
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

void tst_PlanetMesh::meshShape_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::newRow("n=1, the dodecahedron") << 1;
    QTest::newRow("n=2") << 2;
    QTest::newRow("n=16, the test world") << 16;
}

void tst_PlanetMesh::meshShape()
{
    QFETCH(int, subdivisions);
    const HexSphere sphere(subdivisions);
    const PlanetMesh mesh(sphere, 2.0f);
    const std::uint32_t cells = sphere.cellCount();

    QCOMPARE(mesh.cellCount(), cells);
    QCOMPARE(mesh.vertexCount(), cells * PlanetMesh::kVerticesPerCell);
    QCOMPARE(mesh.vertexData().size(), qsizetype(mesh.vertexCount()) * PlanetMesh::kVertexStride);
    QCOMPARE(mesh.indexCount(), (cells * 6 - 12) * 3); // 6 triangles a hexagon, 5 a pentagon

    const auto *vertices = reinterpret_cast<const float *>(mesh.vertexData().constData());
    const auto *indices = reinterpret_cast<const std::uint32_t *>(mesh.indexData().constData());
    auto position = [&](std::size_t v) {
        return QVector3D(vertices[6 * v], vertices[6 * v + 1], vertices[6 * v + 2]);
    };
    auto normal = [&](std::size_t v) {
        return QVector3D(vertices[6 * v + 3], vertices[6 * v + 4], vertices[6 * v + 5]);
    };

    for (std::uint32_t v = 0; v < mesh.vertexCount(); ++v) {
        QVERIFY2(qAbs(position(v).length() - 2.0f) < 1e-4f, "every vertex on the sphere");
        QVERIFY2(qAbs(normal(v).length() - 1.0f) < 1e-4f, "unit normals");
    }
    for (std::size_t t = 0; t < mesh.indexCount() / 3; ++t) {
        const std::uint32_t a = indices[3 * t];
        const std::uint32_t b = indices[3 * t + 1];
        const std::uint32_t c = indices[3 * t + 2];
        QVERIFY(a < mesh.vertexCount() && b < mesh.vertexCount() && c < mesh.vertexCount());
        QVERIFY2(a / PlanetMesh::kVerticesPerCell == b / PlanetMesh::kVerticesPerCell
                     && a / PlanetMesh::kVerticesPerCell == c / PlanetMesh::kVerticesPerCell,
                 "a triangle stays within its cell's vertex slots");
        QVERIFY2(a % PlanetMesh::kVerticesPerCell == 0, "every triangle starts at the centre");
        const QVector3D face
            = QVector3D::crossProduct(position(b) - position(a), position(c) - position(a));
        QVERIFY2(QVector3D::dotProduct(face, position(a)) > 0.0f, "triangles face outwards");
    }
}

void tst_PlanetMesh::colours_data()
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

void tst_PlanetMesh::colours()
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
    const QByteArray bytes = PlanetMesh::colours(cells);
    QCOMPARE(bytes.size(), 2 * PlanetMesh::kColourBytesPerCell);

    for (CellId cell = 0; cell < 2; ++cell) {
        const auto *rgb
            = reinterpret_cast<const float *>(bytes.constData() + PlanetMesh::colourOffset(cell));
        const hex::sim::Rgb expected = hex::client::cellColour(cells, cell);
        QCOMPARE(rgb[0], expected.r / 255.0f);
        QCOMPARE(rgb[1], expected.g / 255.0f);
        QCOMPARE(rgb[2], expected.b / 255.0f);
        for (int k = 1; k < PlanetMesh::kVerticesPerCell; ++k) {
            for (int channel = 0; channel < 3; ++channel) {
                const float centre = rgb[channel];
                const float corner = rgb[3 * k + channel];
                QCOMPARE(corner, centre * PlanetMesh::kCornerShade);
                if (centre > 0.0f)
                    QVERIFY2(corner < centre, "corners are darker, so outlines read");
            }
        }
    }

    // writeCellColours() is what colours() does for one cell.
    QByteArray one(PlanetMesh::kColourBytesPerCell, Qt::Uninitialized);
    PlanetMesh::writeCellColours(reinterpret_cast<float *>(one.data()),
                                 hex::client::cellColour(cells, 1));
    QCOMPARE(one, bytes.mid(PlanetMesh::colourOffset(1), PlanetMesh::kColourBytesPerCell));
}

QTEST_GUILESS_MAIN(tst_PlanetMesh)
#include "tst_planetmesh.moc"
