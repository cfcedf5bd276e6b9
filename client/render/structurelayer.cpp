#include "structurelayer.h"

#include "celllook.h"
#include "glmaterial.h"

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

#include <QVector2D>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>

namespace hex::client {

namespace {

using geometry::CellId;

constexpr float kPi = std::numbers::pi_v<float>;

/// Floats per mesh vertex: position xyz, normal xyz, then shade (colour multiplier),
/// owner mix (0: the prototype's colour, 1: the owner's) and flow (the belt coordinate
/// along forward, ≥ 0, for moving stripes; -1 for none).
constexpr int kVertexFloats = 9;
constexpr int kVertexStride = kVertexFloats * int(sizeof(float));
constexpr float kNoFlow = -1.0f;
/// Bounds of every structure, a little above the planet's surface.
constexpr float kBoundsRadius = 1.1f;
/// The animation time wraps after this many seconds, so float precision holds; a
/// multiple of the stripes' period.
constexpr float kTimeWrap = 800.0f;

/// Meshes are built in a structure's own frame: x forward (towards side 0), y up (the
/// cell's normal), z = x × y. One unit is the cell's inner radius.
class MeshBuilder
{
public:
    float shade = 1.0f;
    float ownerMix = 0.0f;

    QByteArray bytes() const
    {
        return QByteArray(reinterpret_cast<const char *>(m_floats.data()),
                          qsizetype(m_floats.size() * sizeof(float)));
    }
    int vertexCount() const { return int(m_floats.size()) / kVertexFloats; }

    void vertex(QVector3D p, QVector3D n, float flow = kNoFlow)
    {
        m_floats.insert(m_floats.end(),
                        {p.x(), p.y(), p.z(), n.x(), n.y(), n.z(), shade, ownerMix, flow});
    }
    void triangle(QVector3D a, QVector3D b, QVector3D c, QVector3D n)
    {
        vertex(a, n);
        vertex(b, n);
        vertex(c, n);
    }
    void quad(QVector3D a, QVector3D b, QVector3D c, QVector3D d, QVector3D n)
    {
        triangle(a, b, c, n);
        triangle(a, c, d, n);
    }

    /// A convex polygon (points as x, z) extruded from y0 to y1. With `flowFrom`, the
    /// top face carries the belt coordinate: distance along `flowAxis` plus `flowFrom`.
    void prism(std::span<const QVector2D> polygon, float y0, float y1,
               std::optional<float> flowFrom = std::nullopt, QVector2D flowAxis = {1, 0})
    {
        QVector2D centroid;
        for (const QVector2D &p : polygon)
            centroid += p;
        centroid /= float(polygon.size());
        const auto count = polygon.size();
        for (std::size_t i = 0; i < count; ++i) {
            const QVector2D p = polygon[i];
            const QVector2D q = polygon[(i + 1) % count];
            QVector2D normal(q.y() - p.y(), p.x() - q.x());
            if (QVector2D::dotProduct(normal, (p + q) * 0.5f - centroid) < 0)
                normal = -normal;
            normal.normalize();
            quad({p.x(), y0, p.y()}, {q.x(), y0, q.y()}, {q.x(), y1, q.y()}, {p.x(), y1, p.y()},
                 {normal.x(), 0, normal.y()});
        }
        for (std::size_t i = 1; i + 1 < count; ++i) {
            const QVector2D a = polygon[0], b = polygon[i], c = polygon[i + 1];
            triangle({a.x(), y0, a.y()}, {b.x(), y0, b.y()}, {c.x(), y0, c.y()}, {0, -1, 0});
            auto flowAt = [&](QVector2D p) {
                return flowFrom ? *flowFrom + QVector2D::dotProduct(p, flowAxis) : kNoFlow;
            };
            vertex({a.x(), y1, a.y()}, {0, 1, 0}, flowAt(a));
            vertex({b.x(), y1, b.y()}, {0, 1, 0}, flowAt(b));
            vertex({c.x(), y1, c.y()}, {0, 1, 0}, flowAt(c));
        }
    }

