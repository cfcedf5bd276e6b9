#include "render/planetmesh.h"
#include "render/planetview.h"

#include "geometry/hexsphere.h"
#include "sim/terrain.h"

#include <QTest>

#include <vector>

using hex::client::PlanetMesh;
using hex::client::PlanetView;
using hex::geometry::CellId;
using hex::geometry::HexSphere;

Q_DECLARE_METATYPE(std::vector<CellId>)

namespace {

constexpr auto kGrass = std::uint8_t(hex::sim::Terrain::Grassland);
constexpr auto kSnow = std::uint8_t(hex::sim::Terrain::Snow);

QByteArray cellColours(std::uint8_t terrain, std::uint8_t elevation)
{
    QByteArray bytes(PlanetMesh::kColourBytesPerCell, Qt::Uninitialized);
    PlanetMesh::writeCellColours(reinterpret_cast<float *>(bytes.data()), terrain, elevation);
    return bytes;
}

} // namespace

/// The planet view's buffers, without drawing anything: the view is never shown.
class tst_PlanetView : public QObject
{
    Q_OBJECT

private slots:
    void showPlanetColoursEveryCell();
    void updateCellsUploadsOnlyChangedRuns_data();
    void updateCellsUploadsOnlyChangedRuns();
    void applyStateFindsChangedCells();
};

void tst_PlanetView::showPlanetColoursEveryCell()
{
    auto sphere = std::make_shared<const HexSphere>(4);
    const qsizetype cells = sphere->cellCount();
    PlanetView view;
    QVERIFY(!view.hasPlanet());
    QVERIFY(view.colourData().isEmpty());
    view.showPlanet(sphere, QByteArray(cells, char(kGrass)), QByteArray(cells, char(100)));
    QVERIFY(view.hasPlanet());
    QCOMPARE(view.sphere(), sphere.get());
    const QByteArray colours = view.colourData();
    QCOMPARE(colours.size(), cells * PlanetMesh::kColourBytesPerCell);
    const QByteArray grass = cellColours(kGrass, 100);
    for (qsizetype cell = 0; cell < cells; ++cell)
        QCOMPARE(colours.mid(PlanetMesh::colourOffset(CellId(cell)), grass.size()), grass);
}

void tst_PlanetView::updateCellsUploadsOnlyChangedRuns_data()
{
    QTest::addColumn<std::vector<CellId>>("cells");
    QTest::addColumn<int>("runs");

    QTest::newRow("one cell") << std::vector<CellId>{17} << 1;
    QTest::newRow("a run and a straggler, shuffled") << std::vector<CellId>{7, 5, 100, 6, 6} << 2;
    QTest::newRow("the first and the last") << std::vector<CellId>{0, 161} << 2;
    QTest::newRow("ids past the end are ignored") << std::vector<CellId>{160, 161, 162, 5000} << 1;
    QTest::newRow("nothing") << std::vector<CellId>{} << 0;
}

void tst_PlanetView::updateCellsUploadsOnlyChangedRuns()
{
    QFETCH(std::vector<CellId>, cells);
    QFETCH(int, runs);

    auto sphere = std::make_shared<const HexSphere>(4); // 162 cells
    const qsizetype count = sphere->cellCount();
    PlanetView view;
    view.showPlanet(sphere, QByteArray(count, char(kGrass)), QByteArray(count, char(100)));
    const QByteArray before = view.colourData();

    std::vector<CellId> valid;
    for (const CellId cell : cells) {
        if (cell < sphere->cellCount()) {
            view.setCellState(cell, kSnow, 250);
            valid.push_back(cell);
        }
    }
    QCOMPARE(view.updateCells(cells), runs);

    const QByteArray after = view.colourData();
    QCOMPARE(after.size(), before.size());
    const QByteArray snow = cellColours(kSnow, 250);
    for (CellId cell = 0; cell < sphere->cellCount(); ++cell) {
        const QByteArray now = after.mid(PlanetMesh::colourOffset(cell), snow.size());
        const bool changed = std::find(valid.begin(), valid.end(), cell) != valid.end();
        if (changed)
            QCOMPARE(now, snow);
        else
            QCOMPARE(now, before.mid(PlanetMesh::colourOffset(cell), snow.size()));
    }
}

void tst_PlanetView::applyStateFindsChangedCells()
{
    auto sphere = std::make_shared<const HexSphere>(2);
    const qsizetype count = sphere->cellCount();
    PlanetView view;
    QByteArray terrain(count, char(kGrass));
    QByteArray elevation(count, char(100));
    view.showPlanet(sphere, terrain, elevation);

    QCOMPARE(view.applyState(terrain, elevation), 0);
    terrain[3] = char(kSnow);
    elevation[30] = char(101);
    QCOMPARE(view.applyState(terrain, elevation), 2);
    QCOMPARE(view.colourData().mid(PlanetMesh::colourOffset(3), PlanetMesh::kColourBytesPerCell),
             cellColours(kSnow, 100));
    QCOMPARE(view.applyState(terrain.left(5), elevation.left(5)), 0); // wrong size: ignored
}

QTEST_MAIN(tst_PlanetView)
#include "tst_planetview.moc"
