#include "planetview.h"

#include "celllook.h"
#include "orbitcamera.h"
#include "picking.h"
#include "planetmesh.h"
#include "structurelayer.h"

#include "protocol/worldcodec.h"
#include "sim/content.h"

#include <Qt3DCore/QAttribute>
#include <Qt3DCore/QBoundingVolume>
#include <Qt3DCore/QBuffer>
#include <Qt3DCore/QEntity>
#include <Qt3DCore/QGeometry>
#include <Qt3DCore/QTransform>
#include <Qt3DExtras/QForwardRenderer>
#include <Qt3DExtras/QPhongMaterial>
#include <Qt3DExtras/QSphereMesh>
#include <Qt3DExtras/QPerVertexColorMaterial>
#include <Qt3DExtras/Qt3DWindow>
#include <Qt3DLogic/QFrameAction>
#include <Qt3DRender/QCamera>
#include <Qt3DRender/QDirectionalLight>
#include <Qt3DRender/QGeometryRenderer>
#include <Qt3DRender/QRenderCapture>

#include <QElapsedTimer>
#include <QKeyEvent>
#include <QLoggingCategory>
#include <QMouseEvent>
#include <QResizeEvent>
#include <QVBoxLayout>

#include <algorithm>
#include <cstring>
#include <cmath>
#include <numbers>

namespace hex::client {

namespace {

/// Runs of changed cells re-uploaded one by one; more, and the buffer is set whole.
constexpr std::size_t kMaxRangedUpdates = 32;
/// How much a cell with a provisional look is paled towards white (of 256).
constexpr int kProvisionalPaling = 90;

/// The colour `cell` will have once `look` is real: the mirror's cell with the pending
/// action's structure, orientation and owner.
sim::Rgb provisionalColour(const protocol::VisibleCells &cells, geometry::CellId cell,
                           const ProvisionalCell &look)
{
    protocol::VisibleCells one;
    one.resize(1);
    one.terrain[0] = cells.terrain[cell];
    one.elevation[0] = cells.elevation[cell];
    one.flora[0] = cells.flora[cell];
    one.water[0] = cells.water[cell];
    one.pollution[0] = cells.pollution[cell];
    one.resource[0] = cells.resource[cell];
    one.structure[0] = look.structure;
    one.orientation[0] = look.orientation;
    one.owner[0] = look.owner;
    return cellColour(one, 0);
}

Q_LOGGING_CATEGORY(lcRender, "hex.client.render")

constexpr float kPlanetRadius = 1.0f;
constexpr float kFieldOfView = 45.0f;
/// The whole globe fills at most this share of the narrower side of the view.
constexpr float kGlobeMargin = 1.12f;
/// Closest zoom: about this many cells across the height of the view.
constexpr float kCellsAtClosestZoom = 6.0f;
const QColor kSpace(8, 11, 22);
/// From afar a structure is drawn at least this many pixels in inner radius, so that it
/// stays a visible dot on the whole globe.
constexpr float kStructureMinimumPixels = 2.5f;
/// How far the hovered cell's colour is moved toward white, in 1/256.
constexpr int kHoverBrightening = 110;
/// A press and release closer than this many pixels (Manhattan) is a click, not a drag.
constexpr qreal kClickSlop = 4.0;

Qt3DRender::API renderApi()
{
    return qEnvironmentVariable("QT3D_RENDERER") == QLatin1String("rhi") ? Qt3DRender::API::RHI
                                                                         : Qt3DRender::API::OpenGL;
}

} // namespace

QQuaternion PlanetView::planetOrientation()
{
    return QQuaternion::fromAxisAndAngle(1.0f, 0.0f, 0.0f, -90.0f);
}

PlanetView::PlanetView(QWidget *parent)
    : QWidget(parent)
{
    m_window = new Qt3DExtras::Qt3DWindow(nullptr, renderApi());
    m_window->defaultFrameGraph()->setClearColor(kSpace);

    // A capture node at the root of the frame graph: idle until requestCapture().
    m_capture = new Qt3DRender::QRenderCapture;
    m_window->defaultFrameGraph()->setParent(m_capture);
    m_window->setActiveFrameGraph(m_capture);

    m_root = new Qt3DCore::QEntity;

    auto *lightEntity = new Qt3DCore::QEntity(m_root);
    m_light = new Qt3DRender::QDirectionalLight(lightEntity);
    m_light->setColor(Qt::white);
    m_light->setIntensity(0.85f);
    lightEntity->addComponent(m_light);

    auto *frameAction = new Qt3DLogic::QFrameAction(m_root);
    m_root->addComponent(frameAction);
    connect(frameAction, &Qt3DLogic::QFrameAction::triggered, this, &PlanetView::onFrame);

    m_orbit = new OrbitCamera(this);
    m_orbit->setPlanetRadius(kPlanetRadius);
    m_orbit->setFieldOfView(kFieldOfView);
    m_orbit->setPitch(0.35f);
    connect(m_orbit, &OrbitCamera::changed, this, &PlanetView::applyCamera);
    m_window->installEventFilter(m_orbit);
    // Installed last, so it sees events first: it watches clicks and hover, and leaves
    // drags to the orbit camera.
    m_window->installEventFilter(this);

    m_window->setRootEntity(m_root);

    m_container = QWidget::createWindowContainer(m_window, this);
    m_container->setFocusPolicy(Qt::StrongFocus);
    m_container->setMinimumSize(160, 120);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_container);
    setFocusProxy(m_container);