    void box(QVector3D low, QVector3D high, std::optional<float> flowFrom = std::nullopt)
    {
        const QVector2D rectangle[]
            = {{low.x(), low.z()}, {high.x(), low.z()}, {high.x(), high.z()}, {low.x(), high.z()}};
        prism(rectangle, low.y(), high.y(), flowFrom);
    }

    /// A regular `sides`-gon at (cx, cz), radius r0 at y0 narrowing (or widening) to r1
    /// at y1: prisms, cylinders, cones and dome rings. Caps where the radius is > 0.
    void frustum(float cx, float cz, float r0, float r1, float y0, float y1, int sides,
                 bool caps = true)
    {
        const float height = y1 - y0;
        auto at = [&](int i, float r, float y) {
            const float angle = 2.0f * kPi * float(i) / float(sides);
            return QVector3D(cx + r * std::cos(angle), y, cz + r * std::sin(angle));
        };
        for (int i = 0; i < sides; ++i) {
            const float middle = 2.0f * kPi * (float(i) + 0.5f) / float(sides);
            const QVector3D normal
                = QVector3D(std::cos(middle) * height, r0 - r1, std::sin(middle) * height)
                      .normalized();
            if (r1 > 0)
                quad(at(i, r0, y0), at(i + 1, r0, y0), at(i + 1, r1, y1), at(i, r1, y1), normal);
            else
                triangle(at(i, r0, y0), at(i + 1, r0, y0), at(i, 0, y1), normal);
            if (caps && r0 > 0)
                triangle({cx, y0, cz}, at(i + 1, r0, y0), at(i, r0, y0), {0, -1, 0});
            if (caps && r1 > 0)
                triangle({cx, y1, cz}, at(i, r1, y1), at(i + 1, r1, y1), {0, 1, 0});
        }
    }

