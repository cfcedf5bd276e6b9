#include "netgraphdock.h"

#include "net/serverconnection.h"
#include "render/planetview.h"

#include <QLocale>
#include <QPaintEvent>
#include <QPainter>
#include <QPainterPath>

namespace hex::client {

namespace {

/// Height of one chart, its label included, in pixels.
constexpr int kChartHeight = 64;
constexpr int kMargin = 4;

QColor seriesColour(NetStats::Series series)
{
    switch (series) {
    case NetStats::Series::Fps:
        return QColor(0x2e, 0xa0, 0x43);
    case NetStats::Series::Ups:
        return QColor(0x1f, 0x6f, 0xd0);
    case NetStats::Series::Ping:
        return QColor(0xd0, 0x7a, 0x12);
    case NetStats::Series::BytesPerSecond:
        return QColor(0x9b, 0x3f, 0xc4);
    }
    return Qt::black;
}

} // namespace

NetGraph::NetGraph(QWidget *parent)
    : QWidget(parent)
{
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
}

void NetGraph::setStats(const NetStats *stats)
{
    m_stats = stats;
    update();
}

QSize NetGraph::sizeHint() const
{
    return QSize(260, int(NetStats::kAllSeries.size()) * kChartHeight + kMargin);
}

QSize NetGraph::minimumSizeHint() const
{
    return QSize(160, sizeHint().height());
}

QString NetGraph::formatValue(NetStats::Series series, double value) const
{
    const QLocale locale;
    switch (series) {
    case NetStats::Series::Fps:
    case NetStats::Series::Ups:
        return locale.toString(qRound(value));
    case NetStats::Series::Ping:
        if (value < 0)
            return tr("—");
        return tr("%1 ms").arg(locale.toString(qRound(value)));
    case NetStats::Series::BytesPerSecond:
        return locale.formattedDataSize(qint64(value), 1, QLocale::DataSizeSIFormat) + tr("/s");
    }
    return QString();
}

QString NetGraph::label(NetStats::Series series) const
{
    QString name;
    switch (series) {
    case NetStats::Series::Fps:
        name = tr("FPS");
        break;
    case NetStats::Series::Ups:
        name = tr("UPS");
        break;
    case NetStats::Series::Ping:
        name = tr("Ping");
        break;
    case NetStats::Series::BytesPerSecond:
        name = tr("Received");
        break;
    }
    if (!m_stats || m_stats->size() == 0)
        return name;
    const double latest = m_stats->latest(series);
    const double maximum = m_stats->maximum(series);
    const bool noPing = series == NetStats::Series::Ping && maximum <= 0 && latest < 0;
    return tr("%1 %2 (max %3)")
        .arg(name, formatValue(series, latest), formatValue(series, noPing ? -1.0 : maximum));
}

void NetGraph::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.fillRect(rect(), palette().base());
    const int labelHeight = fontMetrics().height();
    int top = kMargin;
    for (const NetStats::Series series : NetStats::kAllSeries) {
        const QRect chart(kMargin, top + labelHeight, width() - 2 * kMargin,
                          kChartHeight - labelHeight - kMargin);
        const QRect labelRect(kMargin, top, chart.width(), labelHeight);
        painter.setPen(palette().color(QPalette::Text));
        painter.drawText(labelRect, Qt::AlignLeft | Qt::AlignVCenter, label(series));
        painter.setPen(palette().color(QPalette::Mid));
        painter.setBrush(Qt::NoBrush);
        painter.drawRect(chart.adjusted(0, 0, -1, -1));
        top += kChartHeight;
        if (!m_stats || m_stats->size() == 0)
            continue;

        const std::vector<double> values = m_stats->values(series);
        const std::vector<qint64> seconds = m_stats->seconds();
        const double axisMax = m_stats->axisMaximum(series);
        const qint64 newest = m_stats->newestSecond();
        const double xStep = double(chart.width() - 1) / double(NetStats::kWindowSeconds - 1);
        QPainterPath path;
        bool drawing = false;
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (values[i] < 0) { // An unknown ping: a gap in the line.
                drawing = false;
                continue;
            }
            const double x = chart.right() - double(newest - seconds[i]) * xStep;
            const double y = chart.bottom() - values[i] / axisMax * double(chart.height() - 2);
            if (drawing)
                path.lineTo(x, y);
            else
                path.moveTo(x, y);
            drawing = true;
        }
        painter.setPen(QPen(seriesColour(series), 1.5));
        painter.drawPath(path);

        // The axis' top in the chart's top left corner (the oldest data), on a backing
        // that keeps it legible where the line runs through.
        const QString axisText = formatValue(series, axisMax);
        QRect axisRect = painter.fontMetrics().boundingRect(axisText).adjusted(-2, 0, 2, 0);
        axisRect.moveTopLeft(chart.topLeft() + QPoint(1, 1));
        QColor backing = palette().color(QPalette::Base);
        backing.setAlpha(200);
        painter.fillRect(axisRect, backing);
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.drawText(axisRect, Qt::AlignCenter, axisText);
    }
}

NetGraphDock::NetGraphDock(PlanetView *view, ServerConnection *connection, QWidget *parent)
    : QDockWidget(tr("Net graph"), parent)
    , m_connection(connection)
{
    setObjectName(QStringLiteral("netGraphDock"));
    setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable
                | QDockWidget::DockWidgetClosable);
    m_graph = new NetGraph(this);
    m_graph->setStats(&m_stats);
    setWidget(m_graph);

    connect(view, &PlanetView::frameRendered, this, [this] { ++m_frames; });
    connect(connection, &ServerConnection::tickReceived, this, [this] { ++m_ticks; });
    m_clock.start();
    m_sinceSample.start();
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, &NetGraphDock::sample);
    m_timer.start();
}

void NetGraphDock::sample()
{
    const qint64 elapsedMs = m_sinceSample.restart();
    const double seconds = elapsedMs > 0 ? double(elapsedMs) / 1000.0 : 1.0;
    // Round to the nearest second, so a timer that fires a little early still moves on.
    const qint64 second = (m_clock.elapsed() + 500) / 1000;
    m_stats.push(second, m_frames / seconds, m_ticks / seconds, m_connection->pingMs(),
                 m_connection->bytesReceived());
    m_frames = 0;
    m_ticks = 0;
    if (isVisible())
        m_graph->update();
}

} // namespace hex::client
