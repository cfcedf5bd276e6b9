#include "glmaterial.h"

#include <Qt3DRender/QCullFace>
#include <Qt3DRender/QDepthTest>
#include <Qt3DRender/QEffect>
#include <Qt3DRender/QFilterKey>
#include <Qt3DRender/QGraphicsApiFilter>
#include <Qt3DRender/QMaterial>
#include <Qt3DRender/QParameter>
#include <Qt3DRender/QRenderPass>
#include <Qt3DRender/QShaderProgram>
#include <Qt3DRender/QTechnique>

namespace hex::client {

Qt3DRender::QMaterial *createGlMaterial(Qt3DCore::QNode *parent, const QByteArray &vertexCode,
                                        const QByteArray &fragmentCode, Culling culling,
                                        const std::vector<Qt3DRender::QParameter *> &parameters)
{
    auto *material = new Qt3DRender::QMaterial(parent);
    auto *effect = new Qt3DRender::QEffect(material);
    auto *technique = new Qt3DRender::QTechnique(effect);
    technique->graphicsApiFilter()->setApi(Qt3DRender::QGraphicsApiFilter::OpenGL);
    technique->graphicsApiFilter()->setProfile(Qt3DRender::QGraphicsApiFilter::CoreProfile);
    technique->graphicsApiFilter()->setMajorVersion(3);
    technique->graphicsApiFilter()->setMinorVersion(2); // Core only: NoProfile never matches.
    auto *forward = new Qt3DRender::QFilterKey(technique);
    forward->setName(QStringLiteral("renderingStyle"));
    forward->setValue(QStringLiteral("forward"));
    technique->addFilterKey(forward);

    auto *pass = new Qt3DRender::QRenderPass(technique);
    auto *program = new Qt3DRender::QShaderProgram(pass);
    program->setVertexShaderCode(vertexCode);
    program->setFragmentShaderCode(fragmentCode);
    pass->setShaderProgram(program);
    auto *depth = new Qt3DRender::QDepthTest(pass);
    depth->setDepthFunction(Qt3DRender::QDepthTest::Less);
    pass->addRenderState(depth);
    auto *cull = new Qt3DRender::QCullFace(pass);
    cull->setMode(culling == Culling::BackFaces ? Qt3DRender::QCullFace::Back
                                                : Qt3DRender::QCullFace::NoCulling);
    pass->addRenderState(cull);
    technique->addRenderPass(pass);
    effect->addTechnique(technique);

    material->setEffect(effect);
    for (Qt3DRender::QParameter *parameter : parameters)
        material->addParameter(parameter);
    return material;
}

} // namespace hex::client
