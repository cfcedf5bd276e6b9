#include "render/planetview.h"
#include "render/structurelayer.h"

#include "geometry/hexsphere.h"
#include "protocol/worldcodec.h"
#include "sim/content.h"

#include <Qt3DCore/QEntity>

#include <QTest>

#include <algorithm>
#include <memory>

using hex::client::StructureLayer;
using hex::client::StructurePlacement;
using hex::client::StructureShape;
using hex::geometry::CellId;
using hex::geometry::HexSphere;
using hex::protocol::VisibleCells;

namespace {

constexpr std::uint16_t kExtractor = 1;
constexpr std::uint16_t kConveyor = 2;
constexpr std::uint16_t kFurnace = 3;
constexpr std::uint16_t kChest = 5;
constexpr std::uint16_t kOwner = 2;

QVector3D toQt(const hex::geometry::Vec3 &v)
{
    return QVector3D(v.x, v.y, v.z);
}

/// The placement stored for instance `index` of `shape`.
StructurePlacement storedPlacement(const StructureLayer &layer, StructureShape shape, int index)
{
    const std::span<const float> data = layer.instanceData(shape);
    const float *f = data.data() + std::ptrdiff_t(index) * StructureLayer::kInstanceFloats;
    StructurePlacement placement;
    placement.position = QVector3D(f[0], f[1], f[2]);
    placement.scale = f[3];
    placement.up = QVector3D(f[4], f[5], f[6]);
    placement.forward = QVector3D(f[7], f[8], f[9]);
    return placement;
}

bool near(const QVector3D &a, const QVector3D &b, float tolerance = 1e-5f)
{
    return (a - b).length() <= tolerance;
}

} // namespace

/// The instance buffers of the structure layer for a hand-made mirror of an n=4 world.
/// Nothing is drawn: the Qt3D nodes exist without an engine.
class tst_StructureLayer : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void defaultContentHasAShapePerKind();
    void everyShapeHasAMesh();
    void countsPerKind();
    void instancesStandOnTheirCellCentres();
    void forwardPointsToTheFacedNeighbour_data();
    void forwardPointsToTheFacedNeighbour();
    void removalSwapsTheLastInstanceIn();
    void rotationRewritesOnlyThatInstance();
    void unchangedCellsUploadNothing();
    void buildingAddsAnInstance();
    void planetViewKeepsTheLayerCurrent();

private:
    void place(CellId cell, std::uint16_t prototype, std::uint8_t orientation);

    std::unique_ptr<HexSphere> m_sphere;
    VisibleCells m_cells;
    std::unique_ptr<Qt3DCore::QEntity> m_root;
    std::unique_ptr<StructureLayer> m_layer;
};

void tst_StructureLayer::place(CellId cell, std::uint16_t prototype, std::uint8_t orientation)
{
    m_cells.structure[cell] = prototype;
    m_cells.orientation[cell] = orientation;
    m_cells.owner[cell] = kOwner;
}

void tst_StructureLayer::init()
{
    m_sphere = std::make_unique<HexSphere>(4);
    m_cells = VisibleCells();
    m_cells.resize(m_sphere->cellCount());
    place(20, kExtractor, 0);
    place(30, kConveyor, 0);
    place(40, kConveyor, 1);
    place(50, kConveyor, 5);
    place(3, kChest, 4); // a pentagon
    m_root = std::make_unique<Qt3DCore::QEntity>();
    const auto content = hex::sim::loadDefaultContent();
    QVERIFY2(content, qPrintable(content ? QString() : content.error()));
    m_layer = std::make_unique<StructureLayer>(m_root.get(), QQuaternion(),
                                               StructureLayer::shapesFor(*content));
    m_layer->rebuild(*m_sphere, m_cells);
}

void tst_StructureLayer::cleanup()
{
    m_layer.reset();
    m_root.reset();
}

void tst_StructureLayer::defaultContentHasAShapePerKind()
{
    QCOMPARE(m_layer->shapeOf(kExtractor), StructureShape::Extractor);
    QCOMPARE(m_layer->shapeOf(kConveyor), StructureShape::Conveyor);
    QCOMPARE(m_layer->shapeOf(kFurnace), StructureShape::Furnace);
    QCOMPARE(m_layer->shapeOf(4), StructureShape::Assembler);
    QCOMPARE(m_layer->shapeOf(kChest), StructureShape::Chest);
    QCOMPARE(m_layer->shapeOf(6), StructureShape::Splitter);
    QCOMPARE(m_layer->shapeOf(7), StructureShape::Inserter);
    QCOMPARE(m_layer->shapeOf(8), StructureShape::Seeder);
    QCOMPARE(m_layer->shapeOf(9), StructureShape::Scrubber);
    QCOMPARE(m_layer->shapeOf(999), StructureShape::Generic);
}

