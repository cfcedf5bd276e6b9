#include "render/orbitcamera.h"
#include "render/picking.h"
#include "render/planetview.h"

#include "geometry/hexsphere.h"

#include <QMatrix4x4>
#include <QTest>

#include <cmath>
#include <numbers>
#include <limits>
#include <optional>
#include <random>
#include <tuple>

using hex::client::CameraPose;
using hex::client::OrbitCamera;
using hex::client::PlanetView;
using hex::geometry::CellId;
using hex::geometry::HexSphere;

Q_DECLARE_METATYPE(std::optional<CellId>)

namespace {

constexpr float kDegrees = std::numbers::pi_v<float> / 180.0f;

CameraPose orbitPose(float yawDegrees, float pitchDegrees, float distance)
{
    OrbitCamera orbit;
    orbit.setDistanceLimits(1.05f, 10.0f);
    orbit.setYaw(yawDegrees * kDegrees);
    orbit.setPitch(pitchDegrees * kDegrees);
    orbit.setDistance(distance);
    return CameraPose{orbit.position(), QVector3D(0, 0, 0), orbit.upVector(), orbit.fieldOfView()};
}

/// The cell whose centre lies in scene direction `scene`.
CellId cellInScene(const HexSphere &sphere, QVector3D scene)
{
    const QVector3D world = PlanetView::planetOrientation().conjugated().rotatedVector(scene);
    return sphere.cellAt({world.x(), world.y(), world.z()});
}

const HexSphere &testSphere()
{
    static const HexSphere sphere(16);
    return sphere;
}

} // namespace

class tst_Picking : public QObject
{
    Q_OBJECT

private slots:
    void centreHitsTheCellFacingTheCamera_data();
    void centreHitsTheCellFacingTheCamera();
    void pixelsOffTheGlobeHitNothing_data();
    void pixelsOffTheGlobeHitNothing();
    void rotatingTheCameraMovesTheHitWithIt_data();
    void rotatingTheCameraMovesTheHitWithIt();
    void hitProjectsBackToThePixel_data();
    void hitProjectsBackToThePixel();
    void northIsUndone();
    void everyPixelLiesInTheVisibleCap_data();
    void everyPixelLiesInTheVisibleCap();
    void aCameraInsideSeesEverything();
    void theFrustumHoldsWhatIsOnScreen_data();
    void theFrustumHoldsWhatIsOnScreen();
};

void tst_Picking::centreHitsTheCellFacingTheCamera_data()
{
    QTest::addColumn<float>("yaw");
    QTest::addColumn<float>("pitch");
    QTest::addColumn<float>("distance");
    QTest::addColumn<QSize>("viewport");

    QTest::newRow("from the front, whole globe") << 0.0f << 0.0f << 3.0f << QSize(800, 600);
    QTest::newRow("turned a quarter east") << 90.0f << 0.0f << 3.0f << QSize(800, 600);
    QTest::newRow("from high in the north") << 30.0f << 70.0f << 2.0f << QSize(800, 600);
    QTest::newRow("from the south, close up") << -140.0f << -45.0f << 1.1f << QSize(640, 640);
    QTest::newRow("tall narrow view") << 200.0f << 10.0f << 4.0f << QSize(300, 900);
}

void tst_Picking::centreHitsTheCellFacingTheCamera()
{
    QFETCH(float, yaw);
    QFETCH(float, pitch);
    QFETCH(float, distance);
    QFETCH(QSize, viewport);

    const CameraPose pose = orbitPose(yaw, pitch, distance);
    const QPointF centre(viewport.width() / 2.0, viewport.height() / 2.0);
    const std::optional<QVector3D> hit = hex::client::pickSphere(pose, viewport, centre);
    QVERIFY(hit);
    QVERIFY(qFuzzyCompare(hit->length(), 1.0f));
    QVERIFY((*hit - pose.position.normalized()).length() < 1e-4f);

    const std::optional<CellId> cell = hex::client::pickCell(
        testSphere(), PlanetView::planetOrientation(), pose, viewport, centre);
    QCOMPARE(cell, std::optional<CellId>(cellInScene(testSphere(), pose.position)));
}

void tst_Picking::pixelsOffTheGlobeHitNothing_data()
{
    QTest::addColumn<float>("distance");
    QTest::addColumn<QPointF>("pixel");

    QTest::newRow("top left corner") << 3.0f << QPointF(0, 0);
    QTest::newRow("bottom right corner") << 3.0f << QPointF(799, 599);
    QTest::newRow("left edge, mid height") << 3.0f << QPointF(2, 300);
    QTest::newRow("far away, just beside the globe") << 10.0f << QPointF(490, 300);
}

void tst_Picking::pixelsOffTheGlobeHitNothing()
{
    QFETCH(float, distance);
    QFETCH(QPointF, pixel);
    const QSize viewport(800, 600);
    const CameraPose pose = orbitPose(25.0f, 15.0f, distance);
    QCOMPARE(hex::client::pickSphere(pose, viewport, pixel), std::nullopt);
    QCOMPARE(
        hex::client::pickCell(testSphere(), PlanetView::planetOrientation(), pose, viewport, pixel),
        std::nullopt);
    QCOMPARE(hex::client::pickCell(testSphere(), PlanetView::planetOrientation(), pose, QSize(),
                                   QPointF(0, 0)),
             std::nullopt);
}

