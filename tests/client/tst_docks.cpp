#include "app/hostedserver.h"
#include "net/serverconnection.h"
#include "render/planetview.h"
#include "ui/builddock.h"
#include "ui/chatdock.h"
#include "ui/mainwindow.h"
#include "ui/netgraphdock.h"
#include "ui/netstats.h"
#include "ui/playersdock.h"
#include "ui/recipedock.h"

#include "protocol/worldcodec.h"
#include "sim/actions.h"
#include "sim/terrain.h"

#include <Qt3DExtras/Qt3DWindow>

#include <QAction>
#include <QDateTime>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <QTreeWidget>

#include <optional>

using hex::client::BuildTool;
using hex::client::ChatDock;
using hex::client::HostedServer;
using hex::client::MainWindow;
using hex::client::NetStats;
using hex::client::ServerConnection;
using hex::geometry::CellId;

namespace {

hex::server::ServerConfig smallWorld()
{
    hex::server::ServerConfig config;
    config.worldName = QStringLiteral("Docks");
    config.subdivisions = 8;
    config.ups = 30;
    config.port = 0;
    config.bindAddress = QHostAddress(QHostAddress::LocalHost);
    return config;
}

/// The window's action bound to `keys`; null when none is.
QAction *actionFor(const QWidget *window, const QKeySequence &keys)
{
    for (QAction *action : window->actions()) {
        if (action->shortcut() == keys)
            return action;
    }
    return nullptr;
}

} // namespace

/// The in-game docks: chat, players, net graph and recipe chooser, the networked ones
/// against a real hosted server with two players.
class tst_Docks : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void netStatsKeepsTheLastMinute();
    void netStatsBytesPerSecond();
    void netStatsAxisMaximum_data();
    void netStatsAxisMaximum();
    void netGraphDockSamplesEverySecond();

    void chatFormatsLinesInLocalTime();
    void chatKeepsTheNewest500Lines();
    void chatEnterSendsThroughTheServer();
    void chatShortcutAndInputLimit();

    void otherPlayersCursorsAreDrawn();
    void playersDockShowsBothPlayers();

    void recipeDockListsTheAssemblersRecipes();
    void recipeDockSetsARecipeOnABuiltMachine();

private:
    /// A pixel of the view over an unclaimed land cell, and that cell.
    std::optional<std::pair<QPointF, CellId>> unclaimedLandPixel() const;
    /// Sends `action` through the window's tools and waits for its result's reason.
    int actAndWait(const BuildTool &tool, CellId cell);

    HostedServer *m_host = nullptr;
    ServerConnection *m_connection = nullptr;
    ServerConnection *m_second = nullptr;
    MainWindow *m_window = nullptr;
};

