#include "displaycheck.h"

#include <QStringList>

#include <cstring>

namespace hex::client {

bool DisplayCheck::displayAvailable(const QString &platform)
{
    const bool x11 = !qEnvironmentVariableIsEmpty("DISPLAY");
    const bool wayland = !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
    const QString chosen = platform.isEmpty() ? qEnvironmentVariable("QT_QPA_PLATFORM") : platform;
    if (chosen.trimmed().isEmpty())
        return x11 || wayland;

    // QT_QPA_PLATFORM may list fallbacks ("wayland;xcb") and carry options
    // ("xcb:foo=bar"): any usable entry will do.
    const QStringList entries = chosen.split(QLatin1Char(';'), Qt::SkipEmptyParts);
    for (const QString &entry : entries) {
        const QString name = entry.section(QLatin1Char(':'), 0, 0).trimmed().toLower();
        if (name == QLatin1String("xcb")) {
            if (x11)
                return true;
        } else if (name.startsWith(QLatin1String("wayland"))) {
            if (wayland)
                return true;
        } else if (!name.isEmpty()) {
            // offscreen, minimal, eglfs, linuxfb, vnc, vkkhrdisplay...: no display server.
            return true;
        }
    }
    return false;
}

QString DisplayCheck::platformArgument(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], "-platform") == 0 || std::strcmp(argv[i], "--platform") == 0)
            return QString::fromLocal8Bit(argv[i + 1]);
    }
    return {};
}

QString DisplayCheck::noDisplayMessage()
{
    return tr("hexsphere: no display found; to run a dedicated server use ./run.sh --server "
              "(or hexsphere-server --help)");
}

} // namespace hex::client
