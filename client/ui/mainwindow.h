#pragma once

#include "net/serverconnection.h"

#include <QElapsedTimer>
#include <QMainWindow>
#include <QTimer>

class QLabel;

namespace hex::client {

class PlanetView;

/// The client's main window: the planet view in the middle, a Game menu, and a status
/// bar with the connection state and "FPS  UPS  Tick  Cells" statistics. Shows the
/// world a ServerConnection mirrors: the whole planet on each snapshot, the changed
/// cells on each tick. Lives in the GUI thread.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    /// `connection` must outlive the window.
    explicit MainWindow(ServerConnection *connection, QWidget *parent = nullptr);
    ~MainWindow() override;

    PlanetView *planetView() const { return m_planetView; }
    /// True once a snapshot was shown on the planet view.
    bool hasPlanet() const;
    /// The statistics as shown in the status bar.
    QString statisticsText() const;
    /// The connection state as shown in the status bar.
    QString connectionText() const;

public slots:
    /// Shows `text` as the connection state, e.g. while the hosted server starts.
    void showConnectionStatus(const QString &text);

private:
    void onStateChanged(ServerConnection::State state);
    void onWorldReceived(const WorldDescription &world);
    void onSnapshotReceived(quint64 tick);
    void onTickReceived(quint64 tick);
    void onCellsChanged();
    void onError(const QString &message);
    void updateStatistics();

    ServerConnection *m_connection = nullptr;
    PlanetView *m_planetView = nullptr;
    QLabel *m_connectionLabel = nullptr;
    QLabel *m_statisticsLabel = nullptr;

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