void tst_Picking::rotatingTheCameraMovesTheHitWithIt_data()
{
    QTest::addColumn<float>("turn");
    QTest::addColumn<QPointF>("pixel");

    QTest::newRow("a little east, off centre") << 10.0f << QPointF(450, 250);
    QTest::newRow("a quarter west, lower left") << -90.0f << QPointF(330, 380);
    QTest::newRow("half a turn, near the limb") << 180.0f << QPointF(560, 300);
}

void tst_Picking::rotatingTheCameraMovesTheHitWithIt()
{
    QFETCH(float, turn);
    QFETCH(QPointF, pixel);
    const QSize viewport(800, 600);
    const CameraPose before = orbitPose(20.0f, 0.0f, 3.0f);
    const CameraPose after = orbitPose(20.0f + turn, 0.0f, 3.0f);

    const std::optional<QVector3D> hitBefore = hex::client::pickSphere(before, viewport, pixel);
    const std::optional<QVector3D> hitAfter = hex::client::pickSphere(after, viewport, pixel);
    QVERIFY(hitBefore && hitAfter);
    // Yaw turns the camera around the scene's Y axis: the same pixel sees the surface
    // point turned the same way.
    const QVector3D expected
        = QQuaternion::fromAxisAndAngle(0, 1, 0, turn).rotatedVector(*hitBefore);
    QVERIFY2((*hitAfter - expected).length() < 1e-4f, "the hit turns with the camera");
    QCOMPARE(hex::client::pickCell(testSphere(), PlanetView::planetOrientation(), after, viewport,
                                   pixel),
             std::optional<CellId>(cellInScene(testSphere(), expected)));
}

void tst_Picking::hitProjectsBackToThePixel_data()
{
    QTest::addColumn<QSize>("viewport");
    QTest::addColumn<QPointF>("pixel");

    QTest::newRow("wide view, upper right") << QSize(1280, 800) << QPointF(780, 300);
    QTest::newRow("square view, lower left") << QSize(500, 500) << QPointF(190, 330);
    QTest::newRow("tall view, centre") << QSize(400, 900) << QPointF(200, 450);
}

void tst_Picking::hitProjectsBackToThePixel()
{
    QFETCH(QSize, viewport);
    QFETCH(QPointF, pixel);
    // Qt3DRender::QCamera builds its matrices with these QMatrix4x4 calls: the ray
    // must agree with what the renderer draws.
    const CameraPose pose = orbitPose(-35.0f, 25.0f, 2.5f);
    const std::optional<QVector3D> hit = hex::client::pickSphere(pose, viewport, pixel);
    QVERIFY(hit);
    QMatrix4x4 projection;
    projection.perspective(pose.fieldOfView, float(viewport.width()) / float(viewport.height()),
                           0.1f, 10.0f);
    QMatrix4x4 view;
    view.lookAt(pose.position, pose.viewCentre, pose.up);
    const QVector3D ndc = (projection * view).map(*hit);
    const QPointF back((ndc.x() + 1.0) * 0.5 * viewport.width(),
                       (1.0 - ndc.y()) * 0.5 * viewport.height());
    QVERIFY2((back - pixel).manhattanLength() < 0.05,
             qPrintable(QStringLiteral("(%1, %2)").arg(back.x()).arg(back.y())));
}

void tst_Picking::northIsUndone()
{
    // Scene +Y is the world's north (+Z): a camera right above the scene's top sees the
    // north pole's cell in the middle.
    const CameraPose pose{QVector3D(0, 3, 0), QVector3D(0, 0, 0), QVector3D(0, 0, -1), 45.0f};
    const QSize viewport(640, 480);
    QCOMPARE(hex::client::pickCell(testSphere(), PlanetView::planetOrientation(), pose, viewport,
                                   QPointF(320, 240)),
             std::optional<CellId>(testSphere().cellAt({0, 0, 1})));
}

void tst_Picking::everyPixelLiesInTheVisibleCap_data()
{
    QTest::addColumn<float>("distance");
    QTest::addColumn<QSize>("viewport");
    QTest::newRow("a few cells across, wide") << 1.02f << QSize(1280, 720);
    QTest::newRow("a few cells across, tall") << 1.02f << QSize(480, 900);
    QTest::newRow("a region") << 1.3f << QSize(1280, 720);
    QTest::newRow("the corners' rays pass the globe by") << 1.85f << QSize(1280, 720);
    QTest::newRow("the whole globe") << 3.5f << QSize(800, 600);
    QTest::newRow("far away") << 9.0f << QSize(640, 480);
}

