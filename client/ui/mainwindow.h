#pragma once

#include "net/actionpredictor.h"
#include "net/interpolation.h"
#include "render/orbitcamera.h"

#include "net/serverconnection.h"
#include "ui/builddock.h"

#include "sim/content.h"

#include <QElapsedTimer>
#include <QMainWindow>
#include <QTimer>

#include <map>
#include <memory>
#include <optional>

class QLabel;
class QMenu;

namespace hex::client {

class ChatDock;
class InventoryDock;
class MachineLayer;
class NetGraphDock;
class PlanetView;
class PlayersDock;
class RecipeDock;

/// The client's main window: the planet view in the middle, the Build and Inventory
/// docks beside it, Game and View menus, and a status bar with the hovered cell's
/// details, the connection state and "FPS  UPS  Tick  Cells" statistics. Shows the
/// world a ServerConnection mirrors: the whole planet on each snapshot, the changed
/// cells on each tick. A click on the planet applies the Build dock's tool through
/// ServerConnection::sendAction(); R rotates the structure under the mouse, Escape puts
/// the tool away, or opens the game menu (Resume, Settings, Leave game) when no tool is
/// held. Lives in the GUI thread.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    /// `connection` must outlive the window.
    explicit MainWindow(ServerConnection *connection, QWidget *parent = nullptr);
    ~MainWindow() override;

    PlanetView *planetView() const { return m_planetView; }
    /// The machines' moving parts, or null before the first frame of a planet.
    MachineLayer *machineLayer() const { return m_machineLayer.get(); }
    BuildDock *buildDock() const { return m_buildDock; }
    InventoryDock *inventoryDock() const { return m_inventoryDock; }
    ChatDock *chatDock() const { return m_chatDock; }
    PlayersDock *playersDock() const { return m_playersDock; }
    /// Hidden at first; View ▸ Net graph or F3 toggles it.
    NetGraphDock *netGraphDock() const { return m_netGraphDock; }
    /// Shows the machine last clicked with no build tool.
    RecipeDock *recipeDock() const { return m_recipeDock; }
    /// The content the docks and cell details name things from: the game's default.
    const sim::Content &content() const { return m_content; }
    /// The predictions of the player's actions not yet answered.
    const ActionPredictor &predictor() const { return m_predictor; }
    /// The hovered cell's details as shown in the status bar; empty when none.
    QString cellDetailsText() const;
    /// One line about `cell` as the mirror shows it: id, terrain, resource, flora,
    /// water, pollution, owner ("you" or "player N") and structure. Empty for a cell
    /// the mirror does not hold.
    QString describeCell(geometry::CellId cell) const;
    /// The last sentence about an action: sent, refused (with the server's reason) or
    /// done. Also shown in the status bar for a few seconds.
    QString actionMessage() const { return m_actionMessage; }
    /// True once a snapshot was shown on the planet view.
    bool hasPlanet() const;
    /// The statistics as shown in the status bar.
    QString statisticsText() const;
    /// The connection state as shown in the status bar.
    QString connectionText() const;
    /// The menu Escape opens: Resume, Settings…, Leave game.
    QMenu *gameMenu() const { return m_gameMenu; }
    /// The player's keys (Settings, Keys tab).
    struct KeyBindings
    {
        /// Opens the game menu (Escape by default). Escape on the planet view always
        /// does, once the tool is put away.
        QKeySequence gameMenu{Qt::Key_Escape};
        /// Puts the focus in the chat input.
        QKeySequence chat{Qt::Key_T};
        /// Rotates the structure under the mouse: the first key of the sequence.
        QKeySequence rotate{Qt::Key_R};
        /// Turns and zooms the camera, besides the arrow keys.
        OrbitCamera::Keys camera;
    };
    void setKeyBindings(const KeyBindings &keys);

public slots:
    /// Shows `text` as the connection state, e.g. while the hosted server starts.
    void showConnectionStatus(const QString &text);
    /// Applies the Build dock's tool to `cell`, as a click on it does: sends one
    /// action, or none when no tool is chosen. Returns its client sequence number, 0 when
    /// nothing was sent.
    quint32 applyTool(geometry::CellId cell);
    /// Sends a Rotate action turning the structure on `cell` one side on, as R does.
    /// Returns its client sequence number, 0 when nothing was sent.
    quint32 rotateStructure(geometry::CellId cell);
    /// Opens the game menu in the middle of the window.
    void showGameMenu();

signals:
    /// The player chose Leave game in the game menu.
    void leaveRequested();
    /// The player chose Settings… in the game menu.
    void settingsRequested();
    /// An action went to the server as `clientSeq`: `kind` is a sim::ActionKind value.
    void actionSent(quint32 clientSeq, int kind, quint32 cell);

private:
    void onStateChanged(ServerConnection::State state);
    /// Escape: puts the tool away, or opens the game menu when none is held.
    void onEscape();
    void onWorldReceived(const WorldDescription &world);
    /// Draws the machines' moving parts for this frame.
    void drawMachines();
    /// The cap of the planet the camera can see (unit direction, radius in degrees),
    /// with a margin; nullopt when the camera is inside the planet.
    std::optional<std::pair<geometry::Vec3, float>> cameraView() const;
    void onSnapshotReceived(quint64 tick);
    void onTickReceived(quint64 tick);
    void onCellsChanged();
    /// Starts the predictions over from the current mirror.
    void resetPredictions();
    /// Asks the server for the chunks the camera can see (see ServerConnection::setView).
    void sendView();
    void onError(const QString &message);
    void updateStatistics();
    void updateCellDetails();
    quint32 send(const sim::Action &action, const QString &what);
    void onActionResult(quint32 clientSeq, quint32 cell, int reason, const QString &message);
    void showActionMessage(const QString &text);

    ServerConnection *m_connection = nullptr;
    PlanetView *m_planetView = nullptr;
    QLabel *m_connectionLabel = nullptr;
    QLabel *m_statisticsLabel = nullptr;
    QLabel *m_cellLabel = nullptr;
    QMenu *m_gameMenu = nullptr;
    QAction *m_gameMenuAction = nullptr;
    QAction *m_chatAction = nullptr;
    sim::Content m_content;
    /// Shows the player's own actions before the server answers.
    ActionPredictor m_predictor;
    /// Other players' cursors, drawn a render delay behind the newest tick.
    RenderClock m_renderClock;
    CursorTracks m_cursors;
    /// The machines' moving parts, drawn every frame at the render clock's time.
    std::unique_ptr<MachineLayer> m_machineLayer;
    QElapsedTimer m_localClock;
    /// Sends the hovered cell as the player's cursor at most every 100 ms.
    QTimer *m_cursorTimer = nullptr;
    BuildDock *m_buildDock = nullptr;
    InventoryDock *m_inventoryDock = nullptr;
    ChatDock *m_chatDock = nullptr;
    PlayersDock *m_playersDock = nullptr;
    NetGraphDock *m_netGraphDock = nullptr;
    RecipeDock *m_recipeDock = nullptr;
    /// What each action still awaiting its result was, by client sequence number.
    std::map<quint32, QString> m_pendingActions;
    QString m_actionMessage;

    QTimer m_statisticsTimer;
    QElapsedTimer m_statisticsClock;
    int m_framesCounted = 0;
    int m_ticksCounted = 0;
    double m_fps = 0.0;
    double m_ups = 0.0;
    quint64 m_tick = 0;
    quint32 m_cells = 0;
};

} // namespace hex::client
