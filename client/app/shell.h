#pragma once

#include "app/hostedserver.h"
#include "net/serverconnection.h"

#include "serverconfig.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <memory>

class QProgressDialog;
class QWidget;

namespace hex::client {

class MainWindow;
class LanDiscovery;
class ServerListModel;
class Settings;
class StartScreen;
struct JoinRequest;

/// The client's flow from window to window: the Start screen, the Host, Join and
/// Settings dialogs, the progress while a hosted world starts, and the game window,
/// back to the Start screen when the player leaves. Owns the hosted server, the
/// connection and the LAN server list. The command line's --host and --connect skip
/// the Start screen (hostNow(), joinNow()). GUI thread only.
class Shell : public QObject
{
    Q_OBJECT
public:
    /// What Leave game in the game menu does.
    enum class AfterGame {
        /// Close the game and show the Start screen again.
        ShowStartScreen,
        /// Quit the client: the game was started from the command line.
        Quit,
    };
    Q_ENUM(AfterGame)

    /// `settings` must outlive the shell.
    explicit Shell(Settings *settings, QObject *parent = nullptr);
    ~Shell() override;

    /// Shows the Start screen (and closes any game).
    void showStartScreen();
    /// Opens the game window at once and hosts `config` in it, joining as
    /// `playerName`; the window's status bar tells how the start goes.
    void hostNow(const server::ServerConfig &config, const QString &playerName, AfterGame after);
    /// Opens the game window at once and joins `url` as `join` says.
    void joinNow(const QUrl &url, const JoinOptions &join, AfterGame after);
    /// Hosts `config` the Start screen's way: a progress dialog (Cancel goes back to
    /// the Start screen) until the server listens, then the game window.
    void host(const server::ServerConfig &config);
    /// Joins as the Join dialog asked: the game window, connecting.
    void join(const JoinRequest &request);
    /// Closes the connection, stops the hosted server and closes the game window;
    /// then shows the Start screen or quits, as the game was started.
    void leaveGame();

    /// The LAN servers the Join dialog lists. LanDiscovery is to be given this model
    /// to fill.
    ServerListModel *serverList() const { return m_serverList; }
    StartScreen *startScreen() const { return m_startScreen.get(); }
    /// The game window; null while none is open.
    MainWindow *gameWindow() const { return m_gameWindow.get(); }
    /// The progress dialog while a hosted world starts; null otherwise.
    QProgressDialog *progressDialog() const;
    HostedServer &hostedServer() { return m_hostedServer; }
    ServerConnection &connection() { return m_connection; }

    /// The Start screen's choices, as its buttons do; the dialogs are modal.
    void openHostDialog();
    void openJoinDialog();
    void openSettings(QWidget *parent);

signals:
    /// The player chose Quit, or left a game started from the command line.
    void quitRequested();

private:
    /// Opens a new game window; the hosted server and the connection are left as
    /// they are.
    MainWindow *openGameWindow(AfterGame after);
    void closeGame();
    void onHostedStarted();
    void onHostedFailed(const QString &reason);
    void onProgressCancelled();
    void updateProgress();
    void closeProgress();

    Settings *m_settings = nullptr;
    ServerListModel *m_serverList = nullptr;
    /// Searches the LAN while the Join dialog is open.
    LanDiscovery *m_lanDiscovery = nullptr;
    HostedServer m_hostedServer;
    ServerConnection m_connection;
    std::unique_ptr<StartScreen> m_startScreen;
    std::unique_ptr<MainWindow> m_gameWindow;
    AfterGame m_afterGame = AfterGame::ShowStartScreen;
    /// How the hosted server now starting was asked for: it decides what its
    /// started() opens. None once it started, failed or was given up.
    enum class PendingHost { None, InGameWindow, WithProgress };
    PendingHost m_pendingHost = PendingHost::None;
    /// Who joins the hosted game once it listens.
    JoinOptions m_hostJoin;
    QPointer<QProgressDialog> m_progress;
    QString m_progressWorld;
    /// What the hosted server last said it is doing.
    QString m_progressStage;
    quint64 m_progressCells = 0;
    QElapsedTimer m_progressClock;
    QTimer m_progressTimer;
};

} // namespace hex::client
