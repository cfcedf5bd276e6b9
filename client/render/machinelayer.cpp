#include "machinelayer.h"

#include "glmaterial.h"
#include "structurelayer.h"

#include "protocol/worldcodec.h"

#include <Qt3DCore/QAttribute>
#include <Qt3DCore/QBoundingVolume>
#include <Qt3DCore/QBuffer>
#include <Qt3DCore/QEntity>
#include <Qt3DCore/QGeometry>
#include <Qt3DCore/QTransform>
#include <Qt3DRender/QGeometryRenderer>
#include <Qt3DRender/QMaterial>
#include <Qt3DRender/QParameter>

#include <QColor>

#include <algorithm>
#include <cmath>

namespace hex::client {

namespace {

/// The whole planet and a little above: instances are spread over it.
constexpr float kBoundsRadius = 1.1f;
/// A box: 36 vertices (position xyz, normal xyz), a unit cube about the origin.
constexpr int kVertexFloats = 6;

// Sizes and heights in units of the cell's inner radius (see StructurePlacement).
constexpr float kItemSize = 0.3f;
constexpr float kItemLift = 0.22f;
/// Items ride from this far behind the centre to this far ahead of it.
constexpr float kBeltReach = 0.85f;
constexpr float kBarLength = 1.3f;
constexpr float kBarHeight = 1.25f;
constexpr float kBarThickness = 0.12f;

QByteArray cubeVertices()
{
    std::vector<float> v;
    v.reserve(36 * kVertexFloats);
    // Each face: its normal axis and sign; two triangles.
    for (int axis = 0; axis < 3; ++axis) {
        for (const float sign : {-1.0f, 1.0f}) {
            const int u = (axis + 1) % 3;
            const int w = (axis + 2) % 3;
            float corners[4][3];
            const float us[4] = {-0.5f, 0.5f, 0.5f, -0.5f};
            const float ws[4] = {-0.5f, -0.5f, 0.5f, 0.5f};
            for (int c = 0; c < 4; ++c) {
                corners[c][axis] = 0.5f * sign;
                corners[c][u] = us[c];
                corners[c][w] = ws[c]; // both windings drawn: no face culling
            }
            float normal[3] = {0, 0, 0};
            normal[axis] = sign;
            for (const int c : {0, 1, 2, 0, 2, 3}) {
                v.insert(v.end(), {corners[c][0], corners[c][1], corners[c][2]});
                v.insert(v.end(), {normal[0], normal[1], normal[2]});
            }
        }
    }
    return QByteArray(reinterpret_cast<const char *>(v.data()), qsizetype(v.size() * sizeof(float)));
}

const char *const kVertexShader = R"(#version 150 core
in vec3 vertexPosition;
in vec3 vertexNormal;
in vec3 instanceCentre;
in vec3 instanceForward;
in vec3 instanceUp;
in vec3 instanceSize;
in vec3 instanceColour;

out vec3 worldNormal;
out vec3 colour;

uniform mat4 modelMatrix;
uniform mat4 viewProjectionMatrix;

void main()
{
    vec3 forward = normalize(instanceForward);
    vec3 up = normalize(instanceUp);
    mat3 basis = mat3(forward, up, cross(forward, up));
    vec3 world = instanceCentre + basis * (vertexPosition * instanceSize);
    worldNormal = mat3(modelMatrix) * (basis * vertexNormal);
    colour = instanceColour;
    gl_Position = viewProjectionMatrix * modelMatrix * vec4(world, 1.0);
}
)";

const char *const kFragmentShader = R"(#version 150 core
in vec3 worldNormal;
in vec3 colour;

out vec4 fragColor;

uniform vec3 lightDirection;

void main()
{
    float diffuse = max(dot(normalize(worldNormal), normalize(lightDirection)), 0.0);
    fragColor = vec4(min(colour * (0.45 + 0.8 * diffuse), vec3(1.0)), 1.0);
}
)";

} // namespace

