#pragma once

#include <QByteArray>

#include <vector>

namespace Qt3DCore {
class QNode;
}
namespace Qt3DRender {
class QMaterial;
class QParameter;
} // namespace Qt3DRender

namespace hex::client {

/// Whether a material's triangles are drawn from both sides.
enum class Culling { None, BackFaces };

/// The one kind of material the client's layers use: a technique for the OpenGL
/// renderer (3.2 core profile, filtered as Qt3D's forward renderer expects), one pass
/// running the GLSL 1.50 program `vertexCode` and `fragmentCode`, with a depth test
/// (less) and `culling`. The material adopts `parameters`. Under the RHI renderer it
/// draws nothing, which is why main() sets QT3D_RENDERER=opengl.
Qt3DRender::QMaterial *createGlMaterial(Qt3DCore::QNode *parent, const QByteArray &vertexCode,
                                        const QByteArray &fragmentCode, Culling culling,
                                        const std::vector<Qt3DRender::QParameter *> &parameters);

} // namespace hex::client