    /// The hexagonal plate every machine stands on, in its owner's colour.
    void ownerPlate()
    {
        const float savedShade = shade;
        ownerMix = 1.0f;
        shade = 0.8f;
        frustum(0, 0, 0.9f, 0.9f, 0.0f, 0.06f, 6);
        ownerMix = 0.0f;
        shade = savedShade;
    }

private:
    std::vector<float> m_floats;
};

/// A flat bar from `from` to `to` (x, z), `halfWidth` wide each side, y0..y1.
void bar(MeshBuilder &mesh, QVector2D from, QVector2D to, float halfWidth, float y0, float y1,
         std::optional<float> flowFrom = std::nullopt)
{
    const QVector2D along = (to - from).normalized();
    const QVector2D across(-along.y(), along.x());
    const QVector2D polygon[] = {from - across * halfWidth, to - across * halfWidth,
                                 to + across * halfWidth, from + across * halfWidth};
    mesh.prism(polygon, y0, y1,
               flowFrom ? std::optional<float>(*flowFrom - QVector2D::dotProduct(from, along))
                        : std::nullopt,
               along);
}

MeshBuilder buildMesh(StructureShape shape)
{
    MeshBuilder mesh;
    switch (shape) {
    case StructureShape::Generic:
        mesh.ownerPlate();
        mesh.box({-0.5f, 0.06f, -0.5f}, {0.5f, 0.6f, 0.5f});
        break;
    case StructureShape::Extractor:
        mesh.ownerPlate();
        mesh.frustum(0, 0, 0.45f, 0.3f, 0.06f, 0.95f, 6);
        mesh.shade = 0.75f;
        mesh.frustum(0, 0, 0.38f, 0.0f, 0.95f, 1.4f, 6);
        mesh.shade = 0.5f;
        mesh.box({0.3f, 0.06f, -0.13f}, {0.8f, 0.32f, 0.13f}); // the spout, at the front
        break;
    case StructureShape::Conveyor: {
        mesh.shade = 0.45f;
        // The belt: its top carries stripes that run forward.
        mesh.box({-0.9f, 0.0f, -0.45f}, {0.9f, 0.1f, 0.45f}, 1.0f);
        mesh.shade = 1.15f;
        const QVector2D armA[] = {{-0.1f, -0.36f}, {0.08f, -0.36f}, {0.5f, 0.0f}, {0.32f, 0.0f}};
        const QVector2D armB[] = {{-0.1f, 0.36f}, {0.32f, 0.0f}, {0.5f, 0.0f}, {0.08f, 0.36f}};
        mesh.prism(armA, 0.1f, 0.2f);
        mesh.prism(armB, 0.1f, 0.2f);
        break;
    }
    case StructureShape::Furnace:
        mesh.ownerPlate();
        mesh.box({-0.65f, 0.06f, -0.65f}, {0.65f, 0.6f, 0.65f});
        mesh.shade = 0.6f;
        mesh.box({-0.55f, 0.6f, 0.15f}, {-0.25f, 1.25f, 0.45f}); // the chimney
        mesh.shade = 0.2f;
        mesh.box({0.65f, 0.12f, -0.22f}, {0.7f, 0.4f, 0.22f}); // the mouth, at the front
        break;
    case StructureShape::Assembler:
        mesh.ownerPlate();
        mesh.box({-0.7f, 0.06f, -0.7f}, {0.7f, 0.5f, 0.7f});
        mesh.shade = 0.8f;
        mesh.box({-0.35f, 0.5f, -0.35f}, {0.35f, 0.72f, 0.35f});
        mesh.shade = 0.3f;
        mesh.box({0.7f, 0.1f, -0.25f}, {0.78f, 0.32f, 0.25f});
        break;
    case StructureShape::Chest:
        mesh.ownerPlate();
        mesh.box({-0.42f, 0.06f, -0.34f}, {0.42f, 0.46f, 0.34f});
        mesh.shade = 0.55f;
        mesh.box({-0.44f, 0.32f, -0.36f}, {0.44f, 0.37f, 0.36f}); // the lid's rim
        mesh.box({0.42f, 0.2f, -0.06f}, {0.46f, 0.3f, 0.06f});    // the lock, at the front
        break;
    case StructureShape::Splitter: {
        mesh.shade = 0.55f;
        // From side 3 (behind) to the centre, then forks to sides 1 and 5 (±60°; side 1 is
        // counter-clockwise seen from outside, which is -z in this frame).
        bar(mesh, {-0.9f, 0.0f}, {0.0f, 0.0f}, 0.3f, 0.0f, 0.1f, 1.0f);
        const float c = std::cos(kPi / 3), s = std::sin(kPi / 3);
        bar(mesh, {0.0f, 0.0f}, {0.9f * c, -0.9f * s}, 0.26f, 0.0f, 0.1f, 1.9f);
        bar(mesh, {0.0f, 0.0f}, {0.9f * c, 0.9f * s}, 0.26f, 0.0f, 0.1f, 1.9f);
        mesh.shade = 1.0f;
        mesh.frustum(0, 0, 0.3f, 0.24f, 0.1f, 0.32f, 8);
        break;
    }
    case StructureShape::Inserter:
        mesh.ownerPlate();
        mesh.frustum(0, 0, 0.35f, 0.3f, 0.06f, 0.22f, 10);
        mesh.shade = 0.8f;
        mesh.frustum(0, 0, 0.1f, 0.1f, 0.22f, 0.7f, 6);
        mesh.box({-0.6f, 0.62f, -0.07f}, {0.6f, 0.72f, 0.07f}); // the arm, back to front
        mesh.shade = 0.5f;
        mesh.box({0.5f, 0.35f, -0.13f}, {0.66f, 0.66f, 0.13f}); // the gripper, at the front
        break;
    case StructureShape::Seeder: {
        mesh.ownerPlate();
        constexpr int kRings = 5;
        constexpr float kRadius = 0.65f;
        for (int ring = 0; ring < kRings; ++ring) {
            const float a0 = 0.5f * kPi * float(ring) / kRings;
            const float a1 = 0.5f * kPi * float(ring + 1) / kRings;
            mesh.frustum(0, 0, kRadius * std::cos(a0), kRadius * std::cos(a1),
                         0.06f + kRadius * std::sin(a0), 0.06f + kRadius * std::sin(a1), 14, false);
        }
        break;
    }
    case StructureShape::Scrubber:
        mesh.ownerPlate();
        mesh.frustum(0, 0, 0.5f, 0.5f, 0.06f, 0.75f, 16);
        mesh.shade = 0.7f;
        mesh.frustum(0, 0, 0.56f, 0.56f, 0.75f, 0.85f, 16);
        mesh.shade = 0.3f;
        mesh.frustum(0, 0, 0.3f, 0.3f, 0.85f, 0.9f, 12);
        break;
    }
    return mesh;
}

const char *const kVertexShader = R"(#version 150 core
in vec3 vertexPosition;
in vec3 vertexNormal;
in vec3 vertexMaterial;
in vec4 instancePosition;
in vec3 instanceUp;
in vec3 instanceForward;
in vec3 instanceColour;
in vec3 instanceOwnerColour;

out vec3 worldNormal;
out vec3 colour;
out float flow;

uniform mat4 modelMatrix;
uniform mat4 viewProjectionMatrix;
uniform float minimumScale;

void main()
{
    vec3 up = normalize(instanceUp);
    vec3 forward = normalize(instanceForward);
    mat3 basis = mat3(forward, up, cross(forward, up));
    float scale = max(instancePosition.w, minimumScale);
    vec3 world = instancePosition.xyz + scale * (basis * vertexPosition);
    worldNormal = mat3(modelMatrix) * (basis * vertexNormal);
    colour = mix(instanceColour, instanceOwnerColour, vertexMaterial.y) * vertexMaterial.x;
    flow = vertexMaterial.z;
    gl_Position = viewProjectionMatrix * modelMatrix * vec4(world, 1.0);
}
)";

const char *const kFragmentShader = R"(#version 150 core
in vec3 worldNormal;
in vec3 colour;
in float flow;

out vec4 fragColor;

uniform vec3 lightDirection;
uniform float time;

void main()
{
    vec3 c = colour;
    if (flow > -0.5) {
        // Stripes, 2.5 per cell, running forward at half a cell per second.
        float stripe = fract(flow * 2.5 - time * 1.25);
        c *= stripe < 0.4 ? 2.0 : 0.8;
    }
    float diffuse = max(dot(normalize(worldNormal), normalize(lightDirection)), 0.0);
    fragColor = vec4(min(c * (0.35 + 0.9 * diffuse), vec3(1.0)), 1.0);
}
)";