void tst_Docks::initTestCase()
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
    m_second = new ServerConnection(this);
    m_second->open(m_host->joinUrl(), QStringLiteral("Second"));
    QTRY_VERIFY_WITH_TIMEOUT(m_window->hasPlanet(), 30'000);
    QTRY_COMPARE_WITH_TIMEOUT(m_second->state(), ServerConnection::State::Joined, 30'000);
    QVERIFY(m_connection->playerId() != hex::sim::kNoPlayer);
}

void tst_Docks::cleanupTestCase()
{
    delete m_window;
    m_host->stop();
}

void tst_Docks::netStatsKeepsTheLastMinute()
{
    NetStats stats;
    QCOMPARE(stats.size(), 0);
    QCOMPARE(stats.maximum(NetStats::Series::Fps), 0.0);
    for (int second = 0; second < 100; ++second)
        stats.push(second, second, 30, 20, 0);
    QCOMPARE(stats.size(), NetStats::kWindowSeconds);
    QCOMPARE(stats.seconds().front(), qint64(40));
    QCOMPARE(stats.seconds().back(), qint64(99));
    QCOMPARE(stats.values(NetStats::Series::Fps).front(), 40.0);
    QCOMPARE(stats.latest(NetStats::Series::Fps), 99.0);
    QCOMPARE(stats.maximum(NetStats::Series::Fps), 99.0);
    QCOMPARE(stats.axisMaximum(NetStats::Series::Fps), 100.0);

    // A second already held is ignored; a gap drops what fell out of the window.
    stats.push(99, 1000, 0, 0, 0);
    QCOMPARE(stats.latest(NetStats::Series::Fps), 99.0);
    stats.push(130, 5, 30, -1, 0);
    QCOMPARE(stats.size(), 30);
    QCOMPARE(stats.seconds().front(), qint64(71));
    QCOMPARE(stats.latest(NetStats::Series::Ping), -1.0);
    QCOMPARE(stats.maximum(NetStats::Series::Ping), 20.0);
}

void tst_Docks::netStatsBytesPerSecond()
{
    NetStats stats;
    stats.push(10, 60, 30, 5, 1000);
    QCOMPARE(stats.latest(NetStats::Series::BytesPerSecond), 0.0); // Nothing to compare with.
    stats.push(11, 60, 30, 5, 3500);
    QCOMPARE(stats.latest(NetStats::Series::BytesPerSecond), 2500.0);
    stats.push(13, 60, 30, 5, 4500); // Two seconds later.
    QCOMPARE(stats.latest(NetStats::Series::BytesPerSecond), 500.0);
    stats.push(14, 60, 30, 5, 100); // A new connection started counting afresh.
    QCOMPARE(stats.latest(NetStats::Series::BytesPerSecond), 0.0);
    QCOMPARE(stats.maximum(NetStats::Series::BytesPerSecond), 2500.0);
    QCOMPARE(stats.axisMaximum(NetStats::Series::BytesPerSecond), 5000.0);
}

void tst_Docks::netStatsAxisMaximum_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<double>("axis");
    QTest::newRow("nothing is scaled to 1") << 0.0 << 1.0;
    QTest::newRow("below 1 is scaled to 1") << 0.4 << 1.0;
    QTest::newRow("exactly 1") << 1.0 << 1.0;
    QTest::newRow("1.5 rounds to 2") << 1.5 << 2.0;
    QTest::newRow("3 rounds to 5") << 3.0 << 5.0;
    QTest::newRow("7 rounds to 10") << 7.0 << 10.0;
    QTest::newRow("30 UPS stays 50") << 30.0 << 50.0;
    QTest::newRow("60 FPS rounds to 100") << 60.0 << 100.0;
    QTest::newRow("200 stays 200") << 200.0 << 200.0;
    QTest::newRow("201 rounds to 500") << 201.0 << 500.0;
    QTest::newRow("12345 bytes round to 20000") << 12345.0 << 20000.0;
}

void tst_Docks::netStatsAxisMaximum()
{
    QFETCH(double, value);
    QFETCH(double, axis);
    QCOMPARE(NetStats::niceCeiling(value), axis);
}

