#include "planetview.h"

#include "glmaterial.h"

#include "celllook.h"
#include "orbitcamera.h"
#include "picking.h"
#include "planetmesh.h"
#include "structurelayer.h"

#include "geometry/chunkcover.h"
#include "net/tickdeltas.h"
#include "sim/steppool.h"

#include "protocol/worldcodec.h"
#include "sim/content.h"

#include <Qt3DCore/QAttribute>
#include <Qt3DCore/QBuffer>
#include <Qt3DCore/QEntity>
#include <Qt3DCore/QGeometry>
#include <Qt3DCore/QTransform>
#include <Qt3DExtras/QForwardRenderer>
#include <Qt3DExtras/QPhongMaterial>
#include <Qt3DExtras/QSphereMesh>
#include <Qt3DExtras/Qt3DWindow>
#include <Qt3DLogic/QFrameAction>
#include <Qt3DRender/QCamera>
#include <Qt3DRender/QClearBuffers>
#include <Qt3DRender/QDirectionalLight>
#include <Qt3DRender/QGeometryRenderer>
#include <Qt3DRender/QMaterial>
#include <Qt3DRender/QParameter>
#include <Qt3DRender/QRenderCapture>
#include <Qt3DRender/QShaderProgram>
#include <Qt3DRender/QTexture>
#include <Qt3DRender/QTextureDataUpdate>
#include <Qt3DRender/QTextureImageData>
#include <Qt3DRender/QTextureWrapMode>

#include <QElapsedTimer>
#include <QOpenGLTexture>
#include <QUrl>
#include <QKeyEvent>
#include <QLoggingCategory>
#include <QMouseEvent>
#include <QResizeEvent>
#include <QSurfaceFormat>
#include <QVBoxLayout>

#include <algorithm>
#include <bit>
#include <cstring>
#include <cmath>
#include <numbers>
#include <utility>

namespace hex::client {

namespace {

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
/// One cell is about this many radians across, divided by n (an icosahedron edge, 1.107
/// radians, cut n times).
constexpr float kCellArcTimesN = 1.107f;
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

/// The far planet: a HexSphere mesh this fine (2562 cells, 15360 triangles).
constexpr int kFarSubdivisions = 16;
/// The cell-id map: 2048² texels, 16 MiB. Its texels are at most about 3/size radians
/// across (the octahedral projection stretches them most along the diagonals).
constexpr int kCellIdMapSize = 2048;
constexpr float kCellIdTexelRadians = 3.0f / float(kCellIdMapSize);
/// The far planet is drawn while a texel of the cell-id map covers at most this many
/// pixels.
constexpr float kFarTexelPixels = 1.5f;
/// log2(PlanetMesh::kLookTextureWidth): the shaders find a cell's texel by shifts.
constexpr int kLookRowShift = std::countr_zero(unsigned(PlanetMesh::kLookTextureWidth));
static_assert((1 << kLookRowShift) == PlanetMesh::kLookTextureWidth);
/// Intensity of the light over the viewer's shoulder.
constexpr float kLightIntensity = 0.85f;

/// A material for the planet's meshes: `shader`.vert and .frag from the resources,
/// with `parameters`. The far side of the globe is never seen: back faces are culled,
/// sparing the rasteriser half the triangles.
Qt3DRender::QMaterial *createPlanetMaterial(Qt3DCore::QNode *parent, const QString &shader,
                                            const std::vector<Qt3DRender::QParameter *> &parameters)
{
    const QString base = QStringLiteral("qrc:/hexsphere/shaders/") + shader;
    return createGlMaterial(
        parent, Qt3DRender::QShaderProgram::loadSource(QUrl(base + QStringLiteral(".vert"))),
        Qt3DRender::QShaderProgram::loadSource(QUrl(base + QStringLiteral(".frag"))),
        Culling::BackFaces, parameters);
}

} // namespace

/// A mesh in PlanetMesh's layout, under a root that turns it as the planet is, drawn
/// by parts: entities that share its geometry (and, once given, its material), each
/// drawing one run of its indices.
struct PlanetView::MeshEntities
{
    Qt3DCore::QEntity *root = nullptr;
    Qt3DCore::QBuffer *vertices = nullptr;
    Qt3DCore::QBuffer *indices = nullptr;
    Qt3DCore::QAttribute *positions = nullptr;
    Qt3DCore::QAttribute *indexAttribute = nullptr;
    std::vector<Qt3DCore::QEntity *> parts;
    std::vector<Qt3DRender::QGeometryRenderer *> renderers;
    /// Indices in the mesh now set.
    std::uint32_t indexCount = 0;

