#include "render/orbitcamera.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QTest>
#include <QWheelEvent>

#include <cmath>
#include <numbers>

using hex::client::OrbitCamera;

namespace {

constexpr float kPi = std::numbers::pi_v<float>;
constexpr float kMin = 1.1f;
constexpr float kMax = 3.0f;

/// A camera with the limits every row uses, at `distance`.
void setUp(OrbitCamera &camera, float distance = 2.0f)
{
    camera.setPlanetRadius(1.0f);
    camera.setDistanceLimits(kMin, kMax);
    camera.setViewportHeight(600);
    camera.setDistance(distance);
}

/// Runs the glide long enough to arrive.
void settle(OrbitCamera &camera)
{
    for (int i = 0; i < 600; ++i)
        camera.advance(1.0f / 60.0f);
}

bool fuzzyEqual(float a, float b, float tolerance = 1e-4f)
{
    return std::abs(a - b) <= tolerance * std::max(1.0f, std::abs(b));
}

} // namespace

class tst_OrbitCamera : public QObject
{
    Q_OBJECT

private slots:
    void zoomClamps_data();
    void zoomClamps();
    void zoomGlidesMonotonically();
    void pitchClamps_data();
    void pitchClamps();
    void yawWraps_data();
    void yawWraps();
    void positionOnOrbitSphere_data();
    void positionOnOrbitSphere();
    void limitsClampDistance_data();
    void limitsClampDistance();
    void clipPlanesEncloseVisiblePlanet_data();
    void clipPlanesEncloseVisiblePlanet();
    void input_data();
    void input();
    void reboundKeys();
};

void tst_OrbitCamera::zoomClamps_data()
{
    QTest::addColumn<float>("start");
    QTest::addColumn<float>("steps");
    QTest::addColumn<float>("expected");

    QTest::newRow("far in stops at the minimum") << 2.0f << 50.0f << kMin;
    QTest::newRow("far out stops at the maximum") << 2.0f << -50.0f << kMax;
    QTest::newRow("one step in scales the altitude") << 2.0f << 1.0f << 1.0f + 0.8f;
    QTest::newRow("two steps out scale it twice") << 1.5f << -2.0f << 1.0f + 0.5f / 0.64f;
    QTest::newRow("in at the minimum stays there") << kMin << 1.0f << kMin;
    QTest::newRow("out at the maximum stays there") << kMax << -1.0f << kMax;
    QTest::newRow("no steps, no change") << 2.5f << 0.0f << 2.5f;
}

void tst_OrbitCamera::zoomClamps()
{
    QFETCH(float, start);
    QFETCH(float, steps);
    QFETCH(float, expected);

    OrbitCamera camera;
    setUp(camera, start);
    camera.zoomBy(steps);
    QVERIFY2(fuzzyEqual(camera.targetDistance(), expected),
             qPrintable(QString::number(camera.targetDistance())));
    settle(camera);
    QVERIFY2(fuzzyEqual(camera.distance(), expected),
             qPrintable(QString::number(camera.distance())));
    QVERIFY(camera.distance() >= kMin && camera.distance() <= kMax);
}

void tst_OrbitCamera::zoomGlidesMonotonically()
{
    OrbitCamera camera;
    setUp(camera, kMax);
    camera.zoomBy(4.0f);
    float previous = camera.distance();
    camera.advance(1.0f / 60.0f);
    QVERIFY2(camera.distance() < previous, "the first frame already moves");
    QVERIFY2(camera.distance() > camera.targetDistance(), "but does not jump");
    for (int i = 0; i < 300; ++i) {
        previous = camera.distance();
        camera.advance(1.0f / 60.0f);
        QVERIFY(camera.distance() <= previous);
        QVERIFY(camera.distance() >= camera.targetDistance());
    }
    QCOMPARE(camera.distance(), camera.targetDistance());
}

