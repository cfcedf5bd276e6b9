#pragma once

#include <QImage>
#include <QObject>
#include <QPointer>

class QWidget;

namespace hex::client {

class PlanetView;

/// Takes a picture of a whole top-level window, the 3D view included.
///
/// Widgets alone (QWidget::grab()) leave the embedded 3D window blank, so on X11 the
/// window is read back from the X server (QScreen::grabWindow()), which holds what
/// every child window, GL ones included, last presented. Where the platform cannot
/// grab windows (Wayland, offscreen) the 3D frame is read back from Qt3D with
/// QRenderCapture and painted over the widget grab. Lives in the GUI thread.
class WindowCapture : public QObject
{
    Q_OBJECT
public:
    enum class Method {
        /// QScreen::grabWindow(): the window as the display server shows it.
        ScreenGrab,
        /// QWidget::grab() with Qt3D's own frame (QRenderCapture) painted in.
        RenderCapture,
    };
    Q_ENUM(Method)

    /// `window` is the top-level window to capture and `view` the planet view in it;
    /// both must outlive the capture.
    WindowCapture(QWidget *window, PlanetView *view, QObject *parent = nullptr);

    /// The method capture() will use on this platform.
    static Method preferredMethod();
    /// Starts a capture; reports through captured() or failed(), possibly before
    /// returning.
    void capture(Method method = preferredMethod());

signals:
    void captured(const QImage &image, hex::client::WindowCapture::Method method);
    /// `reason` is one translated sentence.
    void failed(const QString &reason);

private:
    void captureFromRenderer();

    QPointer<QWidget> m_window;
    QPointer<PlanetView> m_view;
};

} // namespace hex::client