    /// Makes the root, the geometry and `partCount` parts under `parent`; the parts
    /// draw nothing until setMesh().
    MeshEntities(Qt3DCore::QNode *parent, int partCount);
    /// Hands `mesh` to the buffers; the first part draws all of it, the others nothing.
    void setMesh(const PlanetMesh &mesh);
    /// Gives every part `material`.
    void setMaterial(Qt3DRender::QMaterial *material);
    /// Part i draws ranges[i]; parts past ranges.size() are disabled.
    void draw(const std::vector<IndexRange> &ranges);
};

PlanetView::MeshEntities::MeshEntities(Qt3DCore::QNode *parent, int partCount)
{
    // A turned root holding the transform, and the drawn entities under it, as
    // StructureLayer does (Qt3D 6.4's OpenGL renderer crashed in one of its jobs with a
    // second textured planet entity carrying its own transform). The world's north pole is +Z (sim::generateTerrain measures latitude along Z);
    // the scene's up is +Y: the root turns the planet so that north is up on screen.
    // Picking applies the inverse.
    root = new Qt3DCore::QEntity(parent);
    auto *orientation = new Qt3DCore::QTransform(root);
    orientation->setRotation(PlanetView::planetOrientation());
    root->addComponent(orientation);
    for (int i = 0; i < partCount; ++i)
        parts.push_back(new Qt3DCore::QEntity(root));
    // Held by a part: Qt3D 6.4's OpenGL renderer crashed in one of its jobs with the
    // geometry a child of the turned root.
    auto *geometry = new Qt3DCore::QGeometry(parts.front());

    vertices = new Qt3DCore::QBuffer(geometry);
    vertices->setUsage(Qt3DCore::QBuffer::StaticDraw);
    indices = new Qt3DCore::QBuffer(geometry);
    indices->setUsage(Qt3DCore::QBuffer::StaticDraw);

    positions = new Qt3DCore::QAttribute(geometry);
    positions->setName(Qt3DCore::QAttribute::defaultPositionAttributeName());
    positions->setAttributeType(Qt3DCore::QAttribute::VertexAttribute);
    positions->setVertexBaseType(Qt3DCore::QAttribute::Float);
    positions->setVertexSize(4);
    positions->setBuffer(vertices);
    positions->setByteStride(PlanetMesh::kVertexStride);
    positions->setByteOffset(0);
    geometry->addAttribute(positions);

    indexAttribute = new Qt3DCore::QAttribute(geometry);
    indexAttribute->setAttributeType(Qt3DCore::QAttribute::IndexAttribute);
    indexAttribute->setVertexBaseType(Qt3DCore::QAttribute::UnsignedInt);
    indexAttribute->setBuffer(indices);
    geometry->addAttribute(indexAttribute);

    for (Qt3DCore::QEntity *entity : parts) {
        auto *renderer = new Qt3DRender::QGeometryRenderer(entity);
        renderer->setPrimitiveType(Qt3DRender::QGeometryRenderer::Triangles);
        renderer->setGeometry(geometry);
        // The planet's extent, whole, for every part (the renderer is a bounding
        // volume): which parts are drawn is decided here (drawVisibleChunks()).
        renderer->setMinPoint(QVector3D(-kPlanetRadius, -kPlanetRadius, -kPlanetRadius));
        renderer->setMaxPoint(QVector3D(kPlanetRadius, kPlanetRadius, kPlanetRadius));
        entity->addComponent(renderer);
        entity->setEnabled(false);
        renderers.push_back(renderer);
    }
}

void PlanetView::MeshEntities::setMesh(const PlanetMesh &mesh)
{
    vertices->setData(mesh.vertexData());
    indices->setData(mesh.indexData());
    positions->setCount(mesh.vertexCount());
    indexAttribute->setCount(mesh.indexCount());
    indexCount = mesh.indexCount();
    draw({IndexRange{0, indexCount}});
}

void PlanetView::MeshEntities::setMaterial(Qt3DRender::QMaterial *material)
{
    for (Qt3DCore::QEntity *part : parts)
        part->addComponent(material);
}

void PlanetView::MeshEntities::draw(const std::vector<IndexRange> &ranges)
{
    Q_ASSERT(ranges.size() <= parts.size());
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i < ranges.size()) {
            renderers[i]->setIndexBufferByteOffset(int(ranges[i].first * sizeof(std::uint32_t)));
            renderers[i]->setVertexCount(int(ranges[i].count));
        }
        parts[i]->setEnabled(i < ranges.size());
    }
    // Nothing drawn: Qt3D's jobs skip the whole subtree.
    root->setEnabled(!ranges.empty());
}

