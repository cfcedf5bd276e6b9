#include "render/celllook.h"
#include "render/planetmesh.h"
#include "render/planetview.h"

#include "geometry/hexsphere.h"
#include "protocol/worldcodec.h"
#include "sim/terrain.h"

#include <QTest>

#include <optional>
#include <vector>

using hex::client::PlanetMesh;
using hex::client::PlanetView;
using hex::geometry::CellId;
using hex::geometry::HexSphere;
using hex::protocol::VisibleCells;

Q_DECLARE_METATYPE(std::vector<CellId>)

namespace {

constexpr auto kGrass = std::uint8_t(hex::sim::Terrain::Grassland);
constexpr std::uint16_t kConveyor = 2;

/// A mirror of `count` bare grassland cells at elevation 100.
VisibleCells grassland(std::uint32_t count)
{
    VisibleCells cells;
    cells.terrain.assign(count, kGrass);
    cells.elevation.assign(count, 100);
    cells.flora.assign(count, 0);
    cells.water.assign(count, 0);
    cells.pollution.assign(count, 0);
    cells.resource.assign(count, 0);
    cells.structure.assign(count, 0);
    cells.orientation.assign(count, 0);
    cells.owner.assign(count, 0xFFFF);
    return cells;
}

/// What the colour array holds for `cell` of `cells`.
QByteArray expectedColours(const VisibleCells &cells, CellId cell)
{
    QByteArray bytes(PlanetMesh::kColourBytesPerCell, Qt::Uninitialized);
    PlanetMesh::writeCellColours(reinterpret_cast<float *>(bytes.data()),
                                 hex::client::cellColour(cells, cell));
    return bytes;
}

QByteArray shownColours(const PlanetView &view, CellId cell)
{
    return view.colourData().mid(PlanetMesh::colourOffset(cell), PlanetMesh::kColourBytesPerCell);
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
    void refreshAllRecoloursEveryCell();
    void aMirrorOfAnotherWorldIsIgnored();
    void hoverBrightensOneCellAndRestoresIt();
};

void tst_PlanetView::showPlanetColoursEveryCell()
{
    auto sphere = std::make_shared<const HexSphere>(4);
    const std::uint32_t count = sphere->cellCount();
    VisibleCells cells = grassland(count);
    cells.flora[5] = 200;
    cells.structure[9] = kConveyor;
    cells.owner[9] = 1;
    PlanetView view;
    QVERIFY(!view.hasPlanet());
    QVERIFY(view.colourData().isEmpty());
    view.showPlanet(sphere, &cells);
    QVERIFY(view.hasPlanet());
    QCOMPARE(view.sphere(), sphere.get());
    QCOMPARE(view.cells(), &cells);
    QCOMPARE(view.colourData().size(), qsizetype(count) * PlanetMesh::kColourBytesPerCell);
    for (CellId cell = 0; cell < count; ++cell)
        QCOMPARE(shownColours(view, cell), expectedColours(cells, cell));
    QVERIFY(shownColours(view, 5) != shownColours(view, 4));
    QVERIFY(shownColours(view, 9) != shownColours(view, 4));
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
    std::vector<CellId> scattered;
    for (CellId cell = 1; cell < 160; cell += 4)
        scattered.push_back(cell);
    QTest::newRow("40 scattered cells: one whole upload") << scattered << 1;
}

void tst_PlanetView::updateCellsUploadsOnlyChangedRuns()
{
    QFETCH(std::vector<CellId>, cells);
    QFETCH(int, runs);

    auto sphere = std::make_shared<const HexSphere>(4); // 162 cells
    VisibleCells mirror = grassland(sphere->cellCount());
    PlanetView view;
    view.showPlanet(sphere, &mirror);
    const QByteArray before = view.colourData();

    // The mirror changes under the view; only the cells named are recoloured.
    std::vector<CellId> listed;
    for (const CellId cell : cells) {
        if (cell < sphere->cellCount()) {
            mirror.structure[cell] = kConveyor;
            listed.push_back(cell);
        }
    }
    constexpr CellId kUnlisted = 50;
    mirror.flora[kUnlisted] = 255;
    QCOMPARE(view.updateCells(cells), runs);

    const QByteArray after = view.colourData();
    QCOMPARE(after.size(), before.size());
    const QByteArray conveyor = expectedColours(mirror, listed.empty() ? 0 : listed.front());
    for (CellId cell = 0; cell < sphere->cellCount(); ++cell) {
        const QByteArray now = after.mid(PlanetMesh::colourOffset(cell), conveyor.size());
        const bool changed = std::find(listed.begin(), listed.end(), cell) != listed.end();
        if (changed)
            QCOMPARE(now, expectedColours(mirror, cell));
        else
            QCOMPARE(now, before.mid(PlanetMesh::colourOffset(cell), conveyor.size()));
    }
    QVERIFY(listed.empty() || conveyor != before.mid(0, conveyor.size()));
}

void tst_PlanetView::refreshAllRecoloursEveryCell()
{
    auto sphere = std::make_shared<const HexSphere>(2);
    VisibleCells mirror = grassland(sphere->cellCount());
    PlanetView view;
    QVERIFY(!view.refreshAll()); // No planet yet.
    view.showPlanet(sphere, &mirror);

    // A new snapshot replaces the whole mirror in place.
    VisibleCells snapshot = grassland(sphere->cellCount());
    snapshot.pollution.assign(sphere->cellCount(), 180);
    snapshot.resource[3] = 3;
    mirror = snapshot;
    QVERIFY(view.refreshAll());
    QCOMPARE(view.colourData(), PlanetMesh::colours(snapshot));
    QVERIFY(shownColours(view, 3) != shownColours(view, 4));
}

void tst_PlanetView::aMirrorOfAnotherWorldIsIgnored()
{
    auto sphere = std::make_shared<const HexSphere>(2);
    VisibleCells mirror = grassland(sphere->cellCount());
    PlanetView view;
    view.showPlanet(sphere, &mirror);
    const QByteArray shown = view.colourData();

    // The connection joined another world: the mirror is emptied, then resized.
    mirror = {};
    const std::vector<CellId> some = {0, 1, 2};
    QCOMPARE(view.updateCells(some), 0);
    QVERIFY(!view.refreshAll());
    mirror = grassland(sphere->cellCount() + 10);
    mirror.flora.assign(mirror.cellCount(), 255);
    QCOMPARE(view.updateCells(some), 0);
    QVERIFY(!view.refreshAll());
    QCOMPARE(view.colourData(), shown);
}

void tst_PlanetView::hoverBrightensOneCellAndRestoresIt()
{
    auto sphere = std::make_shared<const HexSphere>(4);
    VisibleCells mirror = grassland(sphere->cellCount());
    PlanetView view;
    view.showPlanet(sphere, &mirror);
    const QByteArray before = view.colourData();

    view.setHoveredCell(CellId(20));
    QCOMPARE(view.hoveredCell(), std::optional<CellId>(20));
    const QByteArray hovered = view.colourData();
    QVERIFY(shownColours(view, 20) != expectedColours(mirror, 20));
    const auto *shown
        = reinterpret_cast<const float *>(hovered.constData() + PlanetMesh::colourOffset(20));
    const auto *plain
        = reinterpret_cast<const float *>(before.constData() + PlanetMesh::colourOffset(20));
    for (int channel = 0; channel < 3; ++channel)
        QVERIFY(shown[channel] >= plain[channel]);
    QCOMPARE(hovered.left(PlanetMesh::colourOffset(20)), before.left(PlanetMesh::colourOffset(20)));
    QCOMPARE(hovered.mid(PlanetMesh::colourOffset(21)), before.mid(PlanetMesh::colourOffset(21)));

    // Moving on restores the old cell; a refresh keeps the highlight.
    view.setHoveredCell(CellId(21));
    QCOMPARE(shownColours(view, 20), expectedColours(mirror, 20));
    QVERIFY(shownColours(view, 21) != expectedColours(mirror, 21));
    QVERIFY(view.refreshAll());
    QVERIFY(shownColours(view, 21) != expectedColours(mirror, 21));
    view.setHoveredCell(std::nullopt);
    QCOMPARE(view.colourData(), before);
}

QTEST_MAIN(tst_PlanetView)
#include "tst_planetview.moc"
