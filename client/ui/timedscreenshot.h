#pragma once

#include <QObject>
#include <QString>
#include <QTimer>

namespace hex::client {

class MainWindow;

/// Quits the client after a delay, first saving a picture of the main window when asked
/// to (`--screenshot FILE --quit-after SECONDS`). The picture is taken only once the
/// planet has arrived and been drawn a few times; if it never arrives the run fails.
/// Lives in the GUI thread.
class TimedScreenshot : public QObject
{
    Q_OBJECT
public:
    /// Frames the planet must have been drawn before the picture is taken.
    static constexpr int kFramesBeforeCapture = 3;
    /// How long past the deadline to wait for those frames.
    static constexpr int kGraceMs = 10'000;

    /// `window` must outlive this object. An empty `path` only quits.
    TimedScreenshot(MainWindow *window, QString path, QObject *parent = nullptr);

    /// Starts the countdown: `seconds` > 0, fractions allowed.
    void start(double seconds);

signals:
    /// The run is over: exit with `exitCode`. `message` says what happened (empty on a
    /// plain quit).
    void finished(int exitCode, const QString &message);

private:
    void onDeadline();
    void tryCapture();

    MainWindow *m_window = nullptr;
    QString m_path;
    QTimer m_deadline;
    QTimer m_retry;
    int m_graceLeftMs = kGraceMs;
};

} // namespace hex::client
