#include "net/tickdeltas.h"
#include "render/celllook.h"
#include "render/orbitcamera.h"
#include "render/planetmesh.h"
#include "render/planetview.h"

#include "geometry/hexsphere.h"
#include "protocol/worldcodec.h"
#include "sim/terrain.h"

#include <QElapsedTimer>
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

/// What the look texture holds for `cell` of `cells`.
QByteArray expectedLook(const VisibleCells &cells, CellId cell)
{
    QByteArray bytes(PlanetMesh::kLookBytesPerCell, Qt::Uninitialized);
    PlanetMesh::writeCellLook(reinterpret_cast<std::uint8_t *>(bytes.data()),
                              hex::client::cellColour(cells, cell));
    return bytes;
}

QByteArray shownLook(const PlanetView &view, CellId cell)
{
    return view.lookData().mid(PlanetMesh::lookOffset(cell), PlanetMesh::kLookBytesPerCell);
}

} // namespace

/// The planet view's buffers and textures, without drawing anything: the view is never
/// shown.
class tst_PlanetView : public QObject
{
    Q_OBJECT

private slots:
    void showPlanetColoursEveryCell();
    void updateCellsUploadsOnlyChangedRanges_data();
    void updateCellsUploadsOnlyChangedRanges();
    void scatteredChangesTakeAFewUploads();
    void aLargeTickIsRecolouredOnHelperThreads();
    void refreshAllRecoloursEveryCell();
    void aMirrorOfAnotherWorldIsIgnored();
    void hoverBrightensOneCellAndRestoresIt();
    void theFarPlanetDrawsTheGlobeAndTheMeshDrawsCloseUps_data();
    void theFarPlanetDrawsTheGlobeAndTheMeshDrawsCloseUps();
    void workAfterFrameRunsWhenNoFrameComes();
    void outlinesFadeWhereCellsAreAboutAPixel_data();
    void outlinesFadeWhereCellsAreAboutAPixel();
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
    QVERIFY(view.lookData().isEmpty());
    QCOMPARE(view.gpuBytes(), quint64(0));
    view.showPlanet(sphere, &cells);
    QVERIFY(view.hasPlanet());
    QCOMPARE(view.sphere(), sphere.get());
    QCOMPARE(view.cells(), &cells);
    QCOMPARE(view.lookData().size(),
             qsizetype(PlanetMesh::kLookTextureWidth) * PlanetMesh::kLookBytesPerCell);
    for (CellId cell = 0; cell < count; ++cell)
        QCOMPARE(shownLook(view, cell), expectedLook(cells, cell));
    QVERIFY(shownLook(view, 5) != shownLook(view, 4));
    QVERIFY(shownLook(view, 9) != shownLook(view, 4));
    // The mesh, the look texture and the cell-id map went up.
    const PlanetMesh mesh(*sphere);
    QVERIFY(view.gpuBytes() > quint64(mesh.vertexData().size() + mesh.indexData().size()
                                      + view.lookData().size()));
    QVERIFY(view.uploadedBytes() >= view.gpuBytes() - quint64(1 << 20)); // all but the far mesh
}

void tst_PlanetView::updateCellsUploadsOnlyChangedRanges_data()
{
    constexpr CellId w = PlanetMesh::kLookTextureWidth;
    QTest::addColumn<std::vector<CellId>>("cells");
    QTest::addColumn<int>("uploads");
    QTest::addColumn<int>("texels");

    QTest::newRow("one cell") << std::vector<CellId>{17} << 1 << 1;
    QTest::newRow("a run and a straggler, shuffled: one range across the small gap")
        << std::vector<CellId>{7, 5, 100, 6, 6} << 1 << 96;
    QTest::newRow("two far apart: two ranges") << std::vector<CellId>{10, 5000} << 2 << 2;
    QTest::newRow("a run across a row's end: both rows")
        << std::vector<CellId>{w - 2, w - 1, w, w + 1} << 1 << int(2 * w);
    std::vector<CellId> rows;
    for (CellId cell = 100; cell < 2 * w + 200; ++cell)
        rows.push_back(cell);
    QTest::newRow("a run over three rows: those rows") << rows << 1 << int(3 * w);
    QTest::newRow("unsorted, the pentagons last, as a tick's deltas come")
        << std::vector<CellId>{20, 21, 22, 23, 3, 5} << 1 << 21;
    QTest::newRow("ids past the end are ignored")
        << std::vector<CellId>{10240, 10241, 10242, 50000} << 1 << 2;
    QTest::newRow("nothing") << std::vector<CellId>{} << 0 << 0;
}

