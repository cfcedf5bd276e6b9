#include "app/hostedserver.h"
#include "net/serverconnection.h"
#include "geometry/chunkcover.h"
#include "render/orbitcamera.h"
#include "render/planetmesh.h"
#include "render/planetview.h"
#include "ui/builddock.h"
#include "ui/inventorydock.h"
#include "ui/mainwindow.h"

#include "protocol/worldcodec.h"
#include "sim/actions.h"
#include "sim/terrain.h"

#include <Qt3DExtras/Qt3DWindow>

#include <QKeyEvent>
#include <QListWidget>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QTest>
#include <QTreeWidget>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>

using hex::client::BuildTool;
using hex::client::HostedServer;
using hex::client::MainWindow;
using hex::client::ServerConnection;
using hex::geometry::CellId;

namespace {

hex::server::ServerConfig smallWorld()
{
    hex::server::ServerConfig config;
    config.worldName = QStringLiteral("Play");
    config.subdivisions = 8;
    config.ups = 30;
    config.port = 0;
    config.bindAddress = QHostAddress(QHostAddress::LocalHost);
    return config;
}

} // namespace

/// The player's side of acting on the planet: the Build and Inventory docks, and a
/// click on the planet that becomes an action the real server answers.
class tst_PlayActions : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void buildDockListsEveryPrototypeWithItsCost();
    void claimByClickingALandCell();
    void aRefusalShowsTheServersReason();
    void escapeClearsTheTool();
    void mouseAndKeysDriveTheTools();
    void inventoryDockListsTheStartingItems();

private:
    /// A pixel of the view over an unclaimed land cell, and that cell.
    std::optional<std::pair<QPointF, CellId>> unclaimedLandPixel() const;

    HostedServer *m_host = nullptr;
    ServerConnection *m_connection = nullptr;
    MainWindow *m_window = nullptr;
    QPointF m_claimedPixel;
    CellId m_claimedCell = 0;
};

