#pragma once

#include <QCoreApplication>
#include <QString>

namespace hex::client {

/// Decides, from the environment alone and before any QGuiApplication exists, whether
/// the client's window can be shown at all.
class DisplayCheck
{
    Q_DECLARE_TR_FUNCTIONS(hex::client::DisplayCheck)

public:
    /// True when the platform plugin Qt will load needs no display server (offscreen,
    /// minimal, eglfs, ...), or needs one that the environment names (DISPLAY for xcb,
    /// WAYLAND_DISPLAY for wayland; either when no platform is chosen).
    /// `platform` is the value of -platform if given, else QT_QPA_PLATFORM is read.
    static bool displayAvailable(const QString &platform = {});
    /// The value of a `-platform NAME` or `--platform NAME` argument, or an empty string.
    static QString platformArgument(int argc, char **argv);
    /// The single line printed to stderr when there is no display. Translated once a
    /// translator is installed.
    static QString noDisplayMessage();
};

} // namespace hex::client
