#include "mainwindow.h"

#include "contentnames.h"

#include "render/machinelayer.h"
#include "render/planetview.h"
#include "ui/chatdock.h"
#include "ui/inventorydock.h"
#include "ui/netgraphdock.h"
#include "ui/playersdock.h"
#include "ui/recipedock.h"

#include "geometry/hexsphere.h"
#include "protocol/worldcodec.h"
#include "sim/actions.h"
#include "sim/terrain.h"

#include <Qt3DExtras/Qt3DWindow>

#include <QAction>
#include <QApplication>
#include <QElapsedTimer>
#include <QLabel>
#include <QLoggingCategory>
#include <QMenu>
#include <QMenuBar>
#include <QPointer>
#include <QScreen>
#include <QStatusBar>
#include <QToolTip>
#include <QtMath>

#include <cmath>
#include <functional>
#include <utility>

namespace hex::client {

namespace {

Q_LOGGING_CATEGORY(lcUi, "hex.client.ui")

/// How long an action's outcome stays in the status bar.
constexpr int kActionMessageMs = 6000;
/// How far beyond the horizon the view asks for chunks, in degrees.
constexpr float kViewMarginDegrees = 15.0f;

sim::Content defaultContent()
{
    auto content = sim::loadDefaultContent();
    if (content)
        return translatedContent(std::move(*content));
    qCWarning(lcUi).noquote() << "could not load the game's content:" << content.error();
    return sim::Content{};
}

} // namespace

MainWindow::MainWindow(ServerConnection *connection, QWidget *parent)
    : QMainWindow(parent)
    , m_connection(connection)
    , m_content(defaultContent())
    , m_predictor(std::make_shared<const sim::Content>(m_content))
{
    setWindowTitle(tr("Hexsphere"));

    m_planetView = new PlanetView(this);
    setCentralWidget(m_planetView);
    // What the server sends is handled right after a frame is drawn, not whenever it
    // comes: a tick's work then seldom delays the next frame.
    m_connection->setFrameScheduler(
        [view = QPointer<PlanetView>(m_planetView)](std::function<void()> work) {
            if (view)
                view->runAfterFrame(std::move(work));
            else
                work();
        });

    QMenu *gameMenu = menuBar()->addMenu(tr("&Game"));
    m_gameMenu = new QMenu(tr("Game menu"), this);
    QAction *resume = m_gameMenu->addAction(tr("&Resume"));
    QAction *settings = m_gameMenu->addAction(tr("&Settings…"));
    m_gameMenu->addSeparator();
    QAction *leave = m_gameMenu->addAction(tr("&Leave game"));
    connect(resume, &QAction::triggered, this, [this] { m_planetView->setFocus(); });
    connect(settings, &QAction::triggered, this, &MainWindow::settingsRequested);
    connect(leave, &QAction::triggered, this, &MainWindow::leaveRequested);
    gameMenu->addAction(settings);
    gameMenu->addAction(leave);
    gameMenu->addSeparator();
    // Escape, wherever the focus is in this window; the planet view reports its own.
    m_gameMenuAction = new QAction(tr("Game menu"), this);
    m_gameMenuAction->setShortcut(QKeySequence(Qt::Key_Escape));
    m_gameMenuAction->setShortcutContext(Qt::WindowShortcut);
    connect(m_gameMenuAction, &QAction::triggered, this, &MainWindow::onEscape);
    addAction(m_gameMenuAction);
    QAction *quit = gameMenu->addAction(tr("&Quit"));
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);
    connect(quit, &QAction::triggered, this, &QWidget::close);