QVector3D toQt(const geometry::Vec3 &v)
{
    return QVector3D(v.x, v.y, v.z);
}

QVector3D linear(sim::Rgb rgb)
{
    return QVector3D(float(rgb.r), float(rgb.g), float(rgb.b)) / 255.0f;
}

} // namespace

StructureLayer::StructureLayer(Qt3DCore::QEntity *parent, const QQuaternion &orientation,
                               std::vector<StructureShape> shapes)
    : m_shapes(std::move(shapes))
{
    m_root = new Qt3DCore::QEntity(parent);
    auto *transform = new Qt3DCore::QTransform(m_root);
    transform->setRotation(orientation);
    m_root->addComponent(transform);

    // Unparented: the material adopts them.
    m_time = new Qt3DRender::QParameter(QStringLiteral("time"), 0.0f);
    m_light
        = new Qt3DRender::QParameter(QStringLiteral("lightDirection"), QVector3D(0.0f, 0.5f, 1.0f));
    m_minimumScale = new Qt3DRender::QParameter(QStringLiteral("minimumScale"), 0.0f);
    Qt3DRender::QMaterial *material = createGlMaterial(m_root, kVertexShader, kFragmentShader,
                                                       Culling::None,
                                                       {m_time, m_light, m_minimumScale});
    for (int shape = 0; shape < kStructureShapeCount; ++shape)
        createKind(StructureShape(shape), material);
}

StructureLayer::~StructureLayer() = default;

