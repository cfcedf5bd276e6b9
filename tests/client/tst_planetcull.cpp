// The cell mesh drawn in parts: only the chunks the camera can see. Captured in a real
// window (needs a display, as tst_structureshot): whatever the pose, the picture with
// only those chunks drawn is the picture of the whole mesh, pixel for pixel, while
// far fewer triangles are drawn.

#include "render/orbitcamera.h"
#include "render/planetview.h"

#include "geometry/hexsphere.h"
#include "protocol/worldcodec.h"
#include "sim/terrain.h"

#include <Qt3DRender/QRenderCaptureReply>

#include <QDir>
#include <QImage>
#include <QTest>

#include <memory>

using hex::client::PlanetView;
using hex::geometry::HexSphere;
using hex::protocol::VisibleCells;

namespace {

const QString kArtifacts = QStringLiteral(HEX_ARTIFACTS_DIR);
/// The scene's background, as PlanetView clears it.
const QRgb kSpace = qRgb(8, 11, 22);

/// A mirror whose neighbouring cells differ: terrain, elevation and flora from the id,
/// so that a cell drawn wrong or missing shows.
VisibleCells patchwork(std::uint32_t count)
{
    VisibleCells cells;
    cells.resize(count);
    for (std::uint32_t c = 0; c < count; ++c) {
        cells.terrain[c] = std::uint8_t(c % 7);
        cells.elevation[c] = std::uint8_t(40 + (c * 37) % 200);
        cells.flora[c] = std::uint8_t((c * 11) % 256);
        cells.water[c] = 0;
        cells.pollution[c] = 0;
        cells.resource[c] = 0;
        cells.structure[c] = 0;
        cells.orientation[c] = 0;
        cells.owner[c] = 0xFFFF;
    }
    return cells;
}

} // namespace

class tst_PlanetCull : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void onlyChunksInViewAreDrawnAndThePictureIsTheSame_data();
    void onlyChunksInViewAreDrawnAndThePictureIsTheSame();

private:
    QImage capture();

    std::shared_ptr<const HexSphere> m_sphere;
    VisibleCells m_cells;
    std::unique_ptr<PlanetView> m_view;
    /// The widest zoom at which the cell mesh, not the far planet, is drawn.
    float m_widestMeshDistance = 0.0f;
};

void tst_PlanetCull::initTestCase()
{
    if (qEnvironmentVariableIsEmpty("DISPLAY"))
        QSKIP("No X display: run through CTest, which provides one with xvfb-run.");
    QVERIFY(QDir().mkpath(kArtifacts));
    m_sphere = std::make_shared<const HexSphere>(128);
    m_cells = patchwork(m_sphere->cellCount());
    m_view = std::make_unique<PlanetView>();
    m_view->resize(1280, 720);
    m_view->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_view.get()));
    m_view->showPlanet(m_sphere, &m_cells);
    QVERIFY(m_view->culling());

    // The far view begins at one distance: just inside it, the mesh is drawn.
    hex::client::OrbitCamera *orbit = m_view->orbitCamera();
    orbit->setDistance(m_view->farViewDistance() * 1.001f);
    QVERIFY(m_view->isFarView());
    m_widestMeshDistance = m_view->farViewDistance() * 0.999f;
    orbit->setDistance(m_widestMeshDistance);
    QVERIFY(!m_view->isFarView());
    QVERIFY(m_widestMeshDistance > orbit->minimumDistance() * 1.5f);
}

void tst_PlanetCull::cleanupTestCase()
{
    m_view.reset();
}

QImage tst_PlanetCull::capture()
{
    // A few frames first, so that what was set has reached the renderer.
    const quint64 until = m_view->framesSincePlanet() + 3;
    if (!QTest::qWaitFor([&] { return m_view->framesSincePlanet() >= until; }, 30'000))
        return {};
    std::unique_ptr<Qt3DRender::QRenderCaptureReply> reply(m_view->requestCapture());
    if (!QTest::qWaitFor([&] { return reply->isComplete(); }, 30'000))
        return {};
    return reply->image().convertToFormat(QImage::Format_RGB32);
}

void tst_PlanetCull::onlyChunksInViewAreDrawnAndThePictureIsTheSame_data()
{
    QTest::addColumn<float>("yaw");
    QTest::addColumn<float>("pitch");
    QTest::addColumn<float>("zoom"); // 0: the closest, 1: the widest the mesh draws
    QTest::addColumn<double>("mostShare"); // of the mesh's triangles drawn
    QTest::newRow("closest") << 0.0f << 0.35f << 0.0f << 0.01;
    QTest::newRow("closest, near the south pole") << 2.0f << -1.45f << 0.0f << 0.01;
    QTest::newRow("a region") << 1.0f << 0.8f << 0.3f << 0.06;
    QTest::newRow("the widest mesh zoom") << -2.5f << 1.2f << 1.0f << 0.3;
}

void tst_PlanetCull::onlyChunksInViewAreDrawnAndThePictureIsTheSame()
{
    QFETCH(float, yaw);
    QFETCH(float, pitch);
    QFETCH(float, zoom);
    QFETCH(double, mostShare);
    hex::client::OrbitCamera *orbit = m_view->orbitCamera();
    orbit->setYaw(yaw);
    orbit->setPitch(pitch);
    orbit->setDistance(orbit->minimumDistance()
                       + zoom * (m_widestMeshDistance - orbit->minimumDistance()));
    QVERIFY(!m_view->isFarView());

    m_view->setCulling(true);
    const QImage culled = capture();
    QVERIFY(!culled.isNull());
    const double share = double(m_view->drawnTriangles()) / double(m_view->meshTriangles());
    QVERIFY2(share > 0.0 && share <= mostShare, qPrintable(QString::number(share)));

    m_view->setCulling(false);
    QCOMPARE(m_view->drawnTriangles(), m_view->meshTriangles());
    const QImage whole = capture();
    m_view->setCulling(true);
    QVERIFY(!whole.isNull());

    const QString name = QString::fromLatin1(QTest::currentDataTag())
                             .remove(QLatin1Char(','))
                             .replace(QLatin1Char(' '), QLatin1Char('-'));
    culled.save(kArtifacts + QStringLiteral("/planetcull-%1.png").arg(name));
    // The planet fills the view up close: nothing of space shows through.
    if (zoom == 0.0f) {
        int space = 0;
        for (int y = 0; y < culled.height(); ++y) {
            for (int x = 0; x < culled.width(); ++x)
                space += culled.pixel(x, y) == kSpace ? 1 : 0;
        }
        QCOMPARE(space, 0);
    }
    if (culled != whole) {
        whole.save(kArtifacts + QStringLiteral("/planetcull-%1-whole.png").arg(name));
        int differ = 0;
        for (int y = 0; y < culled.height(); ++y) {
            for (int x = 0; x < culled.width(); ++x)
                differ += culled.pixel(x, y) != whole.pixel(x, y) ? 1 : 0;
        }
        QFAIL(qPrintable(QStringLiteral("%1 pixels differ from the whole mesh's picture").arg(differ)));
    }
}

QTEST_MAIN(tst_PlanetCull)
#include "tst_planetcull.moc"