    m_buildDock = new BuildDock(m_content, this);
    m_inventoryDock = new InventoryDock(m_content, this);
    m_recipeDock = new RecipeDock(m_content, m_connection, this);
    m_recipeDock->setActionSender(
        [this](const sim::Action &action, const QString &what) { return send(action, what); });
    m_playersDock = new PlayersDock(m_connection, this);
    m_chatDock = new ChatDock(m_connection, this);
    m_netGraphDock = new NetGraphDock(m_planetView, m_connection, this);
    addDockWidget(Qt::RightDockWidgetArea, m_buildDock);
    addDockWidget(Qt::RightDockWidgetArea, m_inventoryDock);
    addDockWidget(Qt::RightDockWidgetArea, m_recipeDock);
    addDockWidget(Qt::LeftDockWidgetArea, m_playersDock);
    addDockWidget(Qt::LeftDockWidgetArea, m_chatDock);
    addDockWidget(Qt::LeftDockWidgetArea, m_netGraphDock);
    m_netGraphDock->hide();
    resizeDocks({m_buildDock, m_inventoryDock, m_recipeDock}, {3, 1, 2}, Qt::Vertical);
    resizeDocks({m_buildDock}, {300}, Qt::Horizontal);
    resizeDocks({m_playersDock, m_chatDock}, {1, 3}, Qt::Vertical);
    resizeDocks({m_chatDock}, {260}, Qt::Horizontal);
    // A click with no build tool selects the machine under it for the Recipe dock.
    connect(m_planetView, &PlanetView::cellClicked, this, [this](geometry::CellId cell) {
        if (m_buildDock->currentTool().kind == BuildTool::Kind::None)
            m_recipeDock->selectCell(cell);
    });
    QMenu *viewMenu = menuBar()->addMenu(tr("&View"));
    viewMenu->addAction(m_buildDock->toggleViewAction());
    viewMenu->addAction(m_inventoryDock->toggleViewAction());
    viewMenu->addAction(m_recipeDock->toggleViewAction());
    viewMenu->addAction(m_playersDock->toggleViewAction());
    viewMenu->addAction(m_chatDock->toggleViewAction());
    QAction *netGraph = m_netGraphDock->toggleViewAction();
    netGraph->setShortcut(QKeySequence(Qt::Key_F3));
    netGraph->setShortcutContext(Qt::WindowShortcut);
    viewMenu->addAction(netGraph);
    addAction(netGraph);
    viewMenu->addSeparator();
    // T, wherever the focus is in this window but in a text field, which takes the key.
    m_chatAction = viewMenu->addAction(tr("Say in c&hat"));
    m_chatAction->setShortcut(QKeySequence(Qt::Key_T));
    m_chatAction->setShortcutContext(Qt::WindowShortcut);
    connect(m_chatAction, &QAction::triggered, m_chatDock, &ChatDock::focusInput);
    addAction(m_chatAction);

    m_cellLabel = new QLabel(this);
    m_connectionLabel = new QLabel(this);
    m_statisticsLabel = new QLabel(this);
    m_cellLabel->setTextFormat(Qt::PlainText);
    m_statisticsLabel->setTextFormat(Qt::PlainText);
    m_connectionLabel->setTextFormat(Qt::PlainText);
    statusBar()->addWidget(m_cellLabel, 1);
    statusBar()->addPermanentWidget(m_connectionLabel);
    statusBar()->addPermanentWidget(m_statisticsLabel);

    connect(m_planetView, &PlanetView::hoveredCellChanged, this, &MainWindow::updateCellDetails);
    connect(m_planetView, &PlanetView::cellClicked, this, &MainWindow::applyTool);
    connect(m_planetView, &PlanetView::rotateRequested, this, &MainWindow::rotateStructure);
    connect(m_planetView, &PlanetView::toolCancelled, this, &MainWindow::onEscape);
    connect(m_buildDock, &BuildDock::toolPicked, m_planetView,
            [this] { m_planetView->setFocus(); });
    connect(m_buildDock, &BuildDock::toolChanged, this, [this](const BuildTool &tool) {
        const bool armed = tool.kind != BuildTool::Kind::None;
        m_planetView->window3D()->setCursor(armed ? Qt::CrossCursor : Qt::ArrowCursor);
    });
    connect(m_connection, &ServerConnection::actionResult, this, &MainWindow::onActionResult);
    connect(m_connection, &ServerConnection::inventoryChanged, this, [this] {
        m_inventoryDock->setInventory(m_connection->inventory());
        // Predictions of builds depend on what the player carries.
        m_planetView->updateCells(
            m_predictor.sync(m_connection->cells(), {}, m_connection->inventory()));
    });
    m_planetView->setProvisionalLook(
        [this](geometry::CellId cell) { return m_predictor.provisional(cell); });