    fitDistanceLimits();
    m_orbit->setDistance(m_orbit->maximumDistance());
    applyCamera();
}

PlanetView::~PlanetView()
{
    // Qt3DWindow adopts the scene only when first shown; a view that never was still
    // owns it.
    if (m_root && !m_root->parent())
        delete m_root;
}

void PlanetView::createPlanetEntity()
{
    m_planet = new Qt3DCore::QEntity(m_root);
    m_geometry = new Qt3DCore::QGeometry(m_planet);

    m_vertexBuffer = new Qt3DCore::QBuffer(m_geometry);
    m_vertexBuffer->setUsage(Qt3DCore::QBuffer::StaticDraw);
    m_colourBuffer = new Qt3DCore::QBuffer(m_geometry);
    m_colourBuffer->setUsage(Qt3DCore::QBuffer::DynamicDraw);
    m_indexBuffer = new Qt3DCore::QBuffer(m_geometry);
    m_indexBuffer->setUsage(Qt3DCore::QBuffer::StaticDraw);

    auto makeAttribute
        = [this](const QString &name, Qt3DCore::QBuffer *buffer, uint stride, uint offset) {
              auto *attribute = new Qt3DCore::QAttribute(m_geometry);
              attribute->setName(name);
              attribute->setAttributeType(Qt3DCore::QAttribute::VertexAttribute);
              attribute->setVertexBaseType(Qt3DCore::QAttribute::Float);
              attribute->setVertexSize(3);
              attribute->setBuffer(buffer);
              attribute->setByteStride(stride);
              attribute->setByteOffset(offset);
              m_geometry->addAttribute(attribute);
              return attribute;
          };
    m_positionAttribute = makeAttribute(Qt3DCore::QAttribute::defaultPositionAttributeName(),
                                        m_vertexBuffer, PlanetMesh::kVertexStride, 0);
    m_normalAttribute = makeAttribute(Qt3DCore::QAttribute::defaultNormalAttributeName(),
                                      m_vertexBuffer, PlanetMesh::kVertexStride, 3 * sizeof(float));
    m_colourAttribute = makeAttribute(Qt3DCore::QAttribute::defaultColorAttributeName(),
                                      m_colourBuffer, PlanetMesh::kColourStride, 0);
    m_geometry->setBoundingVolumePositionAttribute(m_positionAttribute);

    m_indexAttribute = new Qt3DCore::QAttribute(m_geometry);
    m_indexAttribute->setAttributeType(Qt3DCore::QAttribute::IndexAttribute);
    m_indexAttribute->setVertexBaseType(Qt3DCore::QAttribute::UnsignedInt);
    m_indexAttribute->setBuffer(m_indexBuffer);
    m_geometry->addAttribute(m_indexAttribute);

    m_renderer = new Qt3DRender::QGeometryRenderer(m_planet);
    m_renderer->setPrimitiveType(Qt3DRender::QGeometryRenderer::Triangles);
    m_renderer->setGeometry(m_geometry);

    // The planet's extent is known: spare Qt3D a pass over a million vertices.
    auto *bounds = new Qt3DCore::QBoundingVolume(m_planet);
    bounds->setMinPoint(QVector3D(-kPlanetRadius, -kPlanetRadius, -kPlanetRadius));
    bounds->setMaxPoint(QVector3D(kPlanetRadius, kPlanetRadius, kPlanetRadius));

    // The world's north pole is +Z (sim::generateTerrain measures latitude along Z);
    // the scene's up is +Y. Turn the planet so that north is up on screen. Picking must
    // apply the inverse.
    auto *orientation = new Qt3DCore::QTransform(m_planet);
    orientation->setRotation(planetOrientation());

    m_planet->addComponent(m_renderer);
    m_planet->addComponent(bounds);
    m_planet->addComponent(orientation);
    m_planet->addComponent(new Qt3DExtras::QPerVertexColorMaterial(m_planet));

    std::vector<StructureShape> shapes;
    if (const auto content = sim::loadDefaultContent())
        shapes = StructureLayer::shapesFor(*content);
    else
        qCWarning(lcRender) << "structures drawn as blocks:" << content.error();
    m_structures = std::make_unique<StructureLayer>(m_root, planetOrientation(), std::move(shapes));
    applyCamera();
}