void tst_PlanetView::updateCellsUploadsOnlyChangedRanges()
{
    QFETCH(std::vector<CellId>, cells);
    QFETCH(int, uploads);
    QFETCH(int, texels);

    auto sphere = std::make_shared<const HexSphere>(32); // 10242 cells, 5 rows of looks
    VisibleCells mirror = grassland(sphere->cellCount());
    PlanetView view;
    view.showPlanet(sphere, &mirror);
    const QByteArray before = view.lookData();
    const quint64 uploadedBefore = view.uploadedBytes();

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
    QCOMPARE(view.updateCells(cells), uploads);
    QCOMPARE(view.uploadedBytes() - uploadedBefore,
             quint64(texels) * PlanetMesh::kLookBytesPerCell);

    const QByteArray after = view.lookData();
    QCOMPARE(after.size(), before.size());
    const QByteArray conveyor = expectedLook(mirror, listed.empty() ? 0 : listed.front());
    for (CellId cell = 0; cell < sphere->cellCount(); ++cell) {
        const QByteArray now = after.mid(PlanetMesh::lookOffset(cell), conveyor.size());
        const bool changed = std::find(listed.begin(), listed.end(), cell) != listed.end();
        if (changed)
            QCOMPARE(now, expectedLook(mirror, cell));
        else
            QCOMPARE(now, before.mid(PlanetMesh::lookOffset(cell), conveyor.size()));
    }
    QVERIFY(listed.empty() || conveyor != before.mid(0, conveyor.size()));
}

void tst_PlanetView::scatteredChangesTakeAFewUploads()
{
    // A living planet's tick: 5% of the cells, everywhere.
    auto sphere = std::make_shared<const HexSphere>(64); // 40962 cells, 21 rows
    VisibleCells mirror = grassland(sphere->cellCount());
    PlanetView view;
    view.showPlanet(sphere, &mirror);
    std::vector<CellId> changed;
    for (CellId cell = 3; cell < sphere->cellCount(); cell += 20) {
        changed.push_back(cell);
        mirror.pollution[cell] = 200;
    }
    const quint64 before = view.uploadedBytes();
    const int uploads = view.updateCells(changed);
    QVERIFY2(uploads >= 1 && uploads <= int(PlanetView::kMaxUploadRanges),
             qPrintable(QString::number(uploads)));
    // No more than the whole texture.
    QVERIFY(view.uploadedBytes() - before <= quint64(view.lookData().size()));
    for (const CellId cell : changed)
        QCOMPARE(shownLook(view, cell), expectedLook(mirror, cell));

    // Changes in two far corners of the world: two ranges, nothing in between sent.
    const quint64 beforeTwo = view.uploadedBytes();
    const std::vector<CellId> twoPlaces = {100, 101, 102, 40000, 40001};
    QCOMPARE(view.updateCells(twoPlaces), 2);
    QCOMPARE(view.uploadedBytes() - beforeTwo, quint64(5 * PlanetMesh::kLookBytesPerCell));
}

void tst_PlanetView::aLargeTickIsRecolouredOnHelperThreads()
{
    // Half the cells of n=64, over kParallelTickCells: written in slices on the GUI
    // thread's helpers, each cell once, duplicates and ids past the end in the list.
    auto sphere = std::make_shared<const HexSphere>(64);
    VisibleCells mirror = grassland(sphere->cellCount());
    PlanetView view;
    view.showPlanet(sphere, &mirror);
    const QByteArray before = view.lookData();
    std::vector<CellId> changed;
    for (CellId cell = 0; cell < sphere->cellCount(); cell += 2) {
        changed.push_back(cell);
        mirror.flora[cell] = std::uint8_t(cell % 251);
        mirror.owner[cell] = std::uint16_t(cell % 5);
    }
    changed.push_back(10);
    changed.push_back(sphere->cellCount() + 7);
    QVERIFY(changed.size() >= hex::client::kParallelTickCells);
    QVERIFY(view.updateCells(changed) >= 1);
    for (CellId cell = 0; cell < sphere->cellCount(); ++cell) {
        if (cell % 2 == 0)
            QCOMPARE(shownLook(view, cell), expectedLook(mirror, cell));
        else
            QCOMPARE(shownLook(view, cell), before.mid(PlanetMesh::lookOffset(cell), PlanetMesh::kLookBytesPerCell));
    }
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
    QCOMPARE(view.lookData(), PlanetMesh::looks(snapshot));
    QVERIFY(shownLook(view, 3) != shownLook(view, 4));
}