MachineLayer::MachineLayer(Qt3DCore::QEntity *parent, const QQuaternion &orientation)
{
    // As StructureLayer: a turned root holding the material, and the drawn entity under
    // it. (With the transform and the material on the drawn entity itself, Qt3D 6.4's
    // OpenGL renderer crashed in a job of its own.)
    auto *root = new Qt3DCore::QEntity(parent);
    auto *transform = new Qt3DCore::QTransform(root);
    transform->setRotation(orientation);
    root->addComponent(transform);
    m_entity = new Qt3DCore::QEntity(root);

    auto *geometry = new Qt3DCore::QGeometry(m_entity);
    auto *vertices = new Qt3DCore::QBuffer(geometry);
    vertices->setUsage(Qt3DCore::QBuffer::StaticDraw);
    vertices->setData(cubeVertices());
    m_instances = new Qt3DCore::QBuffer(geometry);
    m_instances->setUsage(Qt3DCore::QBuffer::DynamicDraw);

    constexpr uint kFloat = sizeof(float);
    constexpr uint vertexStride = kVertexFloats * kFloat;
    constexpr uint instanceStride = kInstanceFloats * kFloat;
    auto addAttribute = [geometry](const QString &name, Qt3DCore::QBuffer *buffer, uint stride,
                                   uint offset, uint divisor, uint count) {
        auto *attribute = new Qt3DCore::QAttribute(geometry);
        attribute->setName(name);
        attribute->setAttributeType(Qt3DCore::QAttribute::VertexAttribute);
        attribute->setVertexBaseType(Qt3DCore::QAttribute::Float);
        attribute->setVertexSize(3);
        attribute->setBuffer(buffer);
        attribute->setByteStride(stride);
        attribute->setByteOffset(offset);
        attribute->setDivisor(divisor);
        attribute->setCount(count);
        geometry->addAttribute(attribute);
    };
    addAttribute(Qt3DCore::QAttribute::defaultPositionAttributeName(), vertices, vertexStride, 0, 0,
                 36);
    addAttribute(Qt3DCore::QAttribute::defaultNormalAttributeName(), vertices, vertexStride,
                 3 * kFloat, 0, 36);
    addAttribute(QStringLiteral("instanceCentre"), m_instances, instanceStride, 0, 1, 0);
    addAttribute(QStringLiteral("instanceForward"), m_instances, instanceStride, 3 * kFloat, 1, 0);
    addAttribute(QStringLiteral("instanceUp"), m_instances, instanceStride, 6 * kFloat, 1, 0);
    addAttribute(QStringLiteral("instanceSize"), m_instances, instanceStride, 9 * kFloat, 1, 0);
    addAttribute(QStringLiteral("instanceColour"), m_instances, instanceStride, 12 * kFloat, 1, 0);

    m_renderer = new Qt3DRender::QGeometryRenderer(m_entity);
    m_renderer->setPrimitiveType(Qt3DRender::QGeometryRenderer::Triangles);
    m_renderer->setGeometry(geometry);
    m_renderer->setVertexCount(36);
    m_renderer->setInstanceCount(0);

    auto *bounds = new Qt3DCore::QBoundingVolume(m_entity);
    bounds->setMinPoint(QVector3D(-kBoundsRadius, -kBoundsRadius, -kBoundsRadius));
    bounds->setMaxPoint(QVector3D(kBoundsRadius, kBoundsRadius, kBoundsRadius));

    m_light
        = new Qt3DRender::QParameter(QStringLiteral("lightDirection"), QVector3D(0.0f, 0.5f, 1.0f));
    Qt3DRender::QMaterial *material
        = createGlMaterial(root, kVertexShader, kFragmentShader, Culling::None, {m_light});

    m_entity->addComponent(m_renderer);
    m_entity->addComponent(bounds);
    m_entity->addComponent(material);
    m_entity->setEnabled(false); // Until there is something to draw.
}

