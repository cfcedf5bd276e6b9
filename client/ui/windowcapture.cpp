#include "windowcapture.h"

#include "render/planetview.h"

#include <Qt3DRender/QRenderCapture>

#include <QGuiApplication>
#include <QPainter>
#include <QPixmap>
#include <QScreen>
#include <QTimer>
#include <QWidget>

namespace hex::client {

namespace {
/// How long Qt3D may take to hand back a frame before the capture is given up.
constexpr int kRenderCaptureTimeoutMs = 10'000;
} // namespace

WindowCapture::WindowCapture(QWidget *window, PlanetView *view, QObject *parent)
    : QObject(parent)
    , m_window(window)
    , m_view(view)
{}

WindowCapture::Method WindowCapture::preferredMethod()
{
    return QGuiApplication::platformName() == QLatin1String("xcb") ? Method::ScreenGrab
                                                                   : Method::RenderCapture;
}

void WindowCapture::capture(Method method)
{
    if (!m_window || !m_view) {
        emit failed(tr("There is no window to capture."));
        return;
    }
    if (method == Method::RenderCapture) {
        captureFromRenderer();
        return;
    }
    QScreen *screen = m_window->screen();
    const QPixmap pixmap = screen ? screen->grabWindow(m_window->winId()) : QPixmap();
    if (pixmap.isNull()) {
        // Some platforms refuse to grab windows: ask Qt3D for the frame instead.
        captureFromRenderer();
        return;
    }
    emit captured(pixmap.toImage(), Method::ScreenGrab);
}

void WindowCapture::captureFromRenderer()
{
    Qt3DRender::QRenderCaptureReply *reply = m_view->requestCapture();
    if (!reply) {
        emit failed(tr("The 3D view could not be captured."));
        return;
    }
    auto *timeout = new QTimer(reply);
    timeout->setSingleShot(true);
    connect(timeout, &QTimer::timeout, this, [this, reply] {
        reply->deleteLater();
        emit failed(tr("The 3D view did not deliver a frame within %1 seconds.")
                        .arg(kRenderCaptureTimeoutMs / 1000));
    });
    connect(reply, &Qt3DRender::QRenderCaptureReply::completed, this, [this, reply] {
        reply->deleteLater();
        if (!m_window || !m_view) {
            emit failed(tr("The window closed during the capture."));
            return;
        }
        const QImage frame = reply->image();
        if (frame.isNull()) {
            emit failed(tr("The 3D view returned an empty frame."));
            return;
        }
        QImage image = m_window->grab().toImage();
        QPainter painter(&image);
        const QRect target(m_view->mapTo(m_window.data(), QPoint(0, 0)), m_view->size());
        painter.drawImage(target, frame);
        painter.end();
        emit captured(image, Method::RenderCapture);
    });
    timeout->start(kRenderCaptureTimeoutMs);
}

} // namespace hex::client
