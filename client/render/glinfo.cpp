#include "glinfo.h"

#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QOpenGLFunctions>

#include <optional>

namespace hex::client {

QString glRendererName()
{
    static std::optional<QString> name;
    if (name)
        return *name;
    name = QString();
    QOffscreenSurface surface;
    surface.create();
    QOpenGLContext context;
    if (context.create() && context.makeCurrent(&surface)) {
        if (const auto *text = context.functions()->glGetString(GL_RENDERER))
            name = QString::fromLatin1(reinterpret_cast<const char *>(text));
        context.doneCurrent();
    }
    return *name;
}

bool isSoftwareRenderer(const QString &renderer)
{
    for (const char *software : {"llvmpipe", "softpipe", "swrast", "software rasterizer"}) {
        if (renderer.contains(QLatin1String(software), Qt::CaseInsensitive))
            return true;
    }
    return false;
}

} // namespace hex::client