    // Other players' cursors: each tick stamps the clock, each move is a sample, and
    // every frame draws them between the samples around the render time.
    m_localClock.start();
    connect(m_connection, &ServerConnection::tickReceived, this,
            [this](quint64, qint64 serverTimeMs) {
                m_renderClock.onState(serverTimeMs, m_localClock.elapsed());
            });
    connect(m_connection, &ServerConnection::cursorMoved, this,
            [this](quint32 player, quint32 cell, bool visible, qint64 serverTimeMs) {
                const auto sphere = m_connection->sphere();
                std::optional<geometry::Vec3> position;
                if (visible && sphere && cell < sphere->cellCount())
                    position = sphere->centre(cell);
                m_cursors.add(sim::PlayerId(player), serverTimeMs, position);
            });
    m_planetView->setCursorSource([this] {
        const auto time = m_renderClock.renderTime(m_localClock.elapsed());
        return time ? m_cursors.at(*time)
                    : std::vector<std::pair<sim::PlayerId, geometry::Vec3>>{};
    });
    // Join with what the camera sees, not the whole planet.
    if (const auto view = cameraView())
        m_connection->setJoinView(view->first, view->second);
    m_cursorTimer = new QTimer(this);
    m_cursorTimer->setInterval(100);
    connect(m_cursorTimer, &QTimer::timeout, this, [this] {
        m_connection->sendCursor(m_planetView->hoveredCell());
        sendView();
    });
    m_cursorTimer->start();

    connect(m_connection, &ServerConnection::stateChanged, this, &MainWindow::onStateChanged);
    connect(m_connection, &ServerConnection::worldReceived, this, &MainWindow::onWorldReceived);
    connect(m_connection, &ServerConnection::snapshotReceived, this,
            &MainWindow::onSnapshotReceived);
    connect(m_connection, &ServerConnection::tickReceived, this,
            [this](quint64 tick, qint64) { onTickReceived(tick); });
    connect(m_connection, &ServerConnection::cellsChanged, this, &MainWindow::onCellsChanged);
    connect(m_connection, &ServerConnection::errorOccurred, this, &MainWindow::onError);
    connect(m_planetView, &PlanetView::frameRendered, this, [this] {
        ++m_framesCounted;
        drawMachines();
    });

    m_statisticsClock.start();
    m_statisticsTimer.setInterval(1000);
    connect(&m_statisticsTimer, &QTimer::timeout, this, &MainWindow::updateStatistics);
    m_statisticsTimer.start();
    updateStatistics();
    onStateChanged(m_connection->state());

    QSize size(1280, 800);
    if (const QScreen *screen = QGuiApplication::primaryScreen())
        size = size.boundedTo(screen->availableGeometry().size());
    resize(size);
    m_planetView->setFocus();
}

MainWindow::~MainWindow()
{
    // Frames held for the view's next frame go on without it.
    m_connection->setFrameScheduler({});
}

void MainWindow::drawMachines()
{
    const geometry::HexSphere *sphere = m_planetView->sphere();
    const protocol::VisibleCells *cells = m_planetView->cells();
    if (!sphere || !cells || !m_machineLayer)
        return;
    // Belts' items and machines' progress, between the server states around the render
    // time (the same clock as the cursors').
    const auto time = m_renderClock.renderTime(m_localClock.elapsed());
    if (!time)
        return;
    const std::vector<MachineMotion> motions = m_connection->machines().at(*time);
    m_machineLayer->draw(*sphere, *cells, motions);
}

bool MainWindow::hasPlanet() const
{
    return m_planetView->hasPlanet();
}

QString MainWindow::statisticsText() const
{
    return m_statisticsLabel->text();
}