namespace {

/// A texture with nearest filtering, clamped, no mipmaps, no generator and no images,
/// so that Qt3D uploads only the rectangles given to updateData() (with either, it
/// would upload them whole again with every update).
void setUpDataTexture(Qt3DRender::QAbstractTexture *texture)
{
    texture->setFormat(Qt3DRender::QAbstractTexture::RGBA8_UNorm);
    texture->setGenerateMipMaps(false);
    texture->setMinificationFilter(Qt3DRender::QAbstractTexture::Nearest);
    texture->setMagnificationFilter(Qt3DRender::QAbstractTexture::Nearest);
    texture->wrapMode()->setX(Qt3DRender::QTextureWrapMode::ClampToEdge);
    texture->wrapMode()->setY(Qt3DRender::QTextureWrapMode::ClampToEdge);
    texture->wrapMode()->setZ(Qt3DRender::QTextureWrapMode::ClampToEdge);
}

/// RGBA8 texels of a `width`×`height` rectangle, for a QTextureDataUpdate.
Qt3DRender::QTextureImageDataPtr rgbaImage(QOpenGLTexture::Target target, int width, int height,
                                          const QByteArray &bytes)
{
    auto image = Qt3DRender::QTextureImageDataPtr::create();
    image->setTarget(target);
    image->setFormat(QOpenGLTexture::RGBA8_UNorm);
    image->setWidth(width);
    image->setHeight(height);
    image->setDepth(1);
    image->setLayers(1);
    image->setFaces(1);
    image->setMipLevels(1);
    image->setPixelFormat(QOpenGLTexture::RGBA);
    image->setPixelType(QOpenGLTexture::UInt8);
    image->setAlignment(4);
    image->setData(bytes, 4);
    return image;
}

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
    // The planet's mesh is culled here, by chunk (drawVisibleChunks()). Qt3D's own
    // frustum culling cannot be left on: the bounding volume it computes for an entity
    // that draws a run of a shared index buffer reads that many indices from the
    // buffer's start, whatever the run's offset, so it culled parts in plain view.
    m_window->defaultFrameGraph()->setFrustumCullingEnabled(false);
    // Depth and stencil cleared together: the window's depth buffer is D24S8, and a
    // depth-only clear makes a software rasteriser (llvmpipe) keep every stencil byte in
    // a read-modify-write pass over the whole buffer instead of a plain fill (a tenth of
    // its time with 4 samples a pixel, under a twentieth after).
    m_window->defaultFrameGraph()->setBuffersToClear(
        Qt3DRender::QClearBuffers::ColorDepthStencilBuffer);