void tst_StructureLayer::everyShapeHasAMesh()
{
    for (int shape = 0; shape < hex::client::kStructureShapeCount; ++shape) {
        const int vertices = m_layer->vertexCount(StructureShape(shape));
        QVERIFY2(vertices >= 36 && vertices % 3 == 0, qPrintable(QString::number(shape)));
    }
}

void tst_StructureLayer::countsPerKind()
{
    QCOMPARE(m_layer->instanceCount(StructureShape::Extractor), 1);
    QCOMPARE(m_layer->instanceCount(StructureShape::Conveyor), 3);
    QCOMPARE(m_layer->instanceCount(StructureShape::Chest), 1);
    QCOMPARE(m_layer->instanceCount(StructureShape::Furnace), 0);
    QCOMPARE(int(m_layer->instanceData(StructureShape::Conveyor).size()),
             3 * StructureLayer::kInstanceFloats);
    QCOMPARE(m_layer->instanceOf(30)->first, StructureShape::Conveyor);
    QVERIFY(!m_layer->instanceOf(31));
}

void tst_StructureLayer::instancesStandOnTheirCellCentres()
{
    for (const CellId cell : {CellId(20), CellId(30), CellId(40), CellId(50), CellId(3)}) {
        const auto instance = m_layer->instanceOf(cell);
        QVERIFY(instance);
        const StructurePlacement at = storedPlacement(*m_layer, instance->first, instance->second);
        const QVector3D centre = toQt(m_sphere->centre(cell));
        // The inner radius is a little under half the way to the nearest neighbour's centre.
        float nearest = 10.0f;
        for (const CellId neighbour : m_sphere->neighbours(cell))
            nearest = std::min(nearest, (toQt(m_sphere->centre(neighbour)) - centre).length());
        QVERIFY2(at.scale > 0.4f * nearest && at.scale <= 0.55f * nearest,
                 qPrintable(QStringLiteral("%1 of %2").arg(at.scale).arg(nearest)));
        QVERIFY(near(at.position, centre * (1.0f + StructureLayer::kLift * at.scale)));
        QVERIFY(near(at.up, centre.normalized()));
        // Fits: the nearest corner is farther than the inner radius.
        const hex::geometry::CellCorners corners = m_sphere->corners(cell);
        for (int k = 0; k < corners.count; ++k)
            QVERIFY((toQt(corners.points[std::size_t(k)]) - centre).length() > at.scale);
    }
}

void tst_StructureLayer::forwardPointsToTheFacedNeighbour_data()
{
    QTest::addColumn<CellId>("cell");
    QTest::addColumn<int>("orientation");
    for (int o = 0; o < 6; ++o)
        QTest::addRow("hexagon, orientation %d", o) << CellId(60) << o;
    for (int o = 0; o < 5; ++o)
        QTest::addRow("pentagon, orientation %d", o) << CellId(7) << o;
}

void tst_StructureLayer::forwardPointsToTheFacedNeighbour()
{
    QFETCH(CellId, cell);
    QFETCH(int, orientation);
    place(cell, kConveyor, std::uint8_t(orientation));
    QCOMPARE(m_layer->update(*m_sphere, m_cells, {&cell, 1}), 1);
    const auto instance = m_layer->instanceOf(cell);
    QVERIFY(instance);
    const StructurePlacement at = storedPlacement(*m_layer, instance->first, instance->second);
    QVERIFY(qAbs(QVector3D::dotProduct(at.forward, at.up)) < 1e-5f);
    QVERIFY(qAbs(at.forward.length() - 1.0f) < 1e-5f);

    // The sim's side 0 faces neighbour slot `orientation`: forward is the direction to
    // that neighbour's centre, seen in the cell's tangent plane, and no other neighbour
    // lies as much ahead.
    const QVector3D centre = toQt(m_sphere->centre(cell));
    const auto around = m_sphere->neighbours(cell);
    const QVector3D towards = toQt(m_sphere->centre(around[std::size_t(orientation)])) - centre;
    const QVector3D tangent
        = (towards - QVector3D::dotProduct(towards, at.up) * at.up).normalized();
    QVERIFY(near(at.forward, tangent));
    for (std::size_t slot = 0; slot < around.size(); ++slot) {
        if (int(slot) == orientation)
            continue;
        const QVector3D other = toQt(m_sphere->centre(around[slot])) - centre;
        QVERIFY(QVector3D::dotProduct(other, at.forward)
                < QVector3D::dotProduct(towards, at.forward) - 1e-3f);
    }
}