void StructureLayer::createKind(StructureShape shape, Qt3DRender::QMaterial *material)
{
    Kind &kind = m_kinds[std::size_t(shape)];
    const MeshBuilder mesh = buildMesh(shape);
    kind.vertexCount = mesh.vertexCount();

    kind.entity = new Qt3DCore::QEntity(m_root);
    auto *geometry = new Qt3DCore::QGeometry(kind.entity);
    auto *vertexBuffer = new Qt3DCore::QBuffer(geometry);
    vertexBuffer->setUsage(Qt3DCore::QBuffer::StaticDraw);
    vertexBuffer->setData(mesh.bytes());
    kind.instanceBuffer = new Qt3DCore::QBuffer(geometry);
    kind.instanceBuffer->setUsage(Qt3DCore::QBuffer::DynamicDraw);

    auto addAttribute = [geometry](const QString &name, Qt3DCore::QBuffer *buffer, uint size,
                                   uint stride, uint offset, uint divisor, uint count) {
        auto *attribute = new Qt3DCore::QAttribute(geometry);
        attribute->setName(name);
        attribute->setAttributeType(Qt3DCore::QAttribute::VertexAttribute);
        attribute->setVertexBaseType(Qt3DCore::QAttribute::Float);
        attribute->setVertexSize(size);
        attribute->setBuffer(buffer);
        attribute->setByteStride(stride);
        attribute->setByteOffset(offset);
        attribute->setDivisor(divisor);
        attribute->setCount(count);
        geometry->addAttribute(attribute);
        return attribute;
    };
    const auto vertices = uint(kind.vertexCount);
    constexpr uint kFloat = sizeof(float);
    addAttribute(Qt3DCore::QAttribute::defaultPositionAttributeName(), vertexBuffer, 3,
                 kVertexStride, 0, 0, vertices);
    addAttribute(Qt3DCore::QAttribute::defaultNormalAttributeName(), vertexBuffer, 3, kVertexStride,
                 3 * kFloat, 0, vertices);
    addAttribute(QStringLiteral("vertexMaterial"), vertexBuffer, 3, kVertexStride, 6 * kFloat, 0,
                 vertices);
    addAttribute(QStringLiteral("instancePosition"), kind.instanceBuffer, 4, kInstanceStride, 0, 1,
                 0);
    addAttribute(QStringLiteral("instanceUp"), kind.instanceBuffer, 3, kInstanceStride, 4 * kFloat,
                 1, 0);
    addAttribute(QStringLiteral("instanceForward"), kind.instanceBuffer, 3, kInstanceStride,
                 7 * kFloat, 1, 0);
    addAttribute(QStringLiteral("instanceColour"), kind.instanceBuffer, 3, kInstanceStride,
                 10 * kFloat, 1, 0);
    addAttribute(QStringLiteral("instanceOwnerColour"), kind.instanceBuffer, 3, kInstanceStride,
                 13 * kFloat, 1, 0);

    kind.renderer = new Qt3DRender::QGeometryRenderer(kind.entity);
    kind.renderer->setPrimitiveType(Qt3DRender::QGeometryRenderer::Triangles);
    kind.renderer->setGeometry(geometry);
    kind.renderer->setVertexCount(kind.vertexCount);
    kind.renderer->setInstanceCount(0);

    // Instances are spread over the globe: the mesh's own bounds say nothing about
    // where they are drawn, so give the whole planet's.
    auto *bounds = new Qt3DCore::QBoundingVolume(kind.entity);
    bounds->setMinPoint(QVector3D(-kBoundsRadius, -kBoundsRadius, -kBoundsRadius));
    bounds->setMaxPoint(QVector3D(kBoundsRadius, kBoundsRadius, kBoundsRadius));

    kind.entity->addComponent(kind.renderer);
    kind.entity->addComponent(bounds);
    kind.entity->addComponent(material);
    kind.entity->setEnabled(false); // Until it has instances.
}