    // A capture node at the root of the frame graph: idle until requestCapture().
    m_capture = new Qt3DRender::QRenderCapture;
    m_window->defaultFrameGraph()->setParent(m_capture);
    m_window->setActiveFrameGraph(m_capture);

    m_root = new Qt3DCore::QEntity;

    auto *lightEntity = new Qt3DCore::QEntity(m_root);
    m_light = new Qt3DRender::QDirectionalLight(lightEntity);
    m_light->setColor(Qt::white);
    m_light->setIntensity(kLightIntensity);
    // Unparented: the planet's material adopts it.
    m_lightDirection = new Qt3DRender::QParameter(QStringLiteral("lightDirection"),
                                                  QVector3D(0.0f, 0.5f, 1.0f));
    m_farLightDirection = new Qt3DRender::QParameter(QStringLiteral("lightDirection"),
                                                     QVector3D(0.0f, 0.5f, 1.0f));
    for (std::size_t i = 0; i < m_centreShade.size(); ++i) {
        m_centreShade[i]
            = new Qt3DRender::QParameter(QStringLiteral("centreShade"), m_cellShading.centre);
        m_edgeShade[i]
            = new Qt3DRender::QParameter(QStringLiteral("cornerShade"), m_cellShading.edge);
    }
    lightEntity->addComponent(m_light);

    auto *frameAction = new Qt3DLogic::QFrameAction(m_root);
    m_root->addComponent(frameAction);
    connect(frameAction, &Qt3DLogic::QFrameAction::triggered, this, &PlanetView::onFrame);

    m_afterFrameLatest.setSingleShot(true);
    m_afterFrameLatest.setTimerType(Qt::PreciseTimer);
    connect(&m_afterFrameLatest, &QTimer::timeout, this, &PlanetView::runWorkAfterFrame);

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
    // The planet's material adopts the light parameter once a planet is shown.
    if (m_lightDirection && !m_lightDirection->parent())
        delete m_lightDirection;
    if (m_farLightDirection && !m_farLightDirection->parent())
        delete m_farLightDirection;
    // Qt3DWindow adopts the scene only when first shown; a view that never was still
    // owns it.
    if (m_root && !m_root->parent())
        delete m_root;
}