void tst_Docks::netGraphDockSamplesEverySecond()
{
    hex::client::NetGraphDock *dock = m_window->netGraphDock();
    QVERIFY(dock->isHidden()); // Hidden until asked for.
    QAction *f3 = actionFor(m_window, QKeySequence(Qt::Key_F3));
    QVERIFY(f3);
    f3->trigger();
    QVERIFY(!dock->isHidden());
    f3->trigger();
    QVERIFY(dock->isHidden());

    QTRY_VERIFY_WITH_TIMEOUT(dock->stats().size() >= 3, 10'000);
    // Ticks keep coming at about 30 per second, and frames of data with them.
    QTRY_VERIFY_WITH_TIMEOUT(dock->stats().latest(NetStats::Series::Ups) > 10, 5'000);
    QVERIFY(dock->stats().maximum(NetStats::Series::BytesPerSecond) > 0);
    const QString ups = dock->graph()->label(NetStats::Series::Ups);
    QVERIFY2(ups.startsWith(QStringLiteral("UPS ")) && ups.contains(QStringLiteral("(max ")),
             qPrintable(ups));
    QTRY_VERIFY_WITH_TIMEOUT(m_connection->pingMs() >= 0, 15'000);
    QTRY_VERIFY_WITH_TIMEOUT(dock->stats().latest(NetStats::Series::Ping) >= 0, 5'000);
    const QString ping = dock->graph()->label(NetStats::Series::Ping);
    QVERIFY2(ping.contains(QStringLiteral(" ms")), qPrintable(ping));
    // Drawing works on a widget of its own size.
    hex::client::NetGraph graph;
    graph.setStats(&dock->stats());
    graph.resize(graph.sizeHint());
    QVERIFY(!graph.grab().isNull());
}

void tst_Docks::chatFormatsLinesInLocalTime()
{
    const QDateTime local(QDate(2026, 3, 14), QTime(9, 5, 42));
    const qint64 ms = local.toMSecsSinceEpoch();
    QCOMPARE(ChatDock::formatLine(QStringLiteral("Ann"), QStringLiteral("hello there"), ms),
             QStringLiteral("[09:05] Ann: hello there"));
}

void tst_Docks::chatKeepsTheNewest500Lines()
{
    ChatDock dock(m_connection);
    dock.resize(300, 200);
    dock.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dock));
    QVERIFY(dock.lines().isEmpty());
    for (int i = 0; i < ChatDock::kMaxLines + 20; ++i)
        dock.appendLine(QStringLiteral("line %1").arg(i));
    const QStringList lines = dock.lines();
    QCOMPARE(lines.size(), ChatDock::kMaxLines);
    QCOMPARE(lines.first(), QStringLiteral("line 20"));
    QCOMPARE(lines.last(), QStringLiteral("line %1").arg(ChatDock::kMaxLines + 19));

    // The log follows new lines, unless the player scrolled up to read.
    const QScrollBar *bar = dock.log()->verticalScrollBar();
    QVERIFY(bar->maximum() > 0);
    QCOMPARE(bar->value(), bar->maximum());
    dock.log()->verticalScrollBar()->setValue(bar->maximum() / 2);
    const int readingAt = bar->value();
    dock.appendLine(QStringLiteral("while reading"));
    QCOMPARE(bar->value(), readingAt);
    QVERIFY(bar->value() < bar->maximum());
    dock.log()->verticalScrollBar()->setValue(bar->maximum());
    dock.appendLine(QStringLiteral("at the bottom again"));
    QCOMPARE(bar->value(), bar->maximum());
}

void tst_Docks::chatEnterSendsThroughTheServer()
{
    ChatDock *dock = m_window->chatDock();
    QSignalSpy heard(m_second, &ServerConnection::chatReceived);
    dock->input()->setText(QStringLiteral("  hello from the docks  "));
    QTest::keyClick(dock->input(), Qt::Key_Return);
    QVERIFY(dock->input()->text().isEmpty());

    QTRY_COMPARE_WITH_TIMEOUT(heard.size(), 1, 10'000);
    QCOMPARE(heard.first().at(0).toUInt(), quint32(m_connection->playerId()));
    QCOMPARE(heard.first().at(1).toString(), QStringLiteral("Tester"));
    QCOMPARE(heard.first().at(2).toString(), QStringLiteral("hello from the docks"));
    const QString expected
        = ChatDock::formatLine(QStringLiteral("Tester"), QStringLiteral("hello from the docks"),
                               heard.first().at(3).toLongLong());
    QTRY_COMPARE_WITH_TIMEOUT(dock->lines().value(dock->lines().size() - 1), expected, 10'000);

    // An empty line sends nothing and keeps nothing.
    dock->input()->setText(QStringLiteral("   "));
    QVERIFY(!dock->send());
    QCOMPARE(dock->input()->text(), QStringLiteral("   "));
    dock->input()->clear();
}

void tst_Docks::chatShortcutAndInputLimit()
{
    ChatDock *dock = m_window->chatDock();
    QCOMPARE(dock->input()->maxLength(), 280);
    dock->input()->setText(QString(300, QLatin1Char('x')));
    QCOMPARE(dock->input()->text().size(), 280);
    dock->input()->clear();

    QAction *talk = actionFor(m_window, QKeySequence(Qt::Key_T));
    QVERIFY2(talk, "T is bound on the main window");
    QCOMPARE(talk->shortcutContext(), Qt::WindowShortcut);
    dock->hide();
    talk->trigger();
    QVERIFY(!dock->isHidden());
}

void tst_Docks::otherPlayersCursorsAreDrawn()
{
    // The second player points at a cell: this window draws a marker over it, a render
    // delay later; then the pointer leaves the planet and the marker goes.
    hex::client::PlanetView *view = m_window->planetView();
    const auto sphere = m_connection->sphere();
    const CellId cell = 7;
    m_second->sendCursor(cell);
    const auto other = hex::sim::PlayerId(m_second->playerId());
    QTRY_VERIFY_WITH_TIMEOUT((view->drawCursors(), view->drawnCursors().contains(other)), 5'000);
    QVERIFY(!view->drawnCursors().contains(m_connection->playerId())); // not our own
    const hex::geometry::Vec3 c = sphere->centre(cell);
    const QVector3D expected = hex::client::PlanetView::planetOrientation().rotatedVector(
        QVector3D(c.x, c.y, c.z));
    const QVector3D drawn = view->drawnCursors().at(other);
    QVERIFY2(QVector3D::dotProduct(drawn.normalized(), expected) > 0.9999f,
             "the marker stands over the cell");
    QVERIFY(drawn.length() > 1.0f); // above the ground
    m_second->sendCursor(std::nullopt);
    QTRY_VERIFY_WITH_TIMEOUT((view->drawCursors(), !view->drawnCursors().contains(other)), 5'000);
}

void tst_Docks::playersDockShowsBothPlayers()
{
    hex::client::PlayersDock *dock = m_window->playersDock();
    QTRY_COMPARE_WITH_TIMEOUT(dock->headerText(), QStringLiteral("Players: 2 online of 2"), 10'000);
    const QTreeWidget *table = dock->table();
    QCOMPARE(table->topLevelItemCount(), 2);
    // Both online, so by name.
    QCOMPARE(table->topLevelItem(0)->text(0), QStringLiteral("Second"));
    QCOMPARE(table->topLevelItem(1)->text(0), QStringLiteral("Tester"));
    for (int row = 0; row < 2; ++row) {
        QCOMPARE(table->topLevelItem(row)->text(1), QStringLiteral("online"));
        QVERIFY(!table->topLevelItem(row)->icon(1).isNull());
    }
    QVERIFY(!table->topLevelItem(0)->font(0).bold());
    QVERIFY(table->topLevelItem(1)->font(0).bold()); // The local player.

    // The other player leaves: still listed, offline, after those online.
    m_second->close();
    QTRY_COMPARE_WITH_TIMEOUT(dock->headerText(), QStringLiteral("Players: 1 online of 2"), 10'000);
    QCOMPARE(table->topLevelItemCount(), 2);
    QCOMPARE(table->topLevelItem(0)->text(0), QStringLiteral("Tester"));
    QCOMPARE(table->topLevelItem(0)->text(1), QStringLiteral("online"));
    QCOMPARE(table->topLevelItem(1)->text(0), QStringLiteral("Second"));
    QCOMPARE(table->topLevelItem(1)->text(1), QStringLiteral("offline"));
}

void tst_Docks::recipeDockListsTheAssemblersRecipes()
{
    const hex::sim::Content &content = m_window->content();
    hex::sim::PrototypeId assembler = hex::sim::kNoStructure;
    hex::sim::PrototypeId furnace = hex::sim::kNoStructure;
    hex::sim::PrototypeId chest = hex::sim::kNoStructure;
    QVERIFY(content.findPrototype(QStringLiteral("assembler"), &assembler));
    QVERIFY(content.findPrototype(QStringLiteral("furnace"), &furnace));
    QVERIFY(content.findPrototype(QStringLiteral("chest"), &chest));
    hex::sim::RecipeId gear = 0;
    hex::sim::RecipeId ironPlate = 0;
    QVERIFY(content.findRecipe(QStringLiteral("gear"), &gear));
    QVERIFY(content.findRecipe(QStringLiteral("iron_plate"), &ironPlate));

    const hex::client::RecipeDock *dock = m_window->recipeDock();
    const std::vector<hex::sim::RecipeId> recipes = dock->recipesFor(assembler);
    QVERIFY(recipes.size() >= 3);
    QVERIFY(std::find(recipes.begin(), recipes.end(), gear) != recipes.end());
    QVERIFY(std::find(recipes.begin(), recipes.end(), ironPlate) == recipes.end());
    for (const hex::sim::RecipeId recipe : recipes) {
        const auto &madeIn = content.recipes[recipe].madeIn;
        QVERIFY(std::find(madeIn.begin(), madeIn.end(), assembler) != madeIn.end());
    }
    const auto furnaceRecipes = dock->recipesFor(furnace);
    QVERIFY(std::find(furnaceRecipes.begin(), furnaceRecipes.end(), ironPlate)
            != furnaceRecipes.end());
    QVERIFY(dock->recipesFor(chest).empty());

    // 20 ticks at 30 UPS.
    QCOMPARE(dock->recipeText(gear),
             QStringLiteral("Cut gears\n2 × Iron plate → 1 × Gear · 0.7 s"));
    QCOMPARE(dock->list()->count(), 0); // No machine selected yet.
}

std::optional<std::pair<QPointF, CellId>> tst_Docks::unclaimedLandPixel() const
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
                && cells.owner[*cell] == hex::sim::kNoPlayer
                && cells.structure[*cell] == hex::sim::kNoStructure)
                return std::pair{pixel, *cell};
        }
    }
    return std::nullopt;
}

int tst_Docks::actAndWait(const BuildTool &tool, CellId cell)
{
    m_window->buildDock()->selectTool(tool);
    QSignalSpy results(m_connection, &ServerConnection::actionResult);
    const quint32 seq = m_window->applyTool(cell);
    m_window->buildDock()->clearTool();
    if (seq == 0 || !QTest::qWaitFor([&] { return !results.isEmpty(); }, 10'000))
        return -1;
    return results.first().at(0).toUInt() == seq ? results.first().at(2).toInt() : -1;
}

void tst_Docks::recipeDockSetsARecipeOnABuiltMachine()
{
    const hex::sim::Content &content = m_window->content();
    hex::sim::PrototypeId assembler = hex::sim::kNoStructure;
    hex::sim::RecipeId gear = 0;
    QVERIFY(content.findPrototype(QStringLiteral("assembler"), &assembler));
    QVERIFY(content.findRecipe(QStringLiteral("gear"), &gear));
    hex::client::RecipeDock *dock = m_window->recipeDock();

    const auto target = unclaimedLandPixel();
    QVERIFY2(target, "some unclaimed land is in view");
    const auto [pixel, cell] = *target;
    QVERIFY(!dock->canSelect(cell));
    QCOMPARE(actAndWait(BuildTool{BuildTool::Kind::Claim, hex::sim::kNoStructure}, cell), 0);
    QTRY_COMPARE_WITH_TIMEOUT(m_connection->cells().owner[cell], m_connection->playerId(), 5'000);
    QVERIFY(!dock->canSelect(cell)); // Owned, but nothing stands there.
    QCOMPARE(actAndWait(BuildTool{BuildTool::Kind::Build, assembler}, cell), 0);
    QTRY_COMPARE_WITH_TIMEOUT(m_connection->cells().structure[cell], assembler, 5'000);

    // A click with a build tool does not select; one with no tool does.
    m_window->buildDock()->selectTool(BuildTool{BuildTool::Kind::Claim, hex::sim::kNoStructure});
    QSignalSpy results(m_connection, &ServerConnection::actionResult);
    QCOMPARE(m_window->planetView()->clickAt(pixel), std::optional<CellId>(cell));
    QVERIFY(!dock->selectedCell());
    QTRY_COMPARE_WITH_TIMEOUT(results.size(), 1, 10'000); // The claim, refused.
    m_window->buildDock()->clearTool();
    QCOMPARE(m_window->planetView()->clickAt(pixel), std::optional<CellId>(cell));
    QCOMPARE(dock->selectedCell(), std::optional<CellId>(cell));

    const auto recipes = dock->recipesFor(assembler);
    QCOMPARE(dock->list()->count(), int(recipes.size()) + 1);
    QCOMPARE(dock->list()->item(0)->text().section(QLatin1Char('\n'), 0, 0),
             QStringLiteral("None"));
    QVERIFY(dock->currentText().contains(QStringLiteral("unknown")));
    QVERIFY(!dock->knownRecipe(cell));

    // Choosing a row sends SetRecipe; once accepted it shows as current.
    QSignalSpy sent(m_window, &MainWindow::actionSent);
    results.clear();
    int gearRow = -1;
    for (int row = 0; row < dock->list()->count(); ++row) {
        if (dock->list()->item(row)->text().startsWith(content.recipes[gear].name))
            gearRow = row;
    }
    QVERIFY(gearRow > 0);
    emit dock->list()->itemClicked(dock->list()->item(gearRow));
    QCOMPARE(sent.size(), 1);
    QCOMPARE(sent.first().at(1).toInt(), int(hex::sim::ActionKind::SetRecipe));
    QCOMPARE(sent.first().at(2).toUInt(), cell);
    QTRY_COMPARE_WITH_TIMEOUT(results.size(), 1, 10'000);
    QCOMPARE(results.first().at(0).toUInt(), sent.first().at(0).toUInt());
    QCOMPARE(results.first().at(2).toInt(), 0);
    QCOMPARE(dock->knownRecipe(cell), std::optional<hex::sim::RecipeId>(gear));
    QCOMPARE(dock->currentText(), QStringLiteral("Current recipe: Cut gears"));
    QCOMPARE(dock->list()->currentRow(), gearRow);
    QVERIFY2(m_window->actionMessage().contains(QStringLiteral("Set recipe Cut gears")),
             qPrintable(m_window->actionMessage()));

    // "None" clears it.
    results.clear();
    QVERIFY(dock->chooseRecipe(hex::sim::kNoRecipe) != 0);
    QTRY_COMPARE_WITH_TIMEOUT(results.size(), 1, 10'000);
    QCOMPARE(results.first().at(2).toInt(), 0);
    QCOMPARE(dock->currentText(), QStringLiteral("Current recipe: none"));

    // Removing the machine forgets the selection.
    QCOMPARE(actAndWait(BuildTool{BuildTool::Kind::Remove, hex::sim::kNoStructure}, cell), 0);
    QTRY_VERIFY_WITH_TIMEOUT(!dock->selectedCell(), 5'000);
    QVERIFY(!dock->knownRecipe(cell));
}

QTEST_MAIN(tst_Docks)
#include "tst_docks.moc"
