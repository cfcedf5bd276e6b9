#include "timedscreenshot.h"

#include "mainwindow.h"
#include "render/planetview.h"
#include "windowcapture.h"

#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QImageWriter>

#include <cmath>

namespace hex::client {

namespace {
constexpr int kRetryMs = 100;
}

TimedScreenshot::TimedScreenshot(MainWindow *window, QString path, QObject *parent)
    : QObject(parent)
    , m_window(window)
    , m_path(std::move(path))
{
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, &TimedScreenshot::onDeadline);
    m_retry.setInterval(kRetryMs);
    connect(&m_retry, &QTimer::timeout, this, &TimedScreenshot::tryCapture);
}

void TimedScreenshot::start(double seconds)
{
    m_deadline.start(int(std::lround(std::max(seconds, 0.0) * 1000.0)));
}

void TimedScreenshot::onDeadline()
{
    if (m_path.isEmpty()) {
        emit finished(0, QString());
        return;
    }
    if (!m_window->hasPlanet()) {
        emit finished(
            1, tr("No screenshot: the planet never arrived (%1).").arg(m_window->connectionText()));
        return;
    }
    tryCapture();
}

void TimedScreenshot::tryCapture()
{
    if (m_window->planetView()->framesSincePlanet() < quint64(kFramesBeforeCapture)) {
        m_graceLeftMs -= m_retry.isActive() ? kRetryMs : 0;
        if (m_graceLeftMs <= 0) {
            m_retry.stop();
            emit finished(1, tr("No screenshot: the planet arrived but was never drawn."));
            return;
        }
        if (!m_retry.isActive())
            m_retry.start();
        return;
    }
    m_retry.stop();

    auto *capture = new WindowCapture(m_window, m_window->planetView(), this);
    connect(capture, &WindowCapture::failed, this, [this](const QString &reason) {
        emit finished(1, tr("No screenshot: %1").arg(reason));
    });
    connect(capture, &WindowCapture::captured, this,
            [this](const QImage &image, WindowCapture::Method) {
                const QFileInfo file(m_path);
                QDir().mkpath(file.absolutePath());
                QImageWriter writer(m_path, "png");
                if (!writer.write(image)) {
                    emit finished(1, tr("Could not save the screenshot to %1: %2")
                                         .arg(QDir::toNativeSeparators(file.absoluteFilePath()),
                                              writer.errorString()));
                    return;
                }
                emit finished(0, tr("Screenshot saved to %1.")
                                     .arg(QDir::toNativeSeparators(file.absoluteFilePath())));
            });
    capture->capture();
}

} // namespace hex::client