void PlanetView::createPlanetEntity()
{
    m_lookTexture = new Qt3DRender::QTexture2D(m_root);
    setUpDataTexture(m_lookTexture);
    m_cellIdTexture = new Qt3DRender::QTexture2D(m_root);
    setUpDataTexture(m_cellIdTexture);
    m_cellIdTexture->setSize(kCellIdMapSize, kCellIdMapSize);

    m_planet = std::make_unique<MeshEntities>(m_root, int(kMaxDrawParts));
    m_planet->setMaterial(createPlanetMaterial(
        m_planet->parts.front(), QStringLiteral("planet"),
        {new Qt3DRender::QParameter(QStringLiteral("cellLooks"), m_lookTexture),
         new Qt3DRender::QParameter(QStringLiteral("lookRowShift"), kLookRowShift),
         m_lightDirection,
         new Qt3DRender::QParameter(QStringLiteral("lightIntensity"), kLightIntensity),
         m_centreShade[0], m_edgeShade[0]}));

    // The far planet: the same for every world, drawn whole.
    m_farPlanet = std::make_unique<MeshEntities>(m_root, 1);
    const PlanetMesh far(geometry::HexSphere(kFarSubdivisions), kPlanetRadius);
    m_farPlanet->setMesh(far);
    m_farMeshBytes = quint64(far.vertexData().size() + far.indexData().size());
    m_farPlanet->setMaterial(createPlanetMaterial(
        m_farPlanet->parts.front(), QStringLiteral("planetfar"),
        {new Qt3DRender::QParameter(QStringLiteral("cellLooks"), m_lookTexture),
         new Qt3DRender::QParameter(QStringLiteral("lookRowShift"), kLookRowShift),
         new Qt3DRender::QParameter(QStringLiteral("cellIds"), m_cellIdTexture),
         new Qt3DRender::QParameter(QStringLiteral("cellIdMapSize"), kCellIdMapSize),
         m_farLightDirection,
         new Qt3DRender::QParameter(QStringLiteral("lightIntensity"), kLightIntensity),
         m_centreShade[1], m_edgeShade[1]}));

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
    m_chunkCover = std::make_unique<geometry::ChunkCover>(*sphere);
    const bool wasHovered = m_hovered.has_value();
    m_hovered.reset(); // The fresh looks carry no highlight.
    m_looks = PlanetMesh::looks(*cells);
    const qint64 buildMs = timer.elapsed();

    const QByteArray cellIds = PlanetMesh::cellIdMap(*sphere, kCellIdMapSize);
    const qint64 mapMs = timer.elapsed() - buildMs;

    if (!m_planet)
        createPlanetEntity();
    m_planet->setMesh(mesh);
    m_chunkIndexOffsets = mesh.chunkIndexOffsets();
    const QSize textureSize = PlanetMesh::lookTextureSize(cells->cellCount());
    m_lookTexture->setSize(textureSize.width(), textureSize.height());
    uploadLooks({0, 0, textureSize.width(), textureSize.height()});
    Qt3DRender::QTextureDataUpdate update;
    update.setData(rgbaImage(QOpenGLTexture::Target2D, kCellIdMapSize, kCellIdMapSize, cellIds));
    m_cellIdTexture->updateData(update);
    const auto meshBytes = quint64(mesh.vertexData().size() + mesh.indexData().size());
    m_uploadedBytes += meshBytes + quint64(cellIds.size());
    m_gpuBytes = meshBytes + quint64(m_looks.size()) + quint64(cellIds.size()) + m_farMeshBytes;

    const bool sameSize = m_sphere && m_sphere->subdivisions() == sphere->subdivisions();
    m_sphere = std::move(sphere);
    m_cells = cells;
    m_structures->rebuild(*m_sphere, *m_cells);
    m_framesSincePlanet = 0;
    qCInfo(lcRender).nospace() << "planet mesh: " << m_sphere->cellCount() << " cells, "
                               << mesh.vertexCount() << " vertices, " << mesh.indexCount() / 3
                               << " triangles, " << m_gpuBytes / m_sphere->cellCount()
                               << " GPU bytes a cell, built in " << buildMs
                               << " ms, its cell-id map in " << mapMs << " ms";

    fitDistanceLimits();
    if (!sameSize)
        m_orbit->setDistance(m_orbit->maximumDistance());
    applyCamera(); // which parts of the new mesh are drawn
    if (wasHovered)
        emit hoveredCellChanged();
}

bool PlanetView::mirrorMatchesSphere() const
{
    return m_sphere && m_cells && m_cells->cellCount() == m_sphere->cellCount();
}

sim::Rgb PlanetView::shownLook(geometry::CellId cell) const
{
    sim::Rgb colour = cellColour(*m_cells, cell);
    if (const auto look = m_provisional ? m_provisional(cell) : std::nullopt) {
        // The cell as the pending action will make it, paled: not settled yet.
        colour = blend(provisionalColour(*m_cells, cell, *look), sim::Rgb{255, 255, 255},
                       kProvisionalPaling);
    }
    if (m_hovered == cell)
        colour = blend(colour, sim::Rgb{255, 255, 255}, kHoverBrightening);
    return colour;
}