void tst_PlanetView::aMirrorOfAnotherWorldIsIgnored()
{
    auto sphere = std::make_shared<const HexSphere>(2);
    VisibleCells mirror = grassland(sphere->cellCount());
    PlanetView view;
    view.showPlanet(sphere, &mirror);
    const QByteArray shown = view.lookData();
    const quint64 uploaded = view.uploadedBytes();

    // The connection joined another world: the mirror is emptied, then resized.
    mirror = {};
    const std::vector<CellId> some = {0, 1, 2};
    QCOMPARE(view.updateCells(some), 0);
    QVERIFY(!view.refreshAll());
    mirror = grassland(sphere->cellCount() + 10);
    mirror.flora.assign(mirror.cellCount(), 255);
    QCOMPARE(view.updateCells(some), 0);
    QVERIFY(!view.refreshAll());
    QCOMPARE(view.lookData(), shown);
    QCOMPARE(view.uploadedBytes(), uploaded);
}

void tst_PlanetView::hoverBrightensOneCellAndRestoresIt()
{
    auto sphere = std::make_shared<const HexSphere>(4);
    VisibleCells mirror = grassland(sphere->cellCount());
    PlanetView view;
    view.showPlanet(sphere, &mirror);
    const QByteArray before = view.lookData();

    view.setHoveredCell(CellId(20));
    QCOMPARE(view.hoveredCell(), std::optional<CellId>(20));
    const QByteArray hovered = view.lookData();
    QVERIFY(shownLook(view, 20) != expectedLook(mirror, 20));
    const auto *shown
        = reinterpret_cast<const std::uint8_t *>(hovered.constData() + PlanetMesh::lookOffset(20));
    const auto *plain
        = reinterpret_cast<const std::uint8_t *>(before.constData() + PlanetMesh::lookOffset(20));
    for (int channel = 0; channel < 3; ++channel)
        QVERIFY(shown[channel] >= plain[channel]);
    QCOMPARE(hovered.left(PlanetMesh::lookOffset(20)), before.left(PlanetMesh::lookOffset(20)));
    QCOMPARE(hovered.mid(PlanetMesh::lookOffset(21)), before.mid(PlanetMesh::lookOffset(21)));

    // Moving on restores the old cell; a refresh keeps the highlight.
    view.setHoveredCell(CellId(21));
    QCOMPARE(shownLook(view, 20), expectedLook(mirror, 20));
    QVERIFY(shownLook(view, 21) != expectedLook(mirror, 21));
    QVERIFY(view.refreshAll());
    QVERIFY(shownLook(view, 21) != expectedLook(mirror, 21));
    view.setHoveredCell(std::nullopt);
    QCOMPARE(view.lookData(), before);
}

void tst_PlanetView::outlinesFadeWhereCellsAreAboutAPixel_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::addColumn<QString>("whole"); // the globe's shading: outlined, fading or flat
    // The whole globe 720 pixels high: the cells nearest the camera about 4.1, 2.1 and
    // 1.0 pixels wide.
    QTest::newRow("n=32") << 32 << "outlined";
    QTest::newRow("n=128") << 128 << "outlined";
    QTest::newRow("n=256") << 256 << "fading";
    QTest::newRow("n=512") << 512 << "flat";
}