void tst_Picking::everyPixelLiesInTheVisibleCap()
{
    QFETCH(float, distance);
    QFETCH(QSize, viewport);
    for (const auto &[yaw, pitch] : {std::pair{0.0f, 0.0f}, {37.0f, 20.0f}, {-120.0f, -75.0f}}) {
        const CameraPose pose = orbitPose(yaw, pitch, distance);
        const double cap = hex::client::visibleCapRadians(pose, viewport);
        QVERIFY(cap > 0.0 && cap < std::numbers::pi / 2);
        const QVector3D under = pose.position.normalized();
        // Every pixel on a grid that takes in the edges and corners.
        double farthest = 0.0;
        bool limbInView = false;
        constexpr int kSteps = 40;
        for (int i = 0; i <= kSteps; ++i) {
            for (int j = 0; j <= kSteps; ++j) {
                const QPointF pixel(viewport.width() * double(i) / kSteps,
                                    viewport.height() * double(j) / kSteps);
                const std::optional<QVector3D> hit = hex::client::pickSphere(pose, viewport, pixel);
                if (!hit) {
                    limbInView = true;
                    continue;
                }
                const QVector3D point = hit->normalized();
                const double angle
                    = std::atan2(double(QVector3D::crossProduct(point, under).length()),
                                 double(QVector3D::dotProduct(point, under)));
                QVERIFY2(angle <= cap + 1e-5,
                         qPrintable(QStringLiteral("pixel (%1, %2) shows a point %3 rad from "
                                                   "the camera's, past the cap's %4")
                                        .arg(pixel.x()).arg(pixel.y()).arg(angle).arg(cap)));
                farthest = std::max(farthest, angle);
            }
        }
        // And the cap is no wider than what the pixels show: the horizon when the
        // globe's edge is in view (the pixels next to it see ever closer to it), else
        // about what the corners see.
        const double horizon = std::acos(1.0 / double(pose.position.length()));
        if (limbInView) {
            QVERIFY2(std::abs(cap - horizon) < 1e-6,
                     qPrintable(QStringLiteral("cap %1, horizon %2").arg(cap).arg(horizon)));
        } else {
            QVERIFY(cap < horizon);
            QVERIFY2(farthest >= 0.99 * cap,
                     qPrintable(QStringLiteral("farthest pixel %1 rad, cap %2").arg(farthest).arg(cap)));
        }
    }
}

void tst_Picking::aCameraInsideSeesEverything()
{
    const CameraPose pose{QVector3D(0, 0, 0.5f), QVector3D(0, 0, 0), QVector3D(0, 1, 0), 45.0f};
    QCOMPARE(hex::client::visibleCapRadians(pose, QSize(640, 480)), std::numbers::pi);
}

void tst_Picking::theFrustumHoldsWhatIsOnScreen_data()
{
    QTest::addColumn<QSize>("viewport");
    QTest::newRow("wide") << QSize(1280, 720);
    QTest::newRow("tall") << QSize(480, 900);
}

void tst_Picking::theFrustumHoldsWhatIsOnScreen()
{
    // Points in front of the camera: those that project into the view may show, those
    // that project well outside it do not, and a ball around the latter that reaches
    // back into the view may show again.
    QFETCH(QSize, viewport);
    std::mt19937 random(5);
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    int inside = 0;
    int outside = 0;
    for (const auto &[yaw, pitch, distance] :
         {std::tuple{0.0f, 0.0f, 1.05f}, {50.0f, 30.0f, 1.6f}, {-130.0f, -60.0f, 3.0f}}) {
        const CameraPose pose = orbitPose(yaw, pitch, distance);
        const hex::client::ViewFrustum frustum = hex::client::viewFrustum(pose, viewport);
        for (int i = 0; i < 4000; ++i) {
            const QVector3D point(1.5f * unit(random), 1.5f * unit(random), 1.5f * unit(random));
            const std::optional<QPointF> pixel = hex::client::projectPoint(pose, viewport, point);
            if (!pixel)
                continue;
            const QRectF screen(QPointF(0, 0), QSizeF(viewport));
            // A few pixels of slack either way for float rounding.
            if (screen.adjusted(2, 2, -2, -2).contains(*pixel)) {
                QVERIFY(frustum.mayShow(point, 0.0f));
                ++inside;
            } else if (!screen.adjusted(-2, -2, 2, 2).contains(*pixel)) {
                QVERIFY(!frustum.mayShow(point, 0.0f));
                // How far outside the sides it lies: a ball that wide may show.
                float outBy = -std::numeric_limits<float>::max();
                for (const QVector3D &normal : frustum.inward)
                    outBy = std::max(outBy, -QVector3D::dotProduct(normal, point - frustum.apex));
                QVERIFY(outBy > 0.0f);
                QVERIFY(!frustum.mayShow(point, outBy * 0.99f));
                QVERIFY(frustum.mayShow(point, outBy * 1.01f));
                ++outside;
            }
        }
    }
    QVERIFY2(inside > 100 && outside > 100,
             qPrintable(QStringLiteral("%1 inside, %2 outside").arg(inside).arg(outside)));
}

QTEST_GUILESS_MAIN(tst_Picking)
#include "tst_picking.moc"
