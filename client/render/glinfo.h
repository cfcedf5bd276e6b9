#pragma once

#include <QString>

namespace hex::client {

/// GL_RENDERER of an OpenGL context made from the default surface format, as Qt3D makes
/// its own: "llvmpipe (LLVM 15.0.6, 256 bits)", "NVIDIA GeForce RTX 3060/PCIe/SSE2", ...
/// Empty when no context can be made. Probed on the first call, then remembered. GUI
/// thread, once the QGuiApplication exists.
QString glRendererName();

/// True for a renderer that rasterises on the CPU: Mesa's llvmpipe, softpipe and swrast,
/// and anything calling itself a "Software Rasterizer".
bool isSoftwareRenderer(const QString &renderer);

} // namespace hex::client