void PlanetView::showPlanet(std::shared_ptr<const geometry::HexSphere> sphere,
                            const protocol::VisibleCells *cells)
{
    Q_ASSERT(sphere && cells);
    Q_ASSERT(cells->cellCount() == sphere->cellCount());

    QElapsedTimer timer;
    timer.start();
    const PlanetMesh mesh(*sphere, kPlanetRadius);
    const QByteArray colours = PlanetMesh::colours(*cells);
    const qint64 buildMs = timer.elapsed();

    if (!m_planet)
        createPlanetEntity();
    m_vertexBuffer->setData(mesh.vertexData());
    m_colours = colours;
    m_colourBuffer->setData(colours);
    m_indexBuffer->setData(mesh.indexData());
    m_positionAttribute->setCount(mesh.vertexCount());
    m_normalAttribute->setCount(mesh.vertexCount());
    m_colourAttribute->setCount(mesh.vertexCount());
    m_indexAttribute->setCount(mesh.indexCount());
    m_renderer->setVertexCount(int(mesh.indexCount()));

    const bool sameSize = m_sphere && m_sphere->subdivisions() == sphere->subdivisions();
    m_sphere = std::move(sphere);
    m_cells = cells;
    m_structures->rebuild(*m_sphere, *m_cells);
    m_framesSincePlanet = 0;
    if (m_hovered) {
        m_hovered.reset(); // The fresh colours carry no highlight.
        emit hoveredCellChanged();
    }
    qCInfo(lcRender).nospace() << "planet mesh: " << m_sphere->cellCount() << " cells, "
                               << mesh.vertexCount() << " vertices, " << mesh.indexCount() / 3
                               << " triangles, built in " << buildMs << " ms";

    fitDistanceLimits();
    if (!sameSize)
        m_orbit->setDistance(m_orbit->maximumDistance());
}

bool PlanetView::mirrorMatchesSphere() const
{
    return m_sphere && m_cells && m_cells->cellCount() == m_sphere->cellCount();
}