QString MainWindow::connectionText() const
{
    return m_connectionLabel->text();
}

void MainWindow::setKeyBindings(const KeyBindings &keys)
{
    m_gameMenuAction->setShortcut(keys.gameMenu);
    m_chatAction->setShortcut(keys.chat);
    if (!keys.rotate.isEmpty())
        m_planetView->setRotateKey(keys.rotate[0].key());
    m_planetView->orbitCamera()->setKeys(keys.camera);
}

void MainWindow::showGameMenu()
{
    const QSize menuSize = m_gameMenu->sizeHint();
    const QPoint centre = rect().center() - QPoint(menuSize.width() / 2, menuSize.height() / 2);
    m_gameMenu->popup(mapToGlobal(centre));
}

void MainWindow::onEscape()
{
    if (m_buildDock->currentTool().kind != BuildTool::Kind::None) {
        m_buildDock->clearTool();
        return;
    }
    showGameMenu();
}

void MainWindow::showConnectionStatus(const QString &text)
{
    m_connectionLabel->setText(text);
}

void MainWindow::onStateChanged(ServerConnection::State state)
{
    const QString address = m_connection->url().toString(QUrl::RemoveUserInfo);
    switch (state) {
    case ServerConnection::State::Disconnected:
        if (m_connection->errorString().isEmpty())
            showConnectionStatus(tr("Disconnected"));
        else
            showConnectionStatus(tr("Disconnected: %1").arg(m_connection->errorString()));
        return;
    case ServerConnection::State::Connecting:
        showConnectionStatus(tr("Connecting to %1…").arg(address));
        return;
    case ServerConnection::State::Joining:
        showConnectionStatus(tr("Joining the game at %1…").arg(address));
        return;
    case ServerConnection::State::Joined:
        showConnectionStatus(
            tr("Connected to %1, world “%2”").arg(address, m_connection->world().name));
        return;
    }
}

void MainWindow::onWorldReceived(const WorldDescription &world)
{
    m_cells = world.cellCount;
    m_tick = world.tick;
    setWindowTitle(tr("Hexsphere — %1").arg(world.name));
    onStateChanged(m_connection->state());
    updateStatistics();
}

void MainWindow::onSnapshotReceived(quint64 tick)
{
    m_tick = tick;
    // A new snapshot: pending predictions start over from it (their answers still come).
    resetPredictions();
    m_cursors.clear();
    if (m_machineLayer)
        m_machineLayer->clear();
    // The connection owns both the sphere and the mirror and outlives the view.
    const std::shared_ptr<const geometry::HexSphere> sphere = m_connection->sphere();
    if (m_planetView->sphere() == sphere.get() && m_planetView->cells() == &m_connection->cells()) {
        m_planetView->refreshAll();
        qCInfo(lcUi).nospace() << "tick " << tick << ": recoloured the planet from a snapshot";
        return;
    }
    m_planetView->showPlanet(sphere, &m_connection->cells());
    if (!m_machineLayer) {
        m_machineLayer = std::make_unique<MachineLayer>(m_planetView->sceneRoot(),
                                                        PlanetView::planetOrientation());
    }
    qCInfo(lcUi).nospace() << "tick " << tick << ": showing the planet";
}

std::optional<std::pair<geometry::Vec3, float>> MainWindow::cameraView() const
{
    // What the camera can see: the cap inside the horizon (acos(1/d) from the point
    // under the camera, d its distance in planet radii), with a margin so that chunks
    // arrive before they come over the horizon while the globe turns.
    const QVector3D camera = PlanetView::planetOrientation().inverted().rotatedVector(
        m_planetView->orbitCamera()->position());
    const float distance = camera.length();
    if (distance <= 1.0f)
        return std::nullopt;
    const float horizon = qRadiansToDegrees(std::acos(1.0f / distance));
    return std::pair{geometry::Vec3{camera.x(), camera.y(), camera.z()},
                     std::min(180.0f, horizon + kViewMarginDegrees)};
}