int PlanetView::updateCells(std::span<const geometry::CellId> cells)
{
    if (cells.empty() || !mirrorMatchesSphere())
        return 0;
    m_structures->update(*m_sphere, *m_cells, cells);
    const std::uint32_t count = m_sphere->cellCount();
    auto *looks = reinterpret_cast<std::uint8_t *>(m_looks.data());
    std::vector<CellRange> ranges = PlanetMesh::coalesce(cells);
    std::erase_if(ranges, [&](const CellRange &r) { return r.first >= count; });
    if (!ranges.empty())
        ranges.back().count = std::min(ranges.back().count, count - ranges.back().first);
    if (cells.size() < kParallelTickCells) {
        writeCellColours(*m_cells, cells, looks, PlanetMesh::kLookBytesPerCell);
    } else {
        // A large tick: each changed cell once, in slices on the GUI thread's helpers.
        std::vector<geometry::CellId> unique;
        unique.reserve(cells.size());
        for (const CellRange &range : ranges) {
            for (std::uint32_t i = 0; i < range.count; ++i)
                unique.push_back(range.first + i);
        }
        sim::StepPool &pool = guiStepPool();
        const std::size_t parts = std::size_t(pool.threadCount());
        pool.run([&](int part) {
            const std::size_t begin = unique.size() * std::size_t(part) / parts;
            const std::size_t end = unique.size() * (std::size_t(part) + 1) / parts;
            writeCellColours(*m_cells, std::span(unique).subspan(begin, end - begin), looks,
                             PlanetMesh::kLookBytesPerCell);
        });
    }
    // Then what the mirror does not say: the player's pending actions, the hovered cell.
    for (const geometry::CellId cell : cells) {
        if (cell < count && ((m_provisional && m_provisional(cell)) || m_hovered == cell))
            PlanetMesh::writeCellLook(looks + PlanetMesh::lookOffset(cell), shownLook(cell));
    }
    int uploads = 0;
    for (CellRange range : PlanetMesh::join(std::move(ranges), kSmallGap, kMaxUploadRanges)) {
        // A range over more than one row goes up as whole rows, one rectangle: at most
        // two rows more, and when that is the whole texture Qt3D shares the bytes kept
        // here instead of a copy (scattered changes all over a living planet).
        constexpr std::uint32_t width = PlanetMesh::kLookTextureWidth;
        const std::uint32_t firstRow = range.first / width;
        const std::uint32_t lastRow = (range.first + range.count - 1) / width;
        if (lastRow > firstRow)
            range = {firstRow * width, (lastRow - firstRow + 1) * width};
        for (const TexelRect &rect : PlanetMesh::texelRects(range)) {
            uploadLooks(rect);
            ++uploads;
        }
    }
    return uploads;
}