int PlanetView::updateCells(std::span<const geometry::CellId> cells)
{
    if (cells.empty() || !mirrorMatchesSphere())
        return 0;
    m_structures->update(*m_sphere, *m_cells, cells);
    std::vector<CellRange> ranges = PlanetMesh::coalesce(cells);
    std::erase_if(ranges, [&](const CellRange &r) { return r.first >= m_sphere->cellCount(); });
    // Qt3D's QBuffer::updateData() copies every update still pending for the frame on
    // each call, so scattered changes (a living planet's ticks) cost quadratically in
    // the number of runs: beyond a few dozen, the colours are written into the copy
    // kept here and the buffer takes it whole, once.
    const bool whole = ranges.size() > kMaxRangedUpdates;
    int uploaded = 0;
    QByteArray bytes;
    for (const CellRange &range : ranges) {
        const std::uint32_t count = std::min(range.count, m_sphere->cellCount() - range.first);
        bytes.resize(qsizetype(count) * PlanetMesh::kColourBytesPerCell);
        auto *out = reinterpret_cast<float *>(bytes.data());
        for (std::uint32_t i = 0; i < count; ++i) {
            const geometry::CellId cell = range.first + i;
            sim::Rgb colour = cellColour(*m_cells, cell);
            if (const auto look = m_provisional ? m_provisional(cell) : std::nullopt) {
                // The cell as the pending action will make it, paled: not settled yet.
                colour = blend(provisionalColour(*m_cells, cell, *look), sim::Rgb{255, 255, 255},
                               kProvisionalPaling);
            }
            if (m_hovered == cell)
                colour = blend(colour, sim::Rgb{255, 255, 255}, kHoverBrightening);
            PlanetMesh::writeCellColours(out, colour);
            out += PlanetMesh::kColourFloatsPerCell;
        }
        const auto offset = qsizetype(PlanetMesh::colourOffset(range.first));
        std::memcpy(m_colours.data() + offset, bytes.constData(), std::size_t(bytes.size()));
        if (!whole) {
            m_colourBuffer->updateData(int(offset), bytes);
            ++uploaded;
        }
    }
    if (whole) {
        m_colourBuffer->setData(m_colours);
        uploaded = 1;
    }
    return uploaded;
}

std::optional<QPointF> PlanetView::pixelOfCell(geometry::CellId cell) const
{
    if (!m_sphere || cell >= m_sphere->cellCount())
        return std::nullopt;
    const geometry::Vec3 c = m_sphere->centre(cell);
    const QVector3D point = planetOrientation().rotatedVector(QVector3D(c.x, c.y, c.z));
    const CameraPose pose = cameraPose();
    // On the far side of the globe: the surface faces away from the camera.
    if (QVector3D::dotProduct(point, pose.position - point) <= 0.0f)
        return std::nullopt;
    return projectPoint(pose, viewportSize(), point);
}

bool PlanetView::refreshAll()
{
    if (!mirrorMatchesSphere())
        return false;
    QElapsedTimer timer;
    timer.start();
    m_colours = PlanetMesh::colours(*m_cells);
    m_colourBuffer->setData(m_colours);
    m_structures->rebuild(*m_sphere, *m_cells);
    if (m_hovered) {
        const geometry::CellId hovered = *m_hovered;
        updateCells({&hovered, 1});
    }
    qCDebug(lcRender).nospace() << "recoloured " << m_cells->cellCount() << " cells in "
                                << timer.elapsed() << " ms";
    return true;
}

QByteArray PlanetView::colourData() const
{
    return m_colourBuffer ? m_colourBuffer->data() : QByteArray();
}

Qt3DRender::QRenderCaptureReply *PlanetView::requestCapture()
{
    return m_capture->requestCapture();
}

CameraPose PlanetView::cameraPose() const
{
    return CameraPose{m_orbit->position(), QVector3D(0, 0, 0), m_orbit->upVector(),
                      m_orbit->fieldOfView()};
}

QSize PlanetView::viewportSize() const
{
    const QSize size = m_window->size();
    return size.isEmpty() ? m_container->size() : size;
}