void tst_OrbitCamera::pitchClamps_data()
{
    QTest::addColumn<float>("pitch");
    QTest::addColumn<float>("expected");

    QTest::newRow("equator") << 0.0f << 0.0f;
    QTest::newRow("within range, north") << 1.0f << 1.0f;
    QTest::newRow("within range, south") << -1.2f << -1.2f;
    QTest::newRow("past the north pole") << 2.0f << OrbitCamera::kMaxPitch;
    QTest::newRow("past the south pole") << -3.0f << -OrbitCamera::kMaxPitch;
    QTest::newRow("exactly the limit") << OrbitCamera::kMaxPitch << OrbitCamera::kMaxPitch;
}

void tst_OrbitCamera::pitchClamps()
{
    QFETCH(float, pitch);
    QFETCH(float, expected);

    OrbitCamera camera;
    setUp(camera);
    camera.setPitch(pitch);
    QCOMPARE(camera.pitch(), expected);
}

void tst_OrbitCamera::yawWraps_data()
{
    QTest::addColumn<float>("yaw");
    QTest::addColumn<float>("expected");

    QTest::newRow("zero") << 0.0f << 0.0f;
    QTest::newRow("a quarter turn") << kPi / 2 << kPi / 2;
    QTest::newRow("a turn and a bit") << 2 * kPi + 0.5f << 0.5f;
    QTest::newRow("just past minus pi") << -kPi - 0.1f << kPi - 0.1f;
    QTest::newRow("minus pi becomes pi") << -kPi << kPi;
    QTest::newRow("many turns back") << -6 * kPi - 1.0f << -1.0f;
}

void tst_OrbitCamera::yawWraps()
{
    QFETCH(float, yaw);
    QFETCH(float, expected);

    OrbitCamera camera;
    setUp(camera);
    camera.setYaw(yaw);
    QVERIFY2(fuzzyEqual(camera.yaw(), expected, 1e-5f), qPrintable(QString::number(camera.yaw())));
    QVERIFY(camera.yaw() > -kPi && camera.yaw() <= kPi);
}

void tst_OrbitCamera::positionOnOrbitSphere_data()
{
    QTest::addColumn<float>("yaw");
    QTest::addColumn<float>("pitch");
    QTest::addColumn<float>("distance");
    QTest::addColumn<QVector3D>("expected");

    QTest::newRow("yaw 0 looks from +Z") << 0.0f << 0.0f << 2.0f << QVector3D(0, 0, 2);
    QTest::newRow("a quarter turn looks from +X") << kPi / 2 << 0.0f << 2.0f << QVector3D(2, 0, 0);
    QTest::newRow("half a turn looks from -Z") << kPi << 0.0f << 1.5f << QVector3D(0, 0, -1.5f);
    QTest::newRow("pitch up lifts the camera")
        << 0.0f << kPi / 6 << 2.0f << QVector3D(0, 1.0f, 2.0f * std::cos(kPi / 6));
    QTest::newRow("pitch down lowers it")
        << 0.0f << -kPi / 4 << 3.0f
        << QVector3D(0, -3.0f * std::sin(kPi / 4), 3.0f * std::cos(kPi / 4));
    QTest::newRow("near the pole")
        << 1.0f << OrbitCamera::kMaxPitch << 1.2f
        << 1.2f
               * QVector3D(std::cos(OrbitCamera::kMaxPitch) * std::sin(1.0f),
                           std::sin(OrbitCamera::kMaxPitch),
                           std::cos(OrbitCamera::kMaxPitch) * std::cos(1.0f));
}

void tst_OrbitCamera::positionOnOrbitSphere()
{
    QFETCH(float, yaw);
    QFETCH(float, pitch);
    QFETCH(float, distance);
    QFETCH(QVector3D, expected);

    OrbitCamera camera;
    setUp(camera);
    camera.setYaw(yaw);
    camera.setPitch(pitch);
    camera.setDistance(distance);

    const QVector3D position = camera.position();
    QVERIFY2(fuzzyEqual(position.length(), distance), "on the orbit sphere");
    QVERIFY2(
        (position - expected).length() < 1e-4f,
        qPrintable(
            QStringLiteral("(%1, %2, %3)").arg(position.x()).arg(position.y()).arg(position.z())));
    const QVector3D up = camera.upVector();
    QVERIFY2(fuzzyEqual(up.length(), 1.0f), "up is a unit vector");
    QVERIFY2(std::abs(QVector3D::dotProduct(up, position)) < 1e-4f, "up is tangent");
    QVERIFY2(up.y() > 0.0f, "up points north");
}

