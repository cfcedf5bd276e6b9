// The game window asks the server for what its camera can see, and the server then
// keeps only those chunks current.
#include "app/hostedserver.h"
#include "geometry/chunkcover.h"
#include "net/serverconnection.h"
#include "render/orbitcamera.h"
#include "render/planetview.h"
#include "ui/mainwindow.h"

#include <Qt3DExtras/Qt3DWindow>

#include <QSignalSpy>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <numbers>

using hex::client::HostedServer;
using hex::client::MainWindow;
using hex::client::OrbitCamera;
using hex::client::ServerConnection;
using hex::geometry::CellId;

class tst_ClientView : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void onlyTheChunksInViewKeepChanging();

private:
    HostedServer *m_host = nullptr;
    ServerConnection *m_connection = nullptr;
    MainWindow *m_window = nullptr;
};

void tst_ClientView::initTestCase()
{
    // Large enough for chunks (k = 3, 90 of them) to be much smaller than the view.
    hex::server::ServerConfig config;
    config.worldName = QStringLiteral("View");
    config.subdivisions = 48;
    config.ups = 20;
    config.port = 0;
    config.bindAddress = QHostAddress(QHostAddress::LocalHost);
    m_host = new HostedServer(this);
    QSignalSpy started(m_host, &HostedServer::started);
    m_host->start(config);
    QTRY_COMPARE_WITH_TIMEOUT(started.size(), 1, 30'000);
    m_connection = new ServerConnection(this);
    m_window = new MainWindow(m_connection);
    m_window->planetView()->window3D()->resize(800, 600);
    m_connection->open(m_host->joinUrl(), QStringLiteral("Viewer"));
    QTRY_VERIFY_WITH_TIMEOUT(m_window->hasPlanet(), 30'000);
}

void tst_ClientView::cleanupTestCase()
{
    delete m_window;
    m_host->stop();
}

void tst_ClientView::onlyTheChunksInViewKeepChanging()
{
    // The window asks for what its camera can see; the server then sends changes of
    // those chunks only (and of the few it keeps for hysteresis).
    // As close as the camera goes: the horizon's cap plus the margin is well short of
    // the whole planet.
    OrbitCamera *camera = m_window->planetView()->orbitCamera();
    camera->setDistance(camera->minimumDistance());
    QTRY_VERIFY_WITH_TIMEOUT(m_connection->sentView() && m_connection->sentView()->second < 90.0f,
                             5'000);
    const auto [direction, radius] = *m_connection->sentView();
    QTest::qWait(300); // the view reaches the server and takes effect
    std::vector<CellId> changed;
    const auto collecting = connect(m_connection, &ServerConnection::cellsChanged, this, [&] {
        changed.insert(changed.end(), m_connection->lastChangedCells().begin(),
                       m_connection->lastChangedCells().end());
    });
    QTRY_VERIFY_WITH_TIMEOUT(changed.size() >= 20, 20'000);
    disconnect(collecting);
    const auto sphere = m_connection->sphere();
    const hex::geometry::ChunkCover cover(*sphere);
    const double margin = cover.largestRadius() * 0.5;
    const double cap = double(radius) * std::numbers::pi / 180.0 + margin + 1e-3;
    int outside = 0;
    for (hex::geometry::ChunkId chunk = 0; chunk < cover.chunkCount(); ++chunk) {
        const double angle = std::acos(std::clamp(
            double(hex::geometry::dot(cover.centre(chunk), direction)), -1.0, 1.0));
        outside += angle - cover.radius(chunk) > cap;
    }
    QVERIFY2(outside > 0, "the view covers the whole planet: the test proves nothing");
    for (const CellId cell : changed) {
        const hex::geometry::ChunkId chunk = sphere->chunkOf(cell);
        const double angle = std::acos(std::clamp(
            double(hex::geometry::dot(cover.centre(chunk), direction)), -1.0, 1.0));
        QVERIFY2(angle - cover.radius(chunk) <= cap,
                 qPrintable(QStringLiteral("cell %1 changed, %2° away").arg(cell).arg(angle * 180 / std::numbers::pi)));
    }
}

QTEST_MAIN(tst_ClientView)
#include "tst_clientview.moc"