std::vector<StructureShape> StructureLayer::shapesFor(const sim::Content &content)
{
    std::vector<StructureShape> shapes(content.prototypes.size(), StructureShape::Generic);
    for (std::size_t p = 1; p < content.prototypes.size(); ++p) {
        const sim::PrototypeDef &def = content.prototypes[p];
        switch (def.kind) {
        case sim::MachineKind::None:
            break;
        case sim::MachineKind::Extractor:
            shapes[p] = StructureShape::Extractor;
            break;
        case sim::MachineKind::Conveyor:
            shapes[p] = StructureShape::Conveyor;
            break;
        case sim::MachineKind::Assembler:
            shapes[p] = def.key == QLatin1String("furnace") ? StructureShape::Furnace
                                                            : StructureShape::Assembler;
            break;
        case sim::MachineKind::Storage:
            shapes[p] = StructureShape::Chest;
            break;
        case sim::MachineKind::Splitter:
            shapes[p] = StructureShape::Splitter;
            break;
        case sim::MachineKind::Inserter:
            shapes[p] = StructureShape::Inserter;
            break;
        case sim::MachineKind::Seeder:
            shapes[p] = StructureShape::Seeder;
            break;
        case sim::MachineKind::Scrubber:
            shapes[p] = StructureShape::Scrubber;
            break;
        }
    }
    return shapes;
}

StructurePlacement StructureLayer::placement(const geometry::HexSphere &sphere, CellId cell,
                                             int orientation)
{
    StructurePlacement placement;
    const QVector3D centre = toQt(sphere.centre(cell));
    placement.up = centre.normalized();

    const std::span<const CellId> around = sphere.neighbours(cell);
    const CellId facing = around[std::size_t(orientation) % around.size()];
    const QVector3D towards = toQt(sphere.centre(facing)) - centre;
    placement.forward
        = (towards - QVector3D::dotProduct(towards, placement.up) * placement.up).normalized();

    // The inner radius: the distance from the centre to the nearest edge's middle.
    const geometry::CellCorners corners = sphere.corners(cell);
    float inner = std::numeric_limits<float>::max();
    for (int k = 0; k < corners.count; ++k) {
        const QVector3D middle = 0.5f
                                 * (toQt(corners.points[std::size_t(k)])
                                    + toQt(corners.points[std::size_t((k + 1) % corners.count)]));
        inner = std::min(inner, (middle - centre).length());
    }
    placement.scale = inner;
    placement.position = centre + placement.up * (kLift * inner);
    return placement;
}

StructureShape StructureLayer::shapeOf(std::uint16_t prototype) const
{
    return prototype < m_shapes.size() ? m_shapes[prototype] : StructureShape::Generic;
}

void StructureLayer::add(const geometry::HexSphere &sphere, const protocol::VisibleCells &cells,
                         CellId cell)
{
    const std::uint16_t prototype = cells.structure[cell];
    const StructureShape shape = shapeOf(prototype);
    Kind &kind = m_kinds[std::size_t(shape)];
    const StructurePlacement at = placement(sphere, cell, cells.orientation[cell]);
    const QVector3D colour = linear(structureColour(prototype));
    const std::uint16_t owner = cells.owner[cell];
    // An unowned structure's plate is a darker shade of its own colour.
    const QVector3D ownerColour
        = owner == sim::kNoPlayer ? colour * 0.5f : linear(playerColour(owner));
    kind.data.insert(kind.data.end(),
                     {at.position.x(), at.position.y(), at.position.z(), at.scale, at.up.x(),
                      at.up.y(), at.up.z(), at.forward.x(), at.forward.y(), at.forward.z(),
                      colour.x(), colour.y(), colour.z(), ownerColour.x(), ownerColour.y(),
                      ownerColour.z()});
    kind.cells.push_back(cell);
    kind.dirty = true;
    m_drawn[cell] = Drawn{shape, std::uint32_t(kind.cells.size() - 1), prototype,
                          cells.orientation[cell], owner};
}

void StructureLayer::remove(CellId cell)
{
    const auto it = m_drawn.find(cell);
    if (it == m_drawn.end())
        return;
    Kind &kind = m_kinds[std::size_t(it->second.shape)];
    const std::uint32_t index = it->second.index;
    const auto last = std::uint32_t(kind.cells.size() - 1);
    if (index != last) {
        std::copy_n(kind.data.begin() + std::ptrdiff_t(last) * kInstanceFloats, kInstanceFloats,
                    kind.data.begin() + std::ptrdiff_t(index) * kInstanceFloats);
        kind.cells[index] = kind.cells[last];
        m_drawn[kind.cells[index]].index = index;
    }
    kind.cells.pop_back();
    kind.data.resize(kind.cells.size() * kInstanceFloats);
    kind.dirty = true;
    m_drawn.erase(it);
}