void tst_OrbitCamera::limitsClampDistance_data()
{
    QTest::addColumn<float>("minimum");
    QTest::addColumn<float>("maximum");
    QTest::addColumn<float>("expectedMinimum");
    QTest::addColumn<float>("expectedMaximum");
    QTest::addColumn<float>("expectedDistance");

    QTest::newRow("limits around the distance keep it") << 1.5f << 4.0f << 1.5f << 4.0f << 2.0f;
    QTest::newRow("a lower maximum pulls it in") << 1.2f << 1.8f << 1.2f << 1.8f << 1.8f;
    QTest::newRow("a higher minimum pushes it out") << 2.5f << 5.0f << 2.5f << 5.0f << 2.5f;
    QTest::newRow("a minimum inside the planet is raised")
        << 0.5f << 3.0f << 1.0001f << 3.0f << 2.0f;
    QTest::newRow("a maximum below the minimum is raised") << 2.2f << 1.5f << 2.2f << 2.2f << 2.2f;
}

void tst_OrbitCamera::limitsClampDistance()
{
    QFETCH(float, minimum);
    QFETCH(float, maximum);
    QFETCH(float, expectedMinimum);
    QFETCH(float, expectedMaximum);
    QFETCH(float, expectedDistance);

    OrbitCamera camera;
    setUp(camera, 2.0f);
    camera.setDistanceLimits(minimum, maximum);
    QVERIFY(fuzzyEqual(camera.minimumDistance(), expectedMinimum));
    QVERIFY(fuzzyEqual(camera.maximumDistance(), expectedMaximum));
    QVERIFY(fuzzyEqual(camera.distance(), expectedDistance));
    QVERIFY(fuzzyEqual(camera.targetDistance(), expectedDistance));
}

void tst_OrbitCamera::clipPlanesEncloseVisiblePlanet_data()
{
    QTest::addColumn<float>("distance");
    QTest::newRow("whole planet") << kMax;
    QTest::newRow("middle") << 1.6f;
    QTest::newRow("closest") << kMin;
}

void tst_OrbitCamera::clipPlanesEncloseVisiblePlanet()
{
    QFETCH(float, distance);
    OrbitCamera camera;
    setUp(camera, distance);
    const float altitude = distance - 1.0f;
    const float horizon = std::sqrt(distance * distance - 1.0f);
    QVERIFY(camera.nearPlane() > 0.0f);
    QVERIFY2(camera.nearPlane() < altitude, "the nearest ground is beyond the near plane");
    QVERIFY2(camera.farPlane() > horizon, "the horizon is before the far plane");
}

void tst_OrbitCamera::input_data()
{
    // What each input does, told by the sign of the change it makes.
    QTest::addColumn<QString>("input");
    QTest::addColumn<int>("yawSign");
    QTest::addColumn<int>("pitchSign");
    QTest::addColumn<int>("zoomSign"); // +1: target comes closer

    QTest::newRow("left arrow held turns west") << "key Left" << -1 << 0 << 0;
    QTest::newRow("D held turns east") << "key D" << 1 << 0 << 0;
    QTest::newRow("up arrow held turns north") << "key Up" << 0 << 1 << 0;
    QTest::newRow("S held turns south") << "key S" << 0 << -1 << 0;
    QTest::newRow("plus zooms in") << "key Plus" << 0 << 0 << 1;
    QTest::newRow("minus zooms out") << "key Minus" << 0 << 0 << -1;
    QTest::newRow("wheel forward zooms in") << "wheel 120" << 0 << 0 << 1;
    QTest::newRow("wheel back zooms out") << "wheel -120" << 0 << 0 << -1;
    QTest::newRow("dragging right turns west") << "drag 100 0" << -1 << 0 << 0;
    QTest::newRow("dragging down turns north") << "drag 0 80" << 0 << 1 << 0;
    QTest::newRow("an unrelated key does nothing") << "key Q" << 0 << 0 << 0;
}