std::optional<geometry::CellId> PlanetView::cellAtPixel(QPointF pixel) const
{
    if (!m_sphere)
        return std::nullopt;
    return pickCell(*m_sphere, planetOrientation(), cameraPose(), viewportSize(), pixel);
}

void PlanetView::setHoveredCell(std::optional<geometry::CellId> cell)
{
    if (cell && (!m_sphere || *cell >= m_sphere->cellCount()))
        cell.reset();
    if (cell == m_hovered)
        return;
    const std::optional<geometry::CellId> previous = m_hovered;
    m_hovered = cell;
    std::vector<geometry::CellId> changed;
    if (previous)
        changed.push_back(*previous);
    if (cell)
        changed.push_back(*cell);
    updateCells(changed);
    emit hoveredCellChanged();
}

std::optional<geometry::CellId> PlanetView::clickAt(QPointF pixel)
{
    const std::optional<geometry::CellId> cell = cellAtPixel(pixel);
    if (cell)
        emit cellClicked(*cell);
    return cell;
}

void PlanetView::hoverAt(QPointF pixel)
{
    m_mouse = pixel;
    setHoveredCell(cellAtPixel(pixel));
}

bool PlanetView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched != m_window)
        return QWidget::eventFilter(watched, event);
    switch (event->type()) {
    case QEvent::MouseButtonPress: {
        const auto *mouse = static_cast<QMouseEvent *>(event);
        if (mouse->button() == Qt::LeftButton) {
            m_pressedAt = mouse->position();
            m_dragged = false;
        }
        break;
    }
    case QEvent::MouseMove: {
        const auto *mouse = static_cast<QMouseEvent *>(event);
        if (m_pressedAt && (mouse->position() - *m_pressedAt).manhattanLength() > kClickSlop)
            m_dragged = true;
        hoverAt(mouse->position());
        break;
    }
    case QEvent::MouseButtonRelease: {
        const auto *mouse = static_cast<QMouseEvent *>(event);
        if (mouse->button() != Qt::LeftButton || !m_pressedAt)
            break;
        const bool click = !m_dragged;
        m_pressedAt.reset();
        m_dragged = false;
        if (click)
            clickAt(mouse->position());
        break;
    }
    case QEvent::Leave:
        m_mouse.reset();
        setHoveredCell(std::nullopt);
        break;
    case QEvent::KeyPress: {
        const auto *key = static_cast<QKeyEvent *>(event);
        if (key->key() == Qt::Key_Escape) {
            emit toolCancelled();
            return true;
        }
        if (key->key() == m_rotateKey && !key->isAutoRepeat()) {
            if (m_hovered)
                emit rotateRequested(*m_hovered);
            return true;
        }
        break;
    }
    default:
        break;
    }
    return false; // The orbit camera still gets every event.
}

void PlanetView::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    const bool atWholeGlobe = m_orbit->targetDistance() >= m_orbit->maximumDistance();
    fitDistanceLimits();
    if (atWholeGlobe)
        m_orbit->setDistance(m_orbit->maximumDistance());
    applyCamera(); // The structures' minimum size is in pixels.
}

void PlanetView::fitDistanceLimits()
{
    constexpr float kDegrees = std::numbers::pi_v<float> / 180.0f;
    const QSize size = m_container ? m_container->size() : this->size();
    const float aspect = float(std::max(size.width(), 1)) / float(std::max(size.height(), 1));
    const float halfVertical = kFieldOfView * 0.5f * kDegrees;
    const float halfHorizontal = std::atan(std::tan(halfVertical) * aspect);
    const float halfNarrow = std::min(halfVertical, halfHorizontal);
    const float maximum = kPlanetRadius * kGlobeMargin / std::sin(halfNarrow);

    // One cell is about 1.107/n radians across (an icosahedron edge cut n times).
    const int n = m_sphere ? m_sphere->subdivisions() : 16;
    const float cellArc = 1.107f / float(n);
    const float closestAltitude
        = kCellsAtClosestZoom * cellArc * kPlanetRadius / (2.0f * std::tan(halfVertical));
    const float minimum = std::min(kPlanetRadius + closestAltitude, maximum * 0.9f);

    m_orbit->setViewportHeight(std::max(size.height(), 1));
    m_orbit->setDistanceLimits(minimum, maximum);
}

