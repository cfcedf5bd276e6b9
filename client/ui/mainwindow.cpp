#include "mainwindow.h"

#include "render/planetview.h"

#include "geometry/hexsphere.h"
#include "protocol/worldcodec.h"

#include <QAction>
#include <QApplication>
#include <QElapsedTimer>
#include <QLabel>
#include <QLoggingCategory>
#include <QMenuBar>
#include <QScreen>
#include <QStatusBar>

namespace hex::client {

namespace {
Q_LOGGING_CATEGORY(lcUi, "hex.client.ui")
}

MainWindow::MainWindow(ServerConnection *connection, QWidget *parent)
    : QMainWindow(parent)
    , m_connection(connection)
{
    setWindowTitle(tr("Hexsphere"));

    m_planetView = new PlanetView(this);
    setCentralWidget(m_planetView);

    QMenu *gameMenu = menuBar()->addMenu(tr("&Game"));
    QAction *quit = gameMenu->addAction(tr("&Quit"));
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);
    connect(quit, &QAction::triggered, this, &QWidget::close);

    m_connectionLabel = new QLabel(this);
    m_statisticsLabel = new QLabel(this);
    m_statisticsLabel->setTextFormat(Qt::PlainText);
    m_connectionLabel->setTextFormat(Qt::PlainText);
    statusBar()->addWidget(m_connectionLabel, 1);
    statusBar()->addPermanentWidget(m_statisticsLabel);

    connect(m_connection, &ServerConnection::stateChanged, this, &MainWindow::onStateChanged);
    connect(m_connection, &ServerConnection::worldReceived, this, &MainWindow::onWorldReceived);
    connect(m_connection, &ServerConnection::snapshotReceived, this,
            &MainWindow::onSnapshotReceived);
    connect(m_connection, &ServerConnection::tickReceived, this,
            [this](quint64 tick, qint64) { onTickReceived(tick); });
    connect(m_connection, &ServerConnection::cellsChanged, this, &MainWindow::onCellsChanged);
    connect(m_connection, &ServerConnection::errorOccurred, this, &MainWindow::onError);
    connect(m_planetView, &PlanetView::frameRendered, this, [this] { ++m_framesCounted; });

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

MainWindow::~MainWindow() = default;

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
    // The connection owns both the sphere and the mirror and outlives the view.
    const std::shared_ptr<const geometry::HexSphere> sphere = m_connection->sphere();
    if (m_planetView->sphere() == sphere.get() && m_planetView->cells() == &m_connection->cells()) {
        m_planetView->refreshAll();
        qCInfo(lcUi).nospace() << "tick " << tick << ": recoloured the planet from a snapshot";
        return;
    }
    m_planetView->showPlanet(sphere, &m_connection->cells());
    qCInfo(lcUi).nospace() << "tick " << tick << ": showing the planet";
}

void MainWindow::onTickReceived(quint64 tick)
{
    ++m_ticksCounted;
    m_tick = tick;
}

void MainWindow::onCellsChanged()
{
    m_planetView->updateCells(m_connection->lastChangedCells());
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