void MainWindow::sendView()
{
    if (!m_planetView->hasPlanet())
        return;
    if (const auto view = cameraView())
        m_connection->setView(view->first, view->second);
}

void MainWindow::resetPredictions()
{
    m_predictor.reset(m_connection->sphere(), m_connection->cells(), m_connection->playerId(),
                      m_connection->inventory());
}

void MainWindow::onTickReceived(quint64 tick)
{
    ++m_ticksCounted;
    m_tick = tick;
}

void MainWindow::onCellsChanged()
{
    m_planetView->updateCells(m_connection->lastChangedCells());
    // The server's changes rebase the pending predictions.
    m_planetView->updateCells(m_predictor.sync(m_connection->cells(),
                                               m_connection->lastChangedCells(),
                                               m_connection->inventory()));
    updateCellDetails();
}

QString MainWindow::cellDetailsText() const
{
    return m_cellLabel->text();
}

void MainWindow::updateCellDetails()
{
    const std::optional<geometry::CellId> cell = m_planetView->hoveredCell();
    m_cellLabel->setText(cell ? describeCell(*cell) : QString());
}

QString MainWindow::describeCell(geometry::CellId cell) const
{
    const protocol::VisibleCells &cells = m_connection->cells();
    if (cell >= cells.cellCount())
        return QString();

    QStringList parts;
    parts << tr("Cell %1").arg(cell);
    switch (sim::Terrain(cells.terrain[cell])) {
    case sim::Terrain::DeepWater:
        parts << tr("deep water");
        break;
    case sim::Terrain::ShallowWater:
        parts << tr("shallow water");
        break;
    case sim::Terrain::Sand:
        parts << tr("sand");
        break;
    case sim::Terrain::Grassland:
        parts << tr("grassland");
        break;
    case sim::Terrain::Forest:
        parts << tr("forest");
        break;
    case sim::Terrain::Desert:
        parts << tr("desert");
        break;
    case sim::Terrain::Rock:
        parts << tr("rock");
        break;
    case sim::Terrain::Snow:
        parts << tr("snow");
        break;
    default:
        parts << tr("terrain %1").arg(cells.terrain[cell]);
        break;
    }
    if (const std::uint8_t resource = cells.resource[cell]; resource != sim::kNoResource) {
        const QString name = resource < m_content.resources.size()
                                 ? m_content.resources[resource].name
                                 : QString::number(resource);
        parts << tr("resource: %1").arg(name);
    }
    parts << tr("flora %1").arg(cells.flora[cell]);
    parts << tr("water %1").arg(cells.water[cell]);
    parts << tr("pollution %1").arg(cells.pollution[cell]);
    const std::uint16_t owner = cells.owner[cell];
    if (owner == sim::kNoPlayer)
        parts << tr("unclaimed");
    else if (owner == m_connection->playerId())
        parts << tr("owner: you");
    else
        parts << tr("owner: player %1").arg(owner);
    if (const std::uint16_t structure = cells.structure[cell]; structure != sim::kNoStructure) {
        const QString name = structure < m_content.prototypes.size()
                                 ? m_content.prototypes[structure].name
                                 : QString::number(structure);
        parts << tr("structure: %1").arg(name);
    }
    return parts.join(QStringLiteral("  ·  "));
}

quint32 MainWindow::applyTool(geometry::CellId cell)
{
    const BuildTool tool = m_buildDock->currentTool();
    sim::Action action;
    action.cell = cell;
    switch (tool.kind) {
    case BuildTool::Kind::None:
        return 0;
    case BuildTool::Kind::Claim:
        action.kind = sim::ActionKind::Claim;
        return send(action, tr("Claim"));
    case BuildTool::Kind::Build: {
        action.kind = sim::ActionKind::Build;
        action.prototype = tool.prototype;
        const QString name = tool.prototype < m_content.prototypes.size()
                                 ? m_content.prototypes[tool.prototype].name
                                 : QString::number(tool.prototype);
        return send(action, tr("Build %1").arg(name));
    }
    case BuildTool::Kind::Remove:
        action.kind = sim::ActionKind::Remove;
        return send(action, tr("Remove"));
    }
    return 0;
}