void PlanetView::onFrame(float seconds)
{
    if (m_sphere)
        ++m_framesSincePlanet;
    m_orbit->advance(seconds);
    m_animationSeconds += double(seconds);
    if (m_structures)
        m_structures->setTime(float(m_animationSeconds));
    drawCursors();
    emit frameRendered(seconds);
}

void PlanetView::drawCursors()
{
    if (!m_cursorSource || !m_sphere)
        return;
    m_drawnCursors.clear();
    // A marker about half a cell across, floating just above the ground.
    const float size = 1.2f / float(std::max(m_sphere->subdivisions(), 1));
    for (const auto &[player, position] : m_cursorSource()) {
        Qt3DCore::QEntity *&marker = m_cursorMarkers[player];
        if (!marker) {
            marker = new Qt3DCore::QEntity(m_root);
            auto *mesh = new Qt3DExtras::QSphereMesh(marker);
            mesh->setRadius(0.5f);
            mesh->setRings(10);
            mesh->setSlices(16);
            auto *material = new Qt3DExtras::QPhongMaterial(marker);
            const sim::Rgb colour = playerColour(player);
            material->setDiffuse(QColor(colour.r, colour.g, colour.b));
            material->setAmbient(QColor(colour.r, colour.g, colour.b).darker(200));
            marker->addComponent(mesh);
            marker->addComponent(material);
            marker->addComponent(new Qt3DCore::QTransform(marker));
        }
        const QVector3D scene
            = planetOrientation().rotatedVector(QVector3D(position.x, position.y, position.z))
              * (1.0f + size);
        auto *transform = marker->componentsOfType<Qt3DCore::QTransform>().front();
        transform->setTranslation(scene);
        transform->setScale(size);
        marker->setEnabled(true);
        m_drawnCursors[player] = scene;
    }
    for (const auto &[player, marker] : m_cursorMarkers) {
        if (!m_drawnCursors.contains(player))
            marker->setEnabled(false);
    }
}

void PlanetView::applyCamera()
{
    Qt3DRender::QCamera *camera = m_window->camera();
    const QVector3D position = m_orbit->position();
    const QVector3D up = m_orbit->upVector();
    camera->setFieldOfView(m_orbit->fieldOfView());
    camera->setNearPlane(m_orbit->nearPlane());
    camera->setFarPlane(m_orbit->farPlane());
    camera->setPosition(position);
    camera->setViewCenter(QVector3D(0, 0, 0));
    camera->setUpVector(up);

    // Light from over the viewer's left shoulder, so the visible side is lit and the
    // globe still shades towards its rim.
    const QVector3D towardsViewer = position.normalized();
    const QVector3D right = QVector3D::crossProduct(-towardsViewer, up).normalized();
    const QVector3D lightFrom = (towardsViewer + 0.55f * up - 0.45f * right).normalized();
    m_light->setWorldDirection(-lightFrom);

    if (m_structures) {
        m_structures->setLightDirection(lightFrom);
        // World units per pixel at the nearest point of the surface.
        constexpr float kDegrees = std::numbers::pi_v<float> / 180.0f;
        const float altitude = std::max(position.length() - kPlanetRadius, 1e-4f);
        const float unitsPerPixel = 2.0f * altitude
                                    * std::tan(m_orbit->fieldOfView() * 0.5f * kDegrees)
                                    / float(std::max(viewportSize().height(), 1));
        m_structures->setMinimumScale(kStructureMinimumPixels * unitsPerPixel);
    }

    // The globe turned under a still mouse: the cell under it changed.
    if (m_mouse)
        setHoveredCell(cellAtPixel(*m_mouse));
}

} // namespace hex::client