MachineLayer::~MachineLayer() = default;

QVector3D MachineLayer::itemColour(sim::ItemId item)
{
    // Golden-ratio hues keep neighbouring ids apart.
    const double hue = std::fmod(0.13 + double(item) * 0.618033988749895, 1.0);
    const QColor colour = QColor::fromHsvF(float(hue), 0.75f, 0.95f);
    return QVector3D(colour.redF(), colour.greenF(), colour.blueF());
}

void MachineLayer::box(const QVector3D &centre, const QVector3D &forward, const QVector3D &up,
                       const QVector3D &size, const QVector3D &colour)
{
    m_data.insert(m_data.end(), {centre.x(), centre.y(), centre.z(), forward.x(), forward.y(),
                                 forward.z(), up.x(), up.y(), up.z(), size.x(), size.y(), size.z(),
                                 colour.x(), colour.y(), colour.z()});
}

int MachineLayer::draw(const geometry::HexSphere &sphere, const protocol::VisibleCells &cells,
                       std::span<const MachineMotion> motions)
{
    m_data.clear();
    if (cells.cellCount() != sphere.cellCount()) {
        clear();
        return 0;
    }
    for (const MachineMotion &motion : motions) {
        if (motion.cell >= sphere.cellCount() || cells.structure[motion.cell] == 0)
            continue;
        if (motion.items.empty() && motion.progress < 0.0f)
            continue;
        const int orientation = cells.orientation[motion.cell];
        Placed &placed = m_placed[motion.cell];
        if (placed.orientation != orientation) {
            const StructurePlacement at
                = StructureLayer::placement(sphere, motion.cell, orientation);
            placed = Placed{orientation, at.position, at.up, at.forward, at.scale};
        }
        const float s = placed.scale;
        for (const MachineMotion::Item &item : motion.items) {
            const float offset = (-kBeltReach + 2.0f * kBeltReach * item.along) * s;
            const QVector3D centre
                = placed.position + placed.forward * offset + placed.up * (kItemLift * s);
            box(centre, placed.forward, placed.up, QVector3D(1, 1, 1) * (kItemSize * s),
                itemColour(item.item));
        }
        if (motion.progress >= 0.0f) {
            const QVector3D top = placed.position + placed.up * (kBarHeight * s);
            const float length = kBarLength * s;
            const QVector3D thin(length, kBarThickness * s, kBarThickness * s);
            box(top, placed.forward, placed.up, thin, QVector3D(0.08f, 0.08f, 0.1f));
            const float filled = std::max(motion.progress * length, 0.001f);
            // The fill grows from the back end, a little thicker so it shows over the bar.
            const QVector3D fillCentre = top + placed.forward * ((filled - length) * 0.5f);
            box(fillCentre, placed.forward, placed.up,
                QVector3D(filled, kBarThickness * 1.3f * s, kBarThickness * 1.3f * s),
                QVector3D(0.3f, 0.95f, 0.35f));
        }
    }
    const int count = instanceCount();
    if (m_data == m_uploaded)
        return count; // Nothing moved: the buffer holds this frame already.
    m_uploaded = m_data;
    m_instances->setData(QByteArray(reinterpret_cast<const char *>(m_data.data()),
                                    qsizetype(m_data.size() * sizeof(float))));
    for (Qt3DCore::QAttribute *attribute : m_renderer->geometry()->attributes()) {
        if (attribute->divisor() == 1)
            attribute->setCount(uint(count));
    }
    m_renderer->setInstanceCount(count);
    m_entity->setEnabled(count > 0);
    return count;
}

void MachineLayer::clear()
{
    m_data.clear();
    m_uploaded.clear();
    m_placed.clear();
    m_renderer->setInstanceCount(0);
    m_entity->setEnabled(false);
}

void MachineLayer::setLightDirection(const QVector3D &towardsLight)
{
    m_light->setValue(towardsLight.normalized());
}

} // namespace hex::client