void tst_OrbitCamera::input()
{
    QFETCH(QString, input);
    QFETCH(int, yawSign);
    QFETCH(int, pitchSign);
    QFETCH(int, zoomSign);

    OrbitCamera camera;
    setUp(camera, 2.0f);
    QObject window;
    const float yaw = camera.yaw();
    const float pitch = camera.pitch();
    const float target = camera.targetDistance();

    const QStringList words = input.split(QLatin1Char(' '));
    if (words[0] == QLatin1String("key")) {
        static const QHash<QString, int> keys = {
            {"Left", Qt::Key_Left}, {"D", Qt::Key_D},         {"Up", Qt::Key_Up}, {"S", Qt::Key_S},
            {"Plus", Qt::Key_Plus}, {"Minus", Qt::Key_Minus}, {"Q", Qt::Key_Q},
        };
        const int key = keys.value(words[1]);
        QKeyEvent press(QEvent::KeyPress, key, Qt::NoModifier);
        camera.eventFilter(&window, &press);
        camera.advance(0.2f);
        QKeyEvent release(QEvent::KeyRelease, key, Qt::NoModifier);
        camera.eventFilter(&window, &release);
        const float afterRelease = camera.yaw();
        camera.advance(0.2f);
        QCOMPARE(camera.yaw(), afterRelease); // Released keys stop turning.
    } else if (words[0] == QLatin1String("wheel")) {
        const int delta = words[1].toInt();
        QWheelEvent wheel(QPointF(10, 10), QPointF(10, 10), QPoint(), QPoint(0, delta),
                          Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
        QVERIFY(camera.eventFilter(&window, &wheel));
    } else if (words[0] == QLatin1String("drag")) {
        const QPointF from(300, 300);
        const QPointF to = from + QPointF(words[1].toDouble(), words[2].toDouble());
        QMouseEvent press(QEvent::MouseButtonPress, from, from, Qt::LeftButton, Qt::LeftButton,
                          Qt::NoModifier);
        QMouseEvent move(QEvent::MouseMove, to, to, Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
        QMouseEvent release(QEvent::MouseButtonRelease, to, to, Qt::LeftButton, Qt::NoButton,
                            Qt::NoModifier);
        QVERIFY(camera.eventFilter(&window, &press));
        QVERIFY(camera.eventFilter(&window, &move));
        QVERIFY(camera.eventFilter(&window, &release));
    }

    auto sign = [](float change) {
        return change > 1e-6f ? 1 : change < -1e-6f ? -1 : 0;
    };
    QCOMPARE(sign(camera.yaw() - yaw), yawSign);
    QCOMPARE(sign(camera.pitch() - pitch), pitchSign);
    QCOMPARE(sign(target - camera.targetDistance()), zoomSign);
}

void tst_OrbitCamera::reboundKeys()
{
    // The player bound "turn left" to J and "zoom in" to I: those work, A and + no
    // longer do, and the arrow keys still do.
    OrbitCamera camera;
    setUp(camera, 2.0f);
    OrbitCamera::Keys keys;
    keys.left = Qt::Key_J;
    keys.zoomIn = Qt::Key_I;
    camera.setKeys(keys);
    QObject window;
    auto tap = [&](int key) {
        QKeyEvent press(QEvent::KeyPress, key, Qt::NoModifier);
        const bool taken = camera.eventFilter(&window, &press);
        camera.advance(0.2f);
        QKeyEvent release(QEvent::KeyRelease, key, Qt::NoModifier);
        camera.eventFilter(&window, &release);
        return taken;
    };
    float yaw = camera.yaw();
    QVERIFY(tap(Qt::Key_J));
    QVERIFY(camera.yaw() != yaw);
    yaw = camera.yaw();
    QVERIFY(!tap(Qt::Key_A));
    QCOMPARE(camera.yaw(), yaw);
    QVERIFY(tap(Qt::Key_Left));
    QVERIFY(camera.yaw() != yaw);
    const float target = camera.targetDistance();
    QVERIFY(!tap(Qt::Key_Plus));
    QCOMPARE(camera.targetDistance(), target);
    QVERIFY(tap(Qt::Key_I));
    QVERIFY(camera.targetDistance() < target);
}

QTEST_MAIN(tst_OrbitCamera)
#include "tst_orbitcamera.moc"
