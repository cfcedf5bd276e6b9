#include "shell.h"

#include "app/settings.h"
#include "net/landiscovery.h"
#include "net/serverlistmodel.h"
#include "render/glinfo.h"
#include "render/planetview.h"
#include "ui/hostdialog.h"
#include "ui/joindialog.h"
#include "ui/mainwindow.h"
#include "ui/settingsdialog.h"
#include "ui/startscreen.h"

#include "geometry/hexsphere.h"

#include <Qt3DExtras/Qt3DWindow>

#include <QCoreApplication>
#include <QLocale>
#include <QLoggingCategory>
#include <QMessageBox>
#include <QProgressDialog>
#include <QSurfaceFormat>

#include <utility>

namespace hex::client {

namespace {

/// The first key of `sequence`, without modifiers; `fallback` when it has none.
int firstKey(const QKeySequence &sequence, int fallback)
{
    return sequence.isEmpty() ? fallback : int(sequence[0].key());
}

/// What the game window's keys are, from the player's settings.
MainWindow::KeyBindings keyBindings(const Settings &settings)
{
    MainWindow::KeyBindings keys;
    keys.gameMenu = settings.keyBinding(KeyAction::GameMenu);
    keys.chat = settings.keyBinding(KeyAction::Chat);
    keys.rotate = settings.keyBinding(KeyAction::RotateStructure);
    keys.camera.left = firstKey(settings.keyBinding(KeyAction::CameraLeft), Qt::Key_A);
    keys.camera.right = firstKey(settings.keyBinding(KeyAction::CameraRight), Qt::Key_D);
    keys.camera.up = firstKey(settings.keyBinding(KeyAction::CameraUp), Qt::Key_W);
    keys.camera.down = firstKey(settings.keyBinding(KeyAction::CameraDown), Qt::Key_S);
    keys.camera.zoomIn = firstKey(settings.keyBinding(KeyAction::ZoomIn), Qt::Key_Plus);
    keys.camera.zoomOut = firstKey(settings.keyBinding(KeyAction::ZoomOut), Qt::Key_Minus);
    return keys;
}

Q_LOGGING_CATEGORY(lcShell, "hex.client.shell")

/// How often the progress dialog's elapsed time moves on.
constexpr int kProgressTickMs = 250;

/// Sets the graphics settings on the game window's 3D view, before it is shown.
void applyGraphics(MainWindow *window, const Settings &settings)
{
    QWindow *view = window->planetView()->window3D();
    QSurfaceFormat format = view->format();
    format.setSamples(Settings::effectiveMsaaSamples(settings.msaaSamples(),
                                                     isSoftwareRenderer(glRendererName())));
    format.setSwapInterval(settings.vsync() ? 1 : 0);
    view->setFormat(format);
}

} // namespace

Shell::Shell(Settings *settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_serverList(new ServerListModel(this))
    , m_lanDiscovery(new LanDiscovery(m_serverList, this))
{
    m_progressTimer.setInterval(kProgressTickMs);
    connect(&m_progressTimer, &QTimer::timeout, this, &Shell::updateProgress);
    connect(&m_hostedServer, &HostedServer::started, this, &Shell::onHostedStarted);
    connect(&m_hostedServer, &HostedServer::failed, this, &Shell::onHostedFailed);
    connect(&m_hostedServer, &HostedServer::progress, this,
            [this](const QString &stage, qint64 done, qint64 total) {
                m_progressStage = stage;
                if (!m_progress)
                    return;
                // Qt's progress bar counts in int.
                const int scale = total > 1'000'000 ? int(total / 1'000'000 + 1) : 1;
                m_progress->setRange(0, int(total / scale));
                m_progress->setValue(int(done / scale));
                updateProgress();
            });
}

Shell::~Shell()
{
    closeProgress();
    m_gameWindow.reset();
    m_connection.close();
    m_hostedServer.stop();
}

void Shell::showStartScreen()
{
    closeGame();
    if (!m_startScreen) {
        m_startScreen = std::make_unique<StartScreen>();
        connect(m_startScreen.get(), &StartScreen::hostRequested, this, &Shell::openHostDialog);
        connect(m_startScreen.get(), &StartScreen::joinRequested, this, &Shell::openJoinDialog);
        connect(m_startScreen.get(), &StartScreen::settingsRequested, this,
                [this] { openSettings(m_startScreen.get()); });
        connect(m_startScreen.get(), &StartScreen::quitRequested, this, &Shell::quitRequested);
    }
    m_startScreen->show();
    m_startScreen->raise();
    m_startScreen->activateWindow();
}

void Shell::hostNow(const server::ServerConfig &config, const QString &playerName, AfterGame after)
{
    closeGame();
    MainWindow *window = openGameWindow(after);
    m_hostJoin = JoinOptions{playerName, {}, config.joinPassword};
    const int cells = int(geometry::HexSphere::cellCountFor(config.subdivisions));
    window->showConnectionStatus(QCoreApplication::translate(
        "main", "Starting a server for a world of %n cells…", nullptr, cells));
    m_pendingHost = PendingHost::InGameWindow;
    m_hostedServer.start(config);
}

void Shell::joinNow(const QUrl &url, const JoinOptions &join, AfterGame after)
{
    closeGame();
    openGameWindow(after);
    m_connection.open(url, join);
}

void Shell::host(const server::ServerConfig &config)
{
    closeGame();
    m_hostJoin = JoinOptions{config.hostName, {}, config.joinPassword};
    m_progressWorld = config.worldName;
    m_progressStage.clear();
    m_progressCells = geometry::HexSphere::cellCountFor(config.subdivisions);

    m_progress = new QProgressDialog(m_startScreen.get());
    m_progress->setAttribute(Qt::WA_DeleteOnClose);
    m_progress->setWindowTitle(tr("Starting the game"));
    m_progress->setRange(0, 0); // Busy: generation does not report how far it got.
    m_progress->setMinimumDuration(0);
    m_progress->setAutoClose(false);
    m_progress->setAutoReset(false);
    m_progress->setWindowModality(Qt::WindowModal);
    connect(m_progress, &QProgressDialog::canceled, this, &Shell::onProgressCancelled);
    m_progressClock.start();
    updateProgress();
    m_progress->show();
    m_progressTimer.start();

    m_pendingHost = PendingHost::WithProgress;
    m_hostedServer.start(config);
}

void Shell::join(const JoinRequest &request)
{
    joinNow(request.url, request.join, AfterGame::ShowStartScreen);
}

void Shell::leaveGame()
{
    if (m_afterGame == AfterGame::Quit) {
        closeGame();
        emit quitRequested();
        return;
    }
    showStartScreen();
}

void Shell::openHostDialog()
{
    HostDialog dialog(m_settings->playerName(), HostDialog::defaultWorlds(), m_startScreen.get());
    if (dialog.exec() != QDialog::Accepted)
        return;
    host(dialog.config());
}

void Shell::openJoinDialog()
{
    JoinDialog dialog(m_serverList, m_settings->playerName(), m_settings->defaultServer(),
                      m_startScreen.get());
    // The LAN is searched while the dialog is open: servers appear within a second or
    // two, with their ping.
    m_lanDiscovery->start();
    const int answer = dialog.exec();
    m_lanDiscovery->stop();
    if (answer != QDialog::Accepted)
        return;
    join(dialog.request());
}

void Shell::openSettings(QWidget *parent)
{
    SettingsDialog dialog(m_settings, parent);
    if (dialog.exec() != QDialog::Accepted)
        return;
    if (m_gameWindow)
        m_gameWindow->setKeyBindings(keyBindings(*m_settings));
}

MainWindow *Shell::openGameWindow(AfterGame after)
{
    if (m_gameWindow)
        m_gameWindow.release()->deleteLater();
    m_afterGame = after;
    m_gameWindow = std::make_unique<MainWindow>(&m_connection);
    MainWindow *window = m_gameWindow.get();
    applyGraphics(window, *m_settings);
    window->setKeyBindings(keyBindings(*m_settings));
    connect(window, &MainWindow::leaveRequested, this, &Shell::leaveGame, Qt::QueuedConnection);
    connect(window, &MainWindow::settingsRequested, this, [this, window] { openSettings(window); });
    window->show();
    if (m_startScreen)
        m_startScreen->hide();
    return window;
}

void Shell::closeGame()
{
    m_pendingHost = PendingHost::None;
    closeProgress();
    m_connection.close();
    m_hostedServer.stop();
    if (m_gameWindow) {
        qCInfo(lcShell) << "leaving the game";
        m_gameWindow->hide();
        // Deleted later: the window may be inside one of its own signals.
        m_gameWindow.release()->deleteLater();
    }
}

void Shell::onHostedStarted()
{
    const PendingHost pending = std::exchange(m_pendingHost, PendingHost::None);
    if (pending == PendingHost::None)
        return; // Given up on while it started.
    if (pending == PendingHost::WithProgress) {
        // Started from the Host dialog: the game window opens now.
        closeProgress();
        openGameWindow(AfterGame::ShowStartScreen);
    }
    // The same WebSocket path any remote player takes.
    m_connection.open(m_hostedServer.joinUrl(), m_hostJoin);
}

void Shell::onHostedFailed(const QString &reason)
{
    if (std::exchange(m_pendingHost, PendingHost::None) == PendingHost::None)
        return;
    const QString message
        = QCoreApplication::translate("main", "Could not start the server: %1").arg(reason);
    if (m_gameWindow) {
        m_gameWindow->showConnectionStatus(message);
        return;
    }
    closeProgress();
    auto *box = new QMessageBox(QMessageBox::Warning, tr("Host a game"), message, QMessageBox::Ok,
                                m_startScreen.get());
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void Shell::onProgressCancelled()
{
    qCInfo(lcShell) << "hosting cancelled";
    m_pendingHost = PendingHost::None;
    closeProgress();
    // Blocks until the server thread is done with what it was doing.
    m_hostedServer.stop();
    showStartScreen();
}

QProgressDialog *Shell::progressDialog() const
{
    return m_progress;
}

void Shell::updateProgress()
{
    if (!m_progress)
        return;
    const qint64 seconds = m_progressClock.elapsed() / 1000;
    const QString stage = !m_progressStage.isEmpty()
                              ? m_progressStage
                              : tr("Starting the world “%1”…").arg(m_progressWorld);
    m_progress->setLabelText(tr("%1\n%2 cells, %3 s elapsed")
                                 .arg(stage, QLocale().toString(m_progressCells))
                                 .arg(seconds));
}

void Shell::closeProgress()
{
    m_progressTimer.stop();
    if (!m_progress)
        return;
    QProgressDialog *progress = m_progress;
    m_progress = nullptr;
    progress->disconnect(this);
    progress->close();
}

} // namespace hex::client