void PlanetView::uploadLooks(const TexelRect &rect)
{
    const qsizetype rowBytes = qsizetype(rect.width) * PlanetMesh::kLookBytesPerCell;
    const qsizetype stride = qsizetype(PlanetMesh::kLookTextureWidth) * PlanetMesh::kLookBytesPerCell;
    const qsizetype start = qsizetype(rect.y) * stride + qsizetype(rect.x) * PlanetMesh::kLookBytesPerCell;
    Q_ASSERT(start + (rect.height - 1) * stride + rowBytes <= m_looks.size());
    QByteArray bytes;
    if (start == 0 && rowBytes * rect.height == m_looks.size()) {
        bytes = m_looks; // shared until the next change, by when Qt3D has uploaded it
    } else if (rect.height == 1 || rect.width == PlanetMesh::kLookTextureWidth) {
        // Contiguous in m_looks.
        bytes = m_looks.mid(start, rowBytes * rect.height);
    } else {
        bytes.resize(rowBytes * rect.height);
        for (int row = 0; row < rect.height; ++row)
            std::memcpy(bytes.data() + row * rowBytes, m_looks.constData() + start + row * stride,
                        std::size_t(rowBytes));
    }
    const auto image = rgbaImage(QOpenGLTexture::Target2D, rect.width, rect.height, bytes);
    Qt3DRender::QTextureDataUpdate update;
    update.setX(rect.x);
    update.setY(rect.y);
    update.setData(image);
    m_lookTexture->updateData(update);
    m_uploadedBytes += quint64(bytes.size());
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
    m_looks = PlanetMesh::looks(*m_cells);
    if (m_hovered) {
        const geometry::CellId hovered = *m_hovered;
        PlanetMesh::writeCellLook(reinterpret_cast<std::uint8_t *>(m_looks.data())
                                      + PlanetMesh::lookOffset(hovered),
                                  shownLook(hovered));
    }
    const QSize size = PlanetMesh::lookTextureSize(m_sphere->cellCount());
    uploadLooks({0, 0, size.width(), size.height()});
    m_structures->rebuild(*m_sphere, *m_cells);
    qCDebug(lcRender).nospace() << "recoloured " << m_cells->cellCount() << " cells in "
                                << timer.elapsed() << " ms";
    return true;
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
    case QEvent::Show:
        // Qt3D creates its GL context when the window is first shown, from the default
        // surface format, which Qt3DWindow's constructor set to 4 samples; and under GLX
        // the context's samples, not the window's, decide. Without this, the samples
        // set on the window (the MSAA setting) would be ignored: a software rasteriser
        // would clear and resolve four samples a pixel every frame, MSAA off or not.
        QSurfaceFormat::setDefaultFormat(m_window->format());
        break;
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

    const int n = m_sphere ? m_sphere->subdivisions() : 16;
    const float cellArc = kCellArcTimesN / float(n);
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
    // The frame action runs before Qt3D draws the frame, in the same event: a queued
    // call runs once it is drawn.
    if (!m_afterFrame.empty() && !m_afterFrameQueued) {
        m_afterFrameQueued = true;
        QMetaObject::invokeMethod(this, &PlanetView::runWorkAfterFrame, Qt::QueuedConnection);
    }
}

void PlanetView::runAfterFrame(std::function<void()> work)
{
    m_afterFrame.push_back(std::move(work));
    if (!m_afterFrameLatest.isActive())
        m_afterFrameLatest.start(kAfterFrameLatestMs);
}

void PlanetView::runWorkAfterFrame()
{
    m_afterFrameQueued = false;
    m_afterFrameLatest.stop();
    // Taken out first: the work may give more, for the next frame.
    std::vector<std::function<void()>> work = std::exchange(m_afterFrame, {});
    for (std::function<void()> &w : work)
        w();
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
    m_lightDirection->setValue(lightFrom);
    m_farLightDirection->setValue(lightFrom);

    // World units per pixel at the nearest point of the surface.
    constexpr float kDegrees = std::numbers::pi_v<float> / 180.0f;
    const float altitude = std::max(position.length() - kPlanetRadius, 1e-4f);
    const float unitsPerPixel = 2.0f * altitude
                                * std::tan(m_orbit->fieldOfView() * 0.5f * kDegrees)
                                / float(std::max(viewportSize().height(), 1));
    // The cells' outlines fade out while cells shrink to a pixel or so (cellShading()).
    const float cellPixels = m_sphere ? kCellArcTimesN / float(m_sphere->subdivisions())
                                            * kPlanetRadius / unitsPerPixel
                                      : kShadedCellPixels;
    const float outline = std::clamp(
        (cellPixels - kFlatCellPixels) / (kShadedCellPixels - kFlatCellPixels), 0.0f, 1.0f);
    const float mean = (1.0f + 2.0f * PlanetMesh::kCornerShade) / 3.0f;
    const CellShading shading{mean + outline * (1.0f - mean),
                              mean + outline * (PlanetMesh::kCornerShade - mean)};
    if (shading.centre != m_cellShading.centre || shading.edge != m_cellShading.edge) {
        m_cellShading = shading;
        for (std::size_t i = 0; i < m_centreShade.size(); ++i) {
            m_centreShade[i]->setValue(shading.centre);
            m_edgeShade[i]->setValue(shading.edge);
        }
    }
    if (m_structures) {
        m_structures->setLightDirection(lightFrom);
        m_structures->setMinimumScale(kStructureMinimumPixels * unitsPerPixel);
    }
    m_far = position.length() >= farViewDistance();
    if (m_planet) {
        std::vector<IndexRange> farRanges;
        if (m_far)
            farRanges.push_back(IndexRange{0, m_farPlanet->indexCount});
        m_farPlanet->draw(farRanges);
        drawVisibleChunks();
    }

    // The globe turned under a still mouse: the cell under it changed.
    if (m_mouse)
        setHoveredCell(cellAtPixel(*m_mouse));
}