void tst_PlanetView::outlinesFadeWhereCellsAreAboutAPixel()
{
    QFETCH(int, subdivisions);
    QFETCH(QString, whole);
    auto sphere = std::make_shared<const HexSphere>(subdivisions);
    VisibleCells mirror = grassland(sphere->cellCount());
    PlanetView view;
    view.resize(1280, 720);
    view.showPlanet(sphere, &mirror);
    hex::client::OrbitCamera *orbit = view.orbitCamera();
    const float mean = (1.0f + 2.0f * PlanetMesh::kCornerShade) / 3.0f;

    orbit->setDistance(orbit->maximumDistance());
    const PlanetView::CellShading far = view.cellShading();
    if (whole == QLatin1String("flat")) {
        QCOMPARE(far.centre, mean);
        QCOMPARE(far.edge, mean);
    } else if (whole == QLatin1String("fading")) {
        QVERIFY2(far.centre > mean && far.centre < 1.0f, qPrintable(QString::number(far.centre)));
        QVERIFY2(far.edge < mean && far.edge > PlanetMesh::kCornerShade,
                 qPrintable(QString::number(far.edge)));
        // Around the mean: the globe is as bright as the outlined and the flat one.
        QVERIFY(qAbs((far.centre + 2.0f * far.edge) / 3.0f - mean) < 1e-6f);
    } else {
        QCOMPARE(far.centre, 1.0f);
        QCOMPARE(far.edge, PlanetMesh::kCornerShade);
    }
    // Up close every cell is many pixels wide: outlined, whatever n is.
    orbit->setDistance(orbit->minimumDistance());
    QCOMPARE(view.cellShading().centre, 1.0f);
    QCOMPARE(view.cellShading().edge, PlanetMesh::kCornerShade);
    orbit->setDistance(orbit->maximumDistance());
    QCOMPARE(view.cellShading().centre, far.centre);
    QCOMPARE(view.cellShading().edge, far.edge);
}

void tst_PlanetView::theFarPlanetDrawsTheGlobeAndTheMeshDrawsCloseUps_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::newRow("n=32") << 32;
    QTest::newRow("n=128, the default world") << 128;
}

void tst_PlanetView::theFarPlanetDrawsTheGlobeAndTheMeshDrawsCloseUps()
{
    QFETCH(int, subdivisions);
    auto sphere = std::make_shared<const HexSphere>(subdivisions);
    VisibleCells mirror = grassland(sphere->cellCount());
    PlanetView view;
    view.resize(1280, 720);
    view.showPlanet(sphere, &mirror);
    hex::client::OrbitCamera *orbit = view.orbitCamera();
    // The whole globe in a 720-pixel-high view: a texel of the cell-id map is under a
    // pixel, and the far planet draws it.
    orbit->setDistance(orbit->maximumDistance());
    QVERIFY(view.isFarView());
    // The closest zoom: a texel would be many pixels, and the mesh draws the cells.
    orbit->setDistance(orbit->minimumDistance());
    QVERIFY(!view.isFarView());
    orbit->setDistance(orbit->maximumDistance());
    QVERIFY(view.isFarView());
}

void tst_PlanetView::workAfterFrameRunsWhenNoFrameComes()
{
    // A view never shown draws no frame: work waits kAfterFrameLatestMs, then runs, in
    // the order given; work given while it runs waits its own turn.
    PlanetView view;
    QStringList ran;
    QElapsedTimer clock;
    clock.start();
    qint64 firstRanAt = -1;
    qint64 lateRanAt = -1;
    view.runAfterFrame([&] {
        firstRanAt = clock.elapsed();
        ran << QStringLiteral("a");
        view.runAfterFrame([&] {
            lateRanAt = clock.elapsed();
            ran << QStringLiteral("c");
        });
    });
    view.runAfterFrame([&] { ran << QStringLiteral("b"); });
    QVERIFY(ran.isEmpty());
    QCOMPARE(view.workAfterFrame(), std::size_t(2));
    QTRY_COMPARE(ran, QStringList({"a", "b"}));
    QVERIFY2(firstRanAt >= PlanetView::kAfterFrameLatestMs - 1, qPrintable(QString::number(firstRanAt)));
    QCOMPARE(view.workAfterFrame(), std::size_t(1));
    QTRY_COMPARE(ran, QStringList({"a", "b", "c"}));
    QVERIFY(lateRanAt - firstRanAt >= PlanetView::kAfterFrameLatestMs - 1);
    QCOMPARE(view.workAfterFrame(), std::size_t(0));
}

QTEST_MAIN(tst_PlanetView)
#include "tst_planetview.moc"