void StructureLayer::upload(Kind &kind)
{
    const auto count = int(kind.cells.size());
    kind.instanceBuffer->setData(QByteArray(reinterpret_cast<const char *>(kind.data.data()),
                                            qsizetype(kind.data.size() * sizeof(float))));
    for (Qt3DCore::QAttribute *attribute : kind.renderer->geometry()->attributes()) {
        if (attribute->buffer() == kind.instanceBuffer)
            attribute->setCount(uint(count));
    }
    kind.renderer->setInstanceCount(count);
    kind.entity->setEnabled(m_visible && count > 0);
    kind.dirty = false;
}

void StructureLayer::clear()
{
    m_drawn.clear();
    for (Kind &kind : m_kinds) {
        kind.data.clear();
        kind.cells.clear();
        upload(kind);
    }
}

void StructureLayer::rebuild(const geometry::HexSphere &sphere, const protocol::VisibleCells &cells)
{
    Q_ASSERT(cells.cellCount() == sphere.cellCount());
    m_drawn.clear();
    for (Kind &kind : m_kinds) {
        kind.data.clear();
        kind.cells.clear();
    }
    for (CellId cell = 0; cell < cells.cellCount(); ++cell) {
        if (cells.structure[cell] != sim::kNoStructure)
            add(sphere, cells, cell);
    }
    for (Kind &kind : m_kinds)
        upload(kind);
}

int StructureLayer::update(const geometry::HexSphere &sphere, const protocol::VisibleCells &cells,
                           std::span<const CellId> changed)
{
    if (cells.cellCount() != sphere.cellCount())
        return 0;
    for (const CellId cell : changed) {
        if (cell >= cells.cellCount())
            continue;
        const std::uint16_t prototype = cells.structure[cell];
        const auto it = m_drawn.find(cell);
        if (it != m_drawn.end() && it->second.prototype == prototype
            && it->second.orientation == cells.orientation[cell]
            && it->second.owner == cells.owner[cell])
            continue;
        if (it == m_drawn.end() && prototype == sim::kNoStructure)
            continue;
        remove(cell);
        if (prototype != sim::kNoStructure)
            add(sphere, cells, cell);
    }
    int uploaded = 0;
    for (Kind &kind : m_kinds) {
        if (kind.dirty) {
            upload(kind);
            ++uploaded;
        }
    }
    return uploaded;
}

int StructureLayer::instanceCount(StructureShape shape) const
{
    return int(m_kinds[std::size_t(shape)].cells.size());
}

std::span<const float> StructureLayer::instanceData(StructureShape shape) const
{
    return m_kinds[std::size_t(shape)].data;
}

std::optional<std::pair<StructureShape, int>> StructureLayer::instanceOf(CellId cell) const
{
    const auto it = m_drawn.find(cell);
    if (it == m_drawn.end())
        return std::nullopt;
    return std::pair{it->second.shape, int(it->second.index)};
}

int StructureLayer::vertexCount(StructureShape shape) const
{
    return m_kinds[std::size_t(shape)].vertexCount;
}

void StructureLayer::setTime(float seconds)
{
    m_time->setValue(std::fmod(seconds, kTimeWrap));
}

void StructureLayer::setLightDirection(const QVector3D &towardsLight)
{
    m_light->setValue(towardsLight.normalized());
}

void StructureLayer::setMinimumScale(float scale)
{
    m_minimumScale->setValue(std::max(scale, 0.0f));
}

void StructureLayer::setVisible(bool visible)
{
    m_visible = visible;
    for (Kind &kind : m_kinds)
        kind.entity->setEnabled(visible && !kind.cells.empty());
}

} // namespace hex::client