quint32 MainWindow::rotateStructure(geometry::CellId cell)
{
    const protocol::VisibleCells &cells = m_connection->cells();
    const std::shared_ptr<const geometry::HexSphere> sphere = m_connection->sphere();
    if (!sphere || cell >= cells.cellCount() || cell >= sphere->cellCount())
        return 0;
    if (cells.structure[cell] == sim::kNoStructure) {
        showActionMessage(tr("Nothing stands on cell %1 to rotate.").arg(cell));
        return 0;
    }
    const auto sides = int(sphere->neighbours(cell).size());
    sim::Action action;
    action.kind = sim::ActionKind::Rotate;
    action.cell = cell;
    action.orientation = std::uint8_t((cells.orientation[cell] + 1) % sides);
    return send(action, tr("Rotate"));
}

quint32 MainWindow::send(const sim::Action &action, const QString &what)
{
    const quint32 seq = m_connection->sendAction(action);
    if (seq == 0) {
        showActionMessage(tr("Not connected: “%1” was not sent.").arg(what));
        return 0;
    }
    m_pendingActions[seq] = what;
    // Shown at once, by the simulation's own rules; the server's answer settles it.
    sim::Action predicted = action;
    predicted.clientSeq = seq;
    predicted.player = m_connection->playerId();
    m_planetView->updateCells(m_predictor.predict(predicted).cells);
    qCInfo(lcUi).nospace() << "tick " << m_tick << ": sent action " << seq << " ("
                           << int(action.kind) << ") on cell " << action.cell;
    emit actionSent(seq, int(action.kind), action.cell);
    return seq;
}

void MainWindow::onActionResult(quint32 clientSeq, quint32 cell, int reason, const QString &message)
{
    const auto pending = m_pendingActions.find(clientSeq);
    const QString what = pending != m_pendingActions.end() ? pending->second : tr("Action");
    if (pending != m_pendingActions.end())
        m_pendingActions.erase(pending);
    // Accepted: the real change came with this tick. Refused: the cell rolls back.
    m_planetView->updateCells(m_predictor.resolve(clientSeq));
    if (reason == 0) {
        qCInfo(lcUi).nospace() << "tick " << m_tick << ": action " << clientSeq << " on cell "
                               << cell << " applied";
        showActionMessage(tr("%1 on cell %2: done.").arg(what).arg(cell));
        return;
    }
    qCInfo(lcUi).nospace() << "tick " << m_tick << ": action " << clientSeq << " on cell " << cell
                           << " refused: " << message;
    showActionMessage(tr("%1 on cell %2 refused: %3").arg(what).arg(cell).arg(message));
    // The reason, next to the cell that rolled back.
    if (const auto pixel = m_planetView->pixelOfCell(geometry::CellId(cell))) {
        QToolTip::showText(m_planetView->window3D()->mapToGlobal(pixel->toPoint()),
                           tr("Refused: %1").arg(message), m_planetView, {}, kActionMessageMs);
    }
}

void MainWindow::showActionMessage(const QString &text)
{
    m_actionMessage = text;
    statusBar()->showMessage(text, kActionMessageMs);
}

void MainWindow::onError(const QString &message)
{
    showConnectionStatus(tr("Error: %1").arg(message));
}

void MainWindow::updateStatistics()
{
    const qint64 elapsedMs = m_statisticsClock.restart();
    if (elapsedMs > 0) {
        m_fps = m_framesCounted * 1000.0 / double(elapsedMs);
        m_ups = m_ticksCounted * 1000.0 / double(elapsedMs);
    }
    m_framesCounted = 0;
    m_ticksCounted = 0;
    m_statisticsLabel->setText(tr("FPS: %1  UPS: %2  Tick: %3  Cells: %4")
                                   .arg(qRound(m_fps))
                                   .arg(qRound(m_ups))
                                   .arg(m_tick)
                                   .arg(m_cells));
}

} // namespace hex::client