float PlanetView::farViewDistance() const
{
    // From afar the far planet draws the same looks with a few thousand triangles, as
    // long as a texel of its cell-id map covers at most kFarTexelPixels pixels at the
    // nearest point of the surface, where a pixel is 2·altitude·tan(fov/2)/height.
    constexpr float kDegrees = std::numbers::pi_v<float> / 180.0f;
    const float texel = kCellIdTexelRadians * kPlanetRadius;
    const float pixelPerAltitude = 2.0f * std::tan(m_orbit->fieldOfView() * 0.5f * kDegrees)
                                   / float(std::max(viewportSize().height(), 1));
    return kPlanetRadius + texel / (kFarTexelPixels * pixelPerAltitude);
}

std::uint64_t PlanetView::meshTriangles() const
{
    return m_planet ? m_planet->indexCount / 3 : 0;
}

void PlanetView::setCulling(bool culling)
{
    if (culling == m_culling)
        return;
    m_culling = culling;
    drawVisibleChunks();
}

void PlanetView::drawVisibleChunks()
{
    if (!m_planet)
        return;
    std::vector<IndexRange> ranges;
    if (m_far || !m_sphere) {
        // The far planet draws the globe.
    } else if (!m_culling) {
        ranges.push_back({0, m_planet->indexCount});
    } else {
        // The chunks that reach into the cap the camera sees, with a cell's width more:
        // the mesh's flat triangles lie inside the sphere, so their edge of the globe
        // is a little past the sphere's.
        const CameraPose pose = cameraPose();
        const double margin = double(kCellArcTimesN) / double(m_sphere->subdivisions());
        const double cap = visibleCapRadians(pose, viewportSize(), kPlanetRadius) + margin;
        const QVector3D towardsCamera = planetOrientation().conjugated().rotatedVector(pose.position);
        geometry::ChunkSet chunks = m_chunkCover->covered(
            geometry::Vec3{towardsCamera.x(), towardsCamera.y(), towardsCamera.z()}, cap);
        // Of those, the ones that reach into the view's rectangle: the cap is the circle
        // around it. A chunk lies in the ball around its centre through its farthest
        // corner (the chord of its radius), a cell more.
        const ViewFrustum frustum = viewFrustum(pose, viewportSize());
        const QQuaternion orientation = planetOrientation();
        for (geometry::ChunkId chunk = 0; chunk < chunks.size(); ++chunk) {
            if (!chunks[chunk])
                continue;
            const geometry::Vec3 c = m_chunkCover->centre(chunk);
            const double ball = 2.0 * std::sin(0.5 * (m_chunkCover->radius(chunk) + margin));
            if (!frustum.mayShow(orientation.rotatedVector(QVector3D(c.x, c.y, c.z)) * kPlanetRadius,
                                 float(ball) * kPlanetRadius))
                chunks[chunk] = false;
        }
        ranges = PlanetMesh::drawRanges(chunks, m_chunkIndexOffsets, kCullSmallGap, kMaxDrawParts);
    }
    m_drawnIndices = 0;
    for (const IndexRange &range : ranges)
        m_drawnIndices += range.count;
    m_planet->draw(ranges);
}

} // namespace hex::client
