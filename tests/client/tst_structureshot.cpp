// A structure built on the planet is drawn as a mesh: a tiny world is hosted in-process,
// joined, a cell claimed and a furnace built there, and the window is captured before
// and after (and with the structure layer hidden, to isolate the mesh from the cell's
// recolouring). Needs an X display (CTest wraps it in xvfb-run).
#include "app/hostedserver.h"
#include "net/serverconnection.h"
#include "render/orbitcamera.h"
#include "render/picking.h"
#include "render/planetview.h"
#include "render/machinelayer.h"
#include "render/structurelayer.h"
#include "ui/mainwindow.h"
#include "ui/windowcapture.h"

#include "protocol/worldcodec.h"
#include "sim/actions.h"
#include "sim/terrain.h"

#include <Qt3DExtras/Qt3DWindow>

#include <QDir>
#include <QImage>
#include <QMatrix4x4>
#include <QSignalSpy>
#include <QTest>

#include <algorithm>
#include <deque>
#include <map>
#include <cmath>
#include <optional>

using hex::client::HostedServer;
using hex::client::MainWindow;
using hex::client::PlanetView;
using hex::client::ServerConnection;
using hex::client::StructureShape;
using hex::client::WindowCapture;
using hex::geometry::CellId;

namespace {

const QString kArtifacts = QStringLiteral(HEX_ARTIFACTS_DIR);

hex::server::ServerConfig tinyWorld()
{
    hex::server::ServerConfig config;
    config.worldName = QStringLiteral("Structures");
    config.subdivisions = 8;
    config.ups = 30;
    config.port = 0;
    config.bindAddress = QHostAddress(QHostAddress::LocalHost);
    return config;
}

QVector3D toQt(const hex::geometry::Vec3 &v)
{
    return QVector3D(v.x, v.y, v.z);
}

/// Where the scene point `point` lands in the 3D window, in pixels.
QPointF project(const PlanetView &view, const QVector3D &point)
{
    const hex::client::CameraPose pose = view.cameraPose();
    const QSize size = view.viewportSize();
    QMatrix4x4 projection;
    projection.perspective(pose.fieldOfView, float(size.width()) / float(size.height()), 0.01f,
                           10.0f);
    QMatrix4x4 look;
    look.lookAt(pose.position, pose.viewCentre, pose.up);
    const QVector3D ndc = (projection * look).map(point);
    return QPointF((ndc.x() + 1.0) * 0.5 * size.width(), (1.0 - ndc.y()) * 0.5 * size.height());
}

} // namespace

class tst_StructureShot : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void aBuiltFurnaceIsDrawnOnItsCell();
    void aWorkingExtractorShowsItsProgressAndItsItems();
    void serverFramesWaitForTheNextDrawnFrame();

private:
    /// Waits for `frames` more frames of the 3D view.
    bool waitFrames(int frames);
    QImage capture();
    /// An unclaimed land cell near the middle of the view.
    std::optional<CellId> landCellInView() const;
    bool act(const hex::sim::Action &action);

    HostedServer *m_host = nullptr;
    ServerConnection *m_connection = nullptr;
    MainWindow *m_window = nullptr;
};