void tst_StructureLayer::removalSwapsTheLastInstanceIn()
{
    // Conveyors were added in cell order: 30, 40, 50. Remove the first.
    const StructurePlacement on40 = storedPlacement(*m_layer, StructureShape::Conveyor, 1);
    const StructurePlacement on50 = storedPlacement(*m_layer, StructureShape::Conveyor, 2);
    const auto chestBefore
        = std::vector<float>(m_layer->instanceData(StructureShape::Chest).begin(),
                             m_layer->instanceData(StructureShape::Chest).end());
    m_cells.structure[30] = 0;
    const CellId changed[] = {30, 31, 30};
    QCOMPARE(m_layer->update(*m_sphere, m_cells, changed), 1);
    QCOMPARE(m_layer->instanceCount(StructureShape::Conveyor), 2);
    QVERIFY(!m_layer->instanceOf(30));
    QCOMPARE(m_layer->instanceOf(50)->second, 0); // The last moved into the gap.
    QCOMPARE(m_layer->instanceOf(40)->second, 1);
    QVERIFY(near(storedPlacement(*m_layer, StructureShape::Conveyor, 0).position, on50.position));
    QVERIFY(near(storedPlacement(*m_layer, StructureShape::Conveyor, 0).forward, on50.forward));
    QVERIFY(near(storedPlacement(*m_layer, StructureShape::Conveyor, 1).position, on40.position));
    const std::span<const float> chestAfter = m_layer->instanceData(StructureShape::Chest);
    QVERIFY(
        std::equal(chestAfter.begin(), chestAfter.end(), chestBefore.begin(), chestBefore.end()));
    QCOMPARE(m_layer->instanceCount(StructureShape::Extractor), 1);
}

void tst_StructureLayer::rotationRewritesOnlyThatInstance()
{
    const std::vector<float> before(m_layer->instanceData(StructureShape::Conveyor).begin(),
                                    m_layer->instanceData(StructureShape::Conveyor).end());
    m_cells.orientation[40] = 3;
    const CellId cell = 40;
    QCOMPARE(m_layer->update(*m_sphere, m_cells, {&cell, 1}), 1);
    QCOMPARE(m_layer->instanceCount(StructureShape::Conveyor), 3);
    const auto instance = m_layer->instanceOf(40);
    QVERIFY(instance);
    const std::span<const float> after = m_layer->instanceData(StructureShape::Conveyor);
    // Swap-remove and re-add puts the turned conveyor last; the other two keep their
    // floats.
    const StructurePlacement turned
        = storedPlacement(*m_layer, StructureShape::Conveyor, instance->second);
    const StructurePlacement expected = StructureLayer::placement(*m_sphere, 40, 3);
    QVERIFY(near(turned.forward, expected.forward));
    QVERIFY(near(turned.position, expected.position));
    for (const CellId other : {CellId(30), CellId(50)}) {
        const int index = m_layer->instanceOf(other)->second;
        const StructurePlacement at
            = StructureLayer::placement(*m_sphere, other, m_cells.orientation[other]);
        QVERIFY(
            near(storedPlacement(*m_layer, StructureShape::Conveyor, index).forward, at.forward));
    }
    QCOMPARE(after.size(), before.size());
}

void tst_StructureLayer::unchangedCellsUploadNothing()
{
    const CellId changed[] = {30, 40, 50, 3, 20, 31, 32, 100000};
    QCOMPARE(m_layer->update(*m_sphere, m_cells, changed), 0);
    QCOMPARE(m_layer->instanceCount(StructureShape::Conveyor), 3);
}

void tst_StructureLayer::buildingAddsAnInstance()
{
    place(70, kFurnace, 2);
    const CellId cell = 70;
    QCOMPARE(m_layer->update(*m_sphere, m_cells, {&cell, 1}), 1);
    QCOMPARE(m_layer->instanceCount(StructureShape::Furnace), 1);
    const StructurePlacement at = storedPlacement(*m_layer, StructureShape::Furnace, 0);
    const StructurePlacement expected = StructureLayer::placement(*m_sphere, 70, 2);
    QVERIFY(near(at.position, expected.position));
    QVERIFY(near(at.forward, expected.forward));
    QCOMPARE(at.scale, expected.scale);
}

void tst_StructureLayer::planetViewKeepsTheLayerCurrent()
{
    hex::client::PlanetView view;
    auto sphere = std::make_shared<const HexSphere>(4);
    view.showPlanet(sphere, &m_cells);
    QVERIFY(view.structureLayer());
    QCOMPARE(view.structureLayer()->instanceCount(StructureShape::Conveyor), 3);
    m_cells.structure[50] = 0;
    const CellId cell = 50;
    view.updateCells({&cell, 1});
    QCOMPARE(view.structureLayer()->instanceCount(StructureShape::Conveyor), 2);
    m_cells.structure[51] = kChest;
    QVERIFY(view.refreshAll());
    QCOMPARE(view.structureLayer()->instanceCount(StructureShape::Chest), 2);
}

QTEST_MAIN(tst_StructureLayer)
#include "tst_structurelayer.moc"