void tst_PlayActions::initTestCase()
{
    m_host = new HostedServer(this);
    QSignalSpy started(m_host, &HostedServer::started);
    m_host->start(smallWorld());
    QTRY_COMPARE_WITH_TIMEOUT(started.size(), 1, 30'000);

    m_connection = new ServerConnection(this);
    m_window = new MainWindow(m_connection);
    // Qt3D cannot draw on the offscreen platform, so the window is never shown: size
    // the 3D window by hand for picking.
    m_window->planetView()->window3D()->resize(800, 600);
    m_connection->open(m_host->joinUrl(), QStringLiteral("Tester"));
    QTRY_VERIFY_WITH_TIMEOUT(m_window->hasPlanet(), 30'000);
    QVERIFY(m_connection->playerId() != hex::sim::kNoPlayer);
}

void tst_PlayActions::cleanupTestCase()
{
    delete m_window;
    m_host->stop();
}

std::optional<std::pair<QPointF, CellId>> tst_PlayActions::unclaimedLandPixel() const
{
    const hex::client::PlanetView *view = m_window->planetView();
    const QSize size = view->viewportSize();
    const hex::protocol::VisibleCells &cells = m_connection->cells();
    for (int y = size.height() / 4; y < size.height() * 3 / 4; y += 7) {
        for (int x = size.width() / 4; x < size.width() * 3 / 4; x += 7) {
            const QPointF pixel(x, y);
            const std::optional<CellId> cell = view->cellAtPixel(pixel);
            if (!cell)
                continue;
            const auto terrain = hex::sim::Terrain(cells.terrain[*cell]);
            if (terrain != hex::sim::Terrain::DeepWater
                && terrain != hex::sim::Terrain::ShallowWater
                && cells.owner[*cell] == hex::sim::kNoPlayer)
                return std::pair{pixel, *cell};
        }
    }
    return std::nullopt;
}

void tst_PlayActions::buildDockListsEveryPrototypeWithItsCost()
{
    const auto content = hex::sim::loadDefaultContent();
    QVERIFY2(content, qPrintable(content ? QString() : content.error()));
    const QListWidget *list = m_window->buildDock()->list();
    const auto prototypes = int(content->prototypes.size()) - 1; // [0] is "none"
    QVERIFY(prototypes >= 9);
    QCOMPARE(list->count(), prototypes + 2);
    QCOMPARE(list->item(0)->text(), QStringLiteral("Claim"));
    QCOMPARE(list->item(list->count() - 1)->text(), QStringLiteral("Remove"));
    for (int p = 1; p <= prototypes; ++p) {
        const hex::sim::PrototypeDef &def = content->prototypes[p];
        const QString text = list->item(p)->text();
        QVERIFY2(text.startsWith(def.name), qPrintable(text));
        for (const hex::sim::ItemStack &cost : def.buildCost) {
            const QString part
                = QStringLiteral("%1 × %2").arg(cost.count).arg(content->items[cost.item].name);
            QVERIFY2(text.contains(part), qPrintable(text + " lacks " + part));
        }
    }
}

void tst_PlayActions::claimByClickingALandCell()
{
    const auto target = unclaimedLandPixel();
    QVERIFY2(target, "some unclaimed land is in view");
    const auto [pixel, cell] = *target;

    m_window->buildDock()->selectTool(BuildTool{BuildTool::Kind::Claim, hex::sim::kNoStructure});
    QCOMPARE(m_window->buildDock()->currentTool().kind, BuildTool::Kind::Claim);

    QSignalSpy sent(m_window, &MainWindow::actionSent);
    QSignalSpy results(m_connection, &ServerConnection::actionResult);
    auto colourOf = [&] {
        return m_window->planetView()->lookData().mid(
            qsizetype(hex::client::PlanetMesh::lookOffset(cell)),
            hex::client::PlanetMesh::kLookBytesPerCell);
    };
    const QByteArray before = colourOf();
    QCOMPARE(m_window->planetView()->clickAt(pixel), std::optional<CellId>(cell));
    QCOMPARE(sent.size(), 1);
    // Shown at once, before any answer: the cell is provisionally ours, and redrawn.
    QCOMPARE(results.size(), 0);
    const auto provisional = m_window->predictor().provisional(cell);
    QVERIFY(provisional);
    QCOMPARE(provisional->owner, m_connection->playerId());
    QVERIFY(colourOf() != before);
    const quint32 seq = sent.first().at(0).toUInt();
    QVERIFY(seq != 0);
    QCOMPARE(sent.first().at(1).toInt(), int(hex::sim::ActionKind::Claim));
    QCOMPARE(sent.first().at(2).toUInt(), cell);

    QTRY_COMPARE_WITH_TIMEOUT(results.size(), 1, 10'000);
    QCOMPARE(results.first().at(0).toUInt(), seq);
    QCOMPARE(results.first().at(1).toUInt(), cell);
    QCOMPARE(results.first().at(2).toInt(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(m_connection->cells().owner[cell], m_connection->playerId(), 5'000);
    // Settled: no provisional look is left.
    QVERIFY(!m_window->predictor().provisional(cell));
    QCOMPARE(m_window->predictor().pendingCount(), std::size_t(0));
    QCOMPARE(sent.size(), 1); // Exactly one action for one click.
    QVERIFY2(m_window->actionMessage().contains(QStringLiteral("done")),
             qPrintable(m_window->actionMessage()));
    QVERIFY2(m_window->describeCell(cell).contains(QStringLiteral("owner: you")),
             qPrintable(m_window->describeCell(cell)));
    m_claimedPixel = pixel;
    m_claimedCell = cell;
}

void tst_PlayActions::aRefusalShowsTheServersReason()
{
    QVERIFY2(m_connection->cells().owner[m_claimedCell] == m_connection->playerId(),
             "claimByClickingALandCell ran first");
    m_window->buildDock()->selectTool(BuildTool{BuildTool::Kind::Claim, hex::sim::kNoStructure});
    QSignalSpy results(m_connection, &ServerConnection::actionResult);
    QCOMPARE(m_window->applyTool(m_claimedCell) != 0, true);
    QTRY_COMPARE_WITH_TIMEOUT(results.size(), 1, 10'000);
    QCOMPARE(results.first().at(2).toInt(), int(hex::sim::RejectReason::AlreadyYours));
    const QString expected = hex::sim::describe(hex::sim::RejectReason::AlreadyYours);
    QVERIFY2(m_window->actionMessage().contains(QStringLiteral("refused")),
             qPrintable(m_window->actionMessage()));
    QVERIFY2(m_window->actionMessage().endsWith(expected), qPrintable(m_window->actionMessage()));
}

void tst_PlayActions::escapeClearsTheTool()
{
    m_window->buildDock()->selectTool(BuildTool{BuildTool::Kind::Remove, hex::sim::kNoStructure});
    QCOMPARE(m_window->buildDock()->currentTool().kind, BuildTool::Kind::Remove);
    QKeyEvent escape(QEvent::KeyPress, Qt::Key_Escape, Qt::NoModifier);
    QCoreApplication::sendEvent(m_window->planetView()->window3D(), &escape);
    QCOMPARE(m_window->buildDock()->currentTool().kind, BuildTool::Kind::None);
    QVERIFY(m_window->buildDock()->list()->selectedItems().isEmpty());

    QSignalSpy sent(m_window, &MainWindow::actionSent);
    QCOMPARE(m_window->planetView()->clickAt(m_claimedPixel), std::optional<CellId>(m_claimedCell));
    QCOMPARE(sent.size(), 0); // No tool: a click only looks.
}

void tst_PlayActions::mouseAndKeysDriveTheTools()
{
    QWindow *window3D = m_window->planetView()->window3D();
    auto sendMouse = [window3D](QEvent::Type type, QPointF at, Qt::MouseButtons buttons) {
        QMouseEvent event(type, at, window3D->mapToGlobal(at), Qt::LeftButton, buttons,
                          Qt::NoModifier);
        QCoreApplication::sendEvent(window3D, &event);
    };

    // Hovering shows the cell's details.
    sendMouse(QEvent::MouseMove, m_claimedPixel, Qt::NoButton);
    QCOMPARE(m_window->planetView()->hoveredCell(), std::optional<CellId>(m_claimedCell));
    const QString details = m_window->cellDetailsText();
    QVERIFY2(details.startsWith(QStringLiteral("Cell %1").arg(m_claimedCell)), qPrintable(details));
    QVERIFY2(details.contains(QStringLiteral("owner: you")), qPrintable(details));

    // A press and release in place builds a chest.
    hex::sim::PrototypeId chest = hex::sim::kNoStructure;
    QVERIFY(m_window->content().findPrototype(QStringLiteral("chest"), &chest));
    m_window->buildDock()->selectTool(BuildTool{BuildTool::Kind::Build, chest});
    QSignalSpy sent(m_window, &MainWindow::actionSent);
    QSignalSpy results(m_connection, &ServerConnection::actionResult);
    sendMouse(QEvent::MouseButtonPress, m_claimedPixel, Qt::LeftButton);
    sendMouse(QEvent::MouseButtonRelease, m_claimedPixel, Qt::NoButton);
    QCOMPARE(sent.size(), 1);
    QCOMPARE(sent.last().at(1).toInt(), int(hex::sim::ActionKind::Build));
    QCOMPARE(sent.last().at(2).toUInt(), m_claimedCell);
    QTRY_COMPARE_WITH_TIMEOUT(results.size(), 1, 10'000);
    QCOMPARE(results.last().at(2).toInt(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(m_connection->cells().structure[m_claimedCell], chest, 5'000);
    QTRY_VERIFY(m_window->cellDetailsText().contains(QStringLiteral("structure: Chest")));

    // R turns it one side on.
    const int before = m_connection->cells().orientation[m_claimedCell];
    const auto sides = int(m_connection->sphere()->neighbours(m_claimedCell).size());
    QKeyEvent r(QEvent::KeyPress, Qt::Key_R, Qt::NoModifier, QStringLiteral("r"));
    QCoreApplication::sendEvent(window3D, &r);
    QCOMPARE(sent.size(), 2);
    QCOMPARE(sent.last().at(1).toInt(), int(hex::sim::ActionKind::Rotate));
    QTRY_COMPARE_WITH_TIMEOUT(results.size(), 2, 10'000);
    QCOMPARE(results.last().at(2).toInt(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(int(m_connection->cells().orientation[m_claimedCell]),
                              (before + 1) % sides, 5'000);

    // A drag orbits and sends nothing.
    const float yaw = m_window->planetView()->orbitCamera()->yaw();
    sendMouse(QEvent::MouseButtonPress, m_claimedPixel, Qt::LeftButton);
    sendMouse(QEvent::MouseMove, m_claimedPixel + QPointF(40, 0), Qt::LeftButton);
    sendMouse(QEvent::MouseButtonRelease, m_claimedPixel + QPointF(40, 0), Qt::NoButton);
    QCOMPARE(sent.size(), 2);
    QVERIFY(m_window->planetView()->orbitCamera()->yaw() != yaw);
}

void tst_PlayActions::inventoryDockListsTheStartingItems()
{
    QTRY_VERIFY_WITH_TIMEOUT(!m_connection->inventory().empty(), 10'000);
    const QTreeWidget *table = m_window->inventoryDock()->table();
    QTRY_COMPARE(table->topLevelItemCount(), int(m_connection->inventory().size()));
    int row = 0;
    for (const auto &[item, count] : m_connection->inventory()) {
        QCOMPARE(table->topLevelItem(row)->text(0), m_window->content().items[item].name);
        QCOMPARE(table->topLevelItem(row)->text(1), QString::number(count));
        ++row;
    }
}

QTEST_MAIN(tst_PlayActions)
#include "tst_playactions.moc"