void tst_StructureShot::initTestCase()
{
    if (qEnvironmentVariableIsEmpty("DISPLAY"))
        QSKIP("No X display: run through CTest, which provides one with xvfb-run.");
    QVERIFY(QDir().mkpath(kArtifacts));
    m_host = new HostedServer(this);
    QSignalSpy started(m_host, &HostedServer::started);
    m_host->start(tinyWorld());
    QTRY_COMPARE_WITH_TIMEOUT(started.size(), 1, 30'000);

    m_connection = new ServerConnection(this);
    m_window = new MainWindow(m_connection);
    m_window->resize(1000, 700);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    m_connection->open(m_host->joinUrl(), QStringLiteral("Builder"));
    QTRY_VERIFY_WITH_TIMEOUT(m_window->hasPlanet(), 30'000);
    QVERIFY(m_connection->playerId() != hex::sim::kNoPlayer);
    QVERIFY(waitFrames(5));
}

void tst_StructureShot::cleanupTestCase()
{
    delete m_window;
    if (m_host)
        m_host->stop();
}

bool tst_StructureShot::waitFrames(int frames)
{
    const quint64 target = m_window->planetView()->framesSincePlanet() + quint64(frames);
    return QTest::qWaitFor([&] { return m_window->planetView()->framesSincePlanet() >= target; },
                           30'000);
}

QImage tst_StructureShot::capture()
{
    WindowCapture capture(m_window, m_window->planetView());
    QSignalSpy captured(&capture, &WindowCapture::captured);
    QSignalSpy failed(&capture, &WindowCapture::failed);
    capture.capture();
    if (!QTest::qWaitFor([&] { return !captured.isEmpty() || !failed.isEmpty(); }, 20'000)
        || captured.isEmpty())
        return {};
    return captured.first().at(0).value<QImage>().convertToFormat(QImage::Format_RGB32);
}

std::optional<CellId> tst_StructureShot::landCellInView() const
{
    const PlanetView *view = m_window->planetView();
    const QSize size = view->viewportSize();
    const hex::protocol::VisibleCells &cells = m_connection->cells();
    // Spiral outwards from the middle.
    for (int radius = 0; radius < size.height() / 3; radius += 6) {
        for (int step = 0; step < 16; ++step) {
            const double angle = step * 2 * M_PI / 16;
            const QPointF pixel(size.width() / 2 + radius * std::cos(angle),
                                size.height() / 2 + radius * std::sin(angle));
            const std::optional<CellId> cell = view->cellAtPixel(pixel);
            if (!cell || hex::geometry::HexSphere::isPentagon(*cell))
                continue;
            const auto terrain = hex::sim::Terrain(cells.terrain[*cell]);
            if (terrain != hex::sim::Terrain::DeepWater
                && terrain != hex::sim::Terrain::ShallowWater
                && cells.owner[*cell] == hex::sim::kNoPlayer
                && cells.structure[*cell] == hex::sim::kNoStructure)
                return cell;
        }
    }
    return std::nullopt;
}

bool tst_StructureShot::act(const hex::sim::Action &action)
{
    QSignalSpy results(m_connection, &ServerConnection::actionResult);
    const quint32 seq = m_connection->sendAction(action);
    if (seq == 0 || !QTest::qWaitFor([&] { return !results.isEmpty(); }, 10'000))
        return false;
    if (results.first().at(2).toInt() != 0)
        qWarning() << "refused:" << results.first().at(3).toString();
    return results.first().at(0).toUInt() == seq && results.first().at(2).toInt() == 0;
}

void tst_StructureShot::aBuiltFurnaceIsDrawnOnItsCell()
{
    PlanetView *view = m_window->planetView();
    const std::optional<CellId> found = landCellInView();
    QVERIFY2(found, "some unclaimed land is in view");
    const CellId cell = *found;

    // Look at the cell from a little south of it, a few cells above the ground.
    const QVector3D up
        = PlanetView::planetOrientation().rotatedVector(toQt(m_connection->sphere()->centre(cell)));
    hex::client::OrbitCamera *orbit = view->orbitCamera();
    orbit->setYaw(std::atan2(up.x(), up.z()));
    orbit->setPitch(std::asin(up.y()) - 0.3f);
    orbit->setDistance(1.45f);
    QVERIFY(waitFrames(5));

    hex::sim::Action claim;
    claim.kind = hex::sim::ActionKind::Claim;
    claim.cell = cell;
    QVERIFY(act(claim));
    QTRY_COMPARE_WITH_TIMEOUT(m_connection->cells().owner[cell], m_connection->playerId(), 5'000);
    QVERIFY(waitFrames(10));
    const QImage before = capture();
    QVERIFY(!before.isNull());
    QVERIFY(before.save(kArtifacts + QStringLiteral("/structure-before.png")));

    hex::sim::PrototypeId furnace = hex::sim::kNoStructure;
    QVERIFY(m_window->content().findPrototype(QStringLiteral("furnace"), &furnace));
    hex::sim::Action build;
    build.kind = hex::sim::ActionKind::Build;
    build.cell = cell;
    build.prototype = furnace;
    build.orientation = 0;
    QVERIFY(act(build));
    QTRY_COMPARE_WITH_TIMEOUT(m_connection->cells().structure[cell], furnace, 5'000);
    QTRY_COMPARE(view->structureLayer()->instanceCount(StructureShape::Furnace), 1);

    // A conveyor on a land neighbour, feeding the furnace: shows the belt's chevron.
    const hex::geometry::HexSphere &sphere = *m_connection->sphere();
    hex::sim::PrototypeId conveyor = hex::sim::kNoStructure;
    QVERIFY(m_window->content().findPrototype(QStringLiteral("conveyor"), &conveyor));
    for (const CellId neighbour : sphere.neighbours(cell)) {
        const auto terrain = hex::sim::Terrain(m_connection->cells().terrain[neighbour]);
        if (terrain == hex::sim::Terrain::DeepWater || terrain == hex::sim::Terrain::ShallowWater
            || m_connection->cells().owner[neighbour] != hex::sim::kNoPlayer)
            continue;
        claim.cell = neighbour;
        if (!act(claim))
            continue;
        const auto around = sphere.neighbours(neighbour);
        build.cell = neighbour;
        build.prototype = conveyor;
        build.orientation
            = std::uint8_t(std::find(around.begin(), around.end(), cell) - around.begin());
        QVERIFY(act(build));
        QTRY_COMPARE(view->structureLayer()->instanceCount(StructureShape::Conveyor), 1);
        break;
    }
    QVERIFY(waitFrames(10));
    const QImage after = capture();
    QVERIFY(!after.isNull());
    QVERIFY(after.save(kArtifacts + QStringLiteral("/structure-after.png")));

    view->structureLayer()->setVisible(false);
    QVERIFY(waitFrames(10));
    const QImage hidden = capture();
    QVERIFY(hidden.save(kArtifacts + QStringLiteral("/structure-hidden.png")));
    view->structureLayer()->setVisible(true);

    // Where the cell is in the captured window, and how big.
    const QPoint offset = view->mapTo(m_window, QPoint(0, 0));
    const QPointF centre = project(*view, up) + offset;
    const QVector3D corner = PlanetView::planetOrientation().rotatedVector(
        toQt(m_connection->sphere()->corners(cell).points[0]));
    const double cellPixels = QLineF(centre, project(*view, corner) + offset).length();
    QVERIFY2(cellPixels > 8, qPrintable(QString::number(cellPixels)));
    const int reach = int(cellPixels * 1.2);

    const QRect closeUp
        = QRect(centre.toPoint() - QPoint(reach * 2, reach * 2), QSize(reach * 4, reach * 4))
              .intersected(after.rect());
    QVERIFY(after.copy(closeUp)
                .scaled(closeUp.size() * 3)
                .save(kArtifacts + QStringLiteral("/structure-closeup.png")));

    // The mesh alone: pixels that differ between the build shown and hidden. A furnace is
    // red (celllook's structure palette): count the red ones.
    int differing = 0, red = 0, changedByBuild = 0;
    const QRect area = QRect(centre.toPoint() - QPoint(reach, reach), QSize(2 * reach, 2 * reach))
                           .intersected(after.rect());
    for (int y = area.top(); y <= area.bottom(); ++y) {
        for (int x = area.left(); x <= area.right(); ++x) {
            const QRgb a = after.pixel(x, y), h = hidden.pixel(x, y), b = before.pixel(x, y);
            auto distance = [](QRgb p, QRgb q) {
                return qAbs(qRed(p) - qRed(q)) + qAbs(qGreen(p) - qGreen(q))
                       + qAbs(qBlue(p) - qBlue(q));
            };
            if (distance(a, b) > 60)
                ++changedByBuild;
            if (distance(a, h) <= 60)
                continue;
            ++differing;
            if (qRed(a) > qGreen(a) + 40 && qRed(a) > qBlue(a) + 40)
                ++red;
        }
    }
    qInfo() << "cell" << cell << "at" << centre << "radius" << cellPixels << "px:" << differing
            << "pixels are the mesh," << red << "of them red;" << changedByBuild
            << "changed by the build";
    QVERIFY2(differing > int(cellPixels * cellPixels), "the mesh covers most of its cell");
    QVERIFY2(red > differing / 3, "the mesh is in the furnace's colour");
    QVERIFY(changedByBuild >= differing / 2);

    // From the farthest zoom, the furnace is still a dot of its colour.
    orbit->setDistance(orbit->maximumDistance());
    QVERIFY(waitFrames(10));
    const QImage far = capture();
    QVERIFY(far.save(kArtifacts + QStringLiteral("/structure-far.png")));
    view->structureLayer()->setVisible(false);
    QVERIFY(waitFrames(10));
    const QImage farHidden = capture();
    view->structureLayer()->setVisible(true);
    const QPoint farCentre = (project(*view, up) + offset).toPoint();
    int farDiffering = 0;
    for (int y = farCentre.y() - 8; y <= farCentre.y() + 8; ++y) {
        for (int x = farCentre.x() - 8; x <= farCentre.x() + 8; ++x) {
            const QRgb a = far.pixel(x, y), h = farHidden.pixel(x, y);
            farDiffering
                += qAbs(qRed(a) - qRed(h)) + qAbs(qGreen(a) - qGreen(h)) + qAbs(qBlue(a) - qBlue(h))
                   > 40;
        }
    }
    qInfo() << "from afar:" << farDiffering << "pixels are the structures";
    QVERIFY2(farDiffering >= 4, "the structure is a visible dot from afar");
}

void tst_StructureShot::aWorkingExtractorShowsItsProgressAndItsItems()
{
    const hex::geometry::HexSphere &sphere = *m_connection->sphere();
    const hex::protocol::VisibleCells &cells = m_connection->cells();
    const auto free = [&](CellId c) {
        return !hex::geometry::HexSphere::isPentagon(c) && cells.owner[c] == hex::sim::kNoPlayer
               && cells.structure[c] == hex::sim::kNoStructure;
    };
    const auto land = [&](CellId c) {
        const auto terrain = hex::sim::Terrain(cells.terrain[c]);
        return terrain != hex::sim::Terrain::DeepWater
               && terrain != hex::sim::Terrain::ShallowWater;
    };
    // A free deposit on land with a free land neighbour for the belt, nearest (by claims)
    // to the land the player holds.
    std::map<CellId, CellId> cameFrom;
    std::deque<CellId> queue;
    for (CellId c = 0; c < sphere.cellCount(); ++c) {
        if (cells.owner[c] == m_connection->playerId()) {
            cameFrom[c] = c;
            queue.push_back(c);
        }
    }
    QVERIFY2(!queue.empty(), "the first case left the player some land");
    std::optional<std::pair<CellId, CellId>> site;
    while (!queue.empty() && !site) {
        const CellId here = queue.front();
        queue.pop_front();
        for (const CellId next : sphere.neighbours(here)) {
            if (cameFrom.contains(next) || !free(next))
                continue;
            cameFrom[next] = here;
            queue.push_back(next);
            if (cells.resource[next] == 0 || !land(next))
                continue;
            for (const CellId belt : sphere.neighbours(next)) {
                if (free(belt) && land(belt) && !cameFrom.contains(belt)) {
                    site = std::pair(next, belt);
                    break;
                }
            }
            if (site)
                break;
        }
    }
    QVERIFY2(site, "a deposit can be reached");
    const auto [deposit, beltCell] = *site;

    // Claim the way there, the deposit and the belt's cell.
    std::vector<CellId> path;
    for (CellId c = deposit; cameFrom[c] != c; c = cameFrom[c])
        path.push_back(c);
    std::reverse(path.begin(), path.end());
    path.push_back(beltCell);
    hex::sim::Action claim;
    claim.kind = hex::sim::ActionKind::Claim;
    for (const CellId c : path) {
        claim.cell = c;
        QVERIFY(act(claim));
    }

    // An extractor facing the belt, and the belt leading away from it.
    hex::sim::PrototypeId extractor = hex::sim::kNoStructure;
    hex::sim::PrototypeId conveyor = hex::sim::kNoStructure;
    QVERIFY(m_window->content().findPrototype(QStringLiteral("extractor"), &extractor));
    QVERIFY(m_window->content().findPrototype(QStringLiteral("conveyor"), &conveyor));
    const auto slotOf = [&](CellId cell, CellId other) {
        const auto around = sphere.neighbours(cell);
        return int(std::find(around.begin(), around.end(), other) - around.begin());
    };
    hex::sim::Action build;
    build.kind = hex::sim::ActionKind::Build;
    build.cell = deposit;
    build.prototype = extractor;
    build.orientation = std::uint8_t(slotOf(deposit, beltCell));
    QVERIFY(act(build));
    build.cell = beltCell;
    build.prototype = conveyor;
    const int sides = int(sphere.neighbours(beltCell).size());
    build.orientation = std::uint8_t((slotOf(beltCell, deposit) + sides / 2) % sides);
    QVERIFY(act(build));

    // Look at the two from above.
    PlanetView *view = m_window->planetView();
    const QVector3D up = PlanetView::planetOrientation().rotatedVector(
        toQt(sphere.centre(deposit)) + toQt(sphere.centre(beltCell)));
    hex::client::OrbitCamera *orbit = view->orbitCamera();
    orbit->setYaw(std::atan2(up.x(), up.z()));
    orbit->setPitch(std::asin(up.normalized().y()) - 0.25f);
    orbit->setDistance(1.35f);

    // The extractor works (a bar over it) and its ore rides the belt (boxes on it).
    const hex::client::StructurePlacement beltAt
        = hex::client::StructureLayer::placement(sphere, beltCell, build.orientation);
    const auto itemOnBelt = [&] {
        const hex::client::MachineLayer *layer = m_window->machineLayer();
        if (!layer)
            return false;
        const std::span<const float> data = layer->instanceData();
        for (std::size_t i = 0; i + 15 <= data.size(); i += 15) {
            const QVector3D centre(data[i], data[i + 1], data[i + 2]);
            const QVector3D size(data[i + 9], data[i + 10], data[i + 11]);
            // Items are cubes; progress bars are long and thin.
            if (std::abs(size.x() - size.y()) < 1e-6f
                && (centre - beltAt.position).length() < beltAt.scale * 1.2f)
                return true;
        }
        return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(itemOnBelt(), 20'000);
    QVERIFY(m_window->machineLayer()->instanceCount() >= 3); // the bar, its fill, an item
    QVERIFY(waitFrames(5));
    const QImage machines = capture();
    QVERIFY(!machines.isNull());
    QVERIFY(machines.save(kArtifacts + QStringLiteral("/machines.png")));
}

void tst_StructureShot::serverFramesWaitForTheNextDrawnFrame()
{
    // Work given during a frame runs once that frame is drawn, before the next one.
    PlanetView *view = m_window->planetView();
    std::vector<std::pair<quint64, quint64>> givenAndRun; // frame counts
    bool given = false;
    const auto connection = connect(view, &PlanetView::frameRendered, this, [&] {
        if (given)
            return;
        given = true;
        const quint64 frame = view->framesSincePlanet();
        view->runAfterFrame([&, frame] {
            givenAndRun.emplace_back(frame, view->framesSincePlanet());
        });
    });
    QTRY_COMPARE_WITH_TIMEOUT(givenAndRun.size(), std::size_t(1), 10'000);
    disconnect(connection);
    QCOMPARE(givenAndRun.front().second, givenAndRun.front().first);

    // The window handles what the server sends that way: frames wait, then go together.
    std::size_t mostHeld = 0;
    std::vector<quint64> ticks;
    const auto watch = connect(view, &PlanetView::frameRendered, this, [&] {
        mostHeld = std::max(mostHeld, m_connection->heldFrames());
    });
    const auto counter = connect(m_connection, &ServerConnection::tickReceived, this,
                                 [&](quint64 tick) { ticks.push_back(tick); });
    QTRY_VERIFY_WITH_TIMEOUT(ticks.size() >= 10, 10'000);
    disconnect(watch);
    disconnect(counter);
    QVERIFY2(mostHeld >= 1, "no frame of the server's was ever held for a drawn frame");
    for (std::size_t i = 1; i < ticks.size(); ++i)
        QCOMPARE(ticks[i], ticks[i - 1] + 1);
}

QTEST_MAIN(tst_StructureShot)
#include "tst_structureshot.moc"
