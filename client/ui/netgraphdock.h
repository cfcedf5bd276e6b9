#pragma once

#include "ui/netstats.h"

#include <QDockWidget>
#include <QElapsedTimer>
#include <QTimer>
#include <QWidget>

namespace hex::client {

class PlanetView;
class ServerConnection;

/// Four small line charts stacked top to bottom, FPS, UPS, ping and bytes per second,
/// drawn with QPainter from a NetStats. Each names its series with the newest value
/// and the window's maximum; its vertical axis runs from 0 to NetStats::axisMaximum(),
/// its horizontal one over the last NetStats::kWindowSeconds seconds. Lives in the GUI
/// thread.
class NetGraph : public QWidget
{
    Q_OBJECT
public:
    explicit NetGraph(QWidget *parent = nullptr);

    /// Plots `stats`, which must outlive the widget (or be replaced first); null plots
    /// nothing. Call update() after the stats change.
    void setStats(const NetStats *stats);
    /// The label of `series` as drawn, e.g. "FPS 58 (max 61)" or "Ping — (max —)".
    QString label(NetStats::Series series) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    QString formatValue(NetStats::Series series, double value) const;

    const NetStats *m_stats = nullptr;
};

/// The "Net graph" dock: a NetGraph fed once a second with the planet view's frames,
/// the ticks the connection received, its ping and the bytes it received. Hidden at
/// first; View ▸ Net graph or F3 shows it. Lives in the GUI thread.
class NetGraphDock : public QDockWidget
{
    Q_OBJECT
public:
    /// `view` and `connection` must outlive the dock.
    NetGraphDock(PlanetView *view, ServerConnection *connection, QWidget *parent = nullptr);

    /// The samples plotted.
    const NetStats &stats() const { return m_stats; }
    NetGraph *graph() const { return m_graph; }

public slots:
    /// Takes one sample now: frames and ticks counted since the previous one, per second
    /// of time passed. The dock's timer calls it every second.
    void sample();

private:
    ServerConnection *m_connection = nullptr;
    NetGraph *m_graph = nullptr;
    NetStats m_stats;
    QTimer m_timer;
    QElapsedTimer m_clock;
    QElapsedTimer m_sinceSample;
    int m_frames = 0;
    int m_ticks = 0;
};

} // namespace hex::client
