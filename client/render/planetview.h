#pragma once

#include "net/actionpredictor.h"

#include "geometry/hexsphere.h"
#include "sim/terrain.h"

#include <QByteArray>
#include <QQuaternion>
#include <QTimer>
#include <QWidget>

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace Qt3DCore {
class QAttribute;
class QBuffer;
class QEntity;
class QGeometry;
} // namespace Qt3DCore
namespace Qt3DRender {
class QDirectionalLight;
class QGeometryRenderer;
class QParameter;
class QTexture2D;
class QRenderCapture;
class QRenderCaptureReply;
} // namespace Qt3DRender
namespace Qt3DExtras {
class Qt3DWindow;
}

namespace hex::protocol {
struct VisibleCells;
}
namespace hex::geometry {
class ChunkCover;
}

namespace hex::client {

class OrbitCamera;
class PlanetMesh;
struct TexelRect;
class StructureLayer;
struct CameraPose;

/// The 3D view of the planet: a Qt3DWindow embedded as a widget, holding the planet as
/// one mesh (see PlanetMesh) lit from over the viewer's shoulder, and an OrbitCamera
/// driven by mouse and keyboard. Structures stand on their cells as instanced meshes
/// (StructureLayer). The mesh is built once per world and never touched again: what
/// each cell looks like is one texel of a look texture that the planet's shader reads
/// by cell id, and changed cells are re-uploaded as a few texture rectangles
/// (updateCells()). From afar a coarse sphere draws the same looks (isFarView()); close
/// up the mesh draws only its chunks the camera can see (setCulling()). The planet is
/// drawn by the OpenGL renderer's technique (GLSL 1.50 core); under the RHI renderer it
/// is not drawn. Lives in the GUI thread.
class PlanetView : public QWidget
{
    Q_OBJECT
public:
    explicit PlanetView(QWidget *parent = nullptr);
    ~PlanetView() override;

    /// Shows the planet `sphere` coloured from `cells` (see cellColour()), replacing any
    /// planet shown before. `cells` must describe every cell of `sphere`. The view keeps
    /// the pointer, not a copy: updateCells() and refreshAll() read it. The mirror's
    /// owner (the ServerConnection) must keep it alive until the next showPlanet() or
    /// the view's destruction; it may change the mirror's contents at any time, and
    /// may even resize it for another world: until it matches the sphere again (or
    /// showPlanet() is called again), the view leaves the colours shown as they are.
    /// Builds the mesh and the far planet's cell-id map on the calling thread: under a
    /// second for n=128, most of it the map (2048² HexSphere::cellAt()).
    void showPlanet(std::shared_ptr<const geometry::HexSphere> sphere,
                    const protocol::VisibleCells *cells);
    /// True once showPlanet() was called.
    bool hasPlanet() const { return bool(m_sphere); }
    /// The sphere shown, or null.
    const geometry::HexSphere *sphere() const { return m_sphere.get(); }
    /// The mirror the colours come from, or null before showPlanet().
    const protocol::VisibleCells *cells() const { return m_cells; }

    /// Recomputes the looks of `cells` (any order, duplicates allowed; ids past the
    /// end are ignored) from the mirror and re-uploads them: the changed ids are joined
    /// into at most kMaxUploadRanges ranges (across gaps, smallest first; the unchanged
    /// cells in a gap go up again as they are), each uploaded as one texture rectangle:
    /// its part of one row, or the whole rows it spans. Returns the number of
    /// rectangles uploaded; 0 when no planet is shown or the mirror no longer matches
    /// the sphere.
    int updateCells(std::span<const geometry::CellId> cells);
    /// The most ranges updateCells() uploads at once.
    static constexpr std::size_t kMaxUploadRanges = 8;
    /// Gaps of at most this many unchanged cells are always uploaded along (a few KiB
    /// cost less than one more texture update).
    static constexpr std::uint32_t kSmallGap = 1024;
    /// What the player's pending actions make a cell look like (see ActionPredictor), or
    /// nullopt for the mirror's look.
    using ProvisionalLook = std::function<std::optional<ProvisionalCell>(geometry::CellId)>;
    /// Cells with a provisional look are drawn with it, paled towards white so that the
    /// player sees it is not settled yet. Takes effect for the cells updated next.
    void setProvisionalLook(ProvisionalLook look) { m_provisional = std::move(look); }
    /// Where other players' cursors are to be drawn this frame: unit-sphere positions,
    /// already interpolated (see RenderClock and CursorTracks). Asked once a frame.
    using CursorSource = std::function<std::vector<std::pair<sim::PlayerId, geometry::Vec3>>()>;
    void setCursorSource(CursorSource source) { m_cursorSource = std::move(source); }
    /// Moves the cursor markers to where the cursor source says; every frame does.
    void drawCursors();
    /// The cursors drawn in the last frame, by player: their scene positions. For tests.
    const std::map<sim::PlayerId, QVector3D> &drawnCursors() const { return m_drawnCursors; }

    /// The key that rotates the structure under the mouse (R until rebound).
    void setRotateKey(int key) { m_rotateKey = key; }
    /// The pixel (3D window coordinates) at the centre of `cell`, or nullopt when no
    /// planet is shown or the cell is on the far side of the globe.
    std::optional<QPointF> pixelOfCell(geometry::CellId cell) const;

    /// Recomputes and re-uploads the colour of every cell from the mirror, e.g. after a
    /// new snapshot replaced it. Returns false, changing nothing, when no planet is
    /// shown or the mirror no longer matches the sphere.
    bool refreshAll();

    /// The rotation from world coordinates (HexSphere, worldgen: north is +Z) to scene
    /// coordinates (north is +Y, up on screen at zero pitch).
    static QQuaternion planetOrientation();

    /// The look texture's texels as last uploaded (empty before any planet):
    /// PlanetMesh::kLookBytesPerCell bytes per cell, cell c at
    /// PlanetMesh::lookOffset(c), padded to the whole texture. For tests and tools.
    const QByteArray &lookData() const { return m_looks; }

    /// Bytes handed to Qt3D for upload to the GPU since the view was made: the planet's
    /// buffers and textures as set or updated. For benchmarks.
    quint64 uploadedBytes() const { return m_uploadedBytes; }
    /// Bytes the planet's buffers and textures hold (0 before any planet).
    quint64 gpuBytes() const { return m_gpuBytes; }

    /// The scene's root entity: layers drawn with the planet (see MachineLayer) hang
    /// under it.
    Qt3DCore::QEntity *sceneRoot() const { return m_root; }

    /// True while the camera is so far that the planet is drawn as a coarse sphere that
    /// looks its cells up per pixel in a cell-id map, false while it is drawn as
    /// the mesh of every cell. Both read the same look texture.
    bool isFarView() const { return m_far; }
    /// The camera distance (planet radii, from the centre) from which the far planet is
    /// drawn, for this view's height: the mesh is drawn closer in.
    float farViewDistance() const;

    /// How the cells are shaded now: the factor at a cell's centre and at its edges.
    /// Cells a few pixels wide and more are shaded from 1 to PlanetMesh::kCornerShade so
    /// that their outlines read. Narrower, the outlines would only beat against the
    /// pixels in moiré patterns: between kShadedCellPixels and kFlatCellPixels wide (at
    /// the nearest point of the surface) both factors move to the cell's mean shade,
    /// (1 + 2·kCornerShade)/3, so the globe keeps its brightness.
    struct CellShading
    {
        float centre = 1.0f;
        float edge = 1.0f;
    };
    CellShading cellShading() const { return m_cellShading; }
    static constexpr float kShadedCellPixels = 3.0f;
    static constexpr float kFlatCellPixels = 1.5f;

    /// The most draw calls the cell mesh is split into: one a run of chunks in view.
    static constexpr std::size_t kMaxDrawParts = 16;
    /// Runs of chunks in view no more than this many chunks apart are drawn as one,
    /// the chunks between them too.
    static constexpr std::uint32_t kCullSmallGap = 2;
    /// While the cell mesh is drawn, only the chunks the camera can see are: those
    /// reaching into the cap of visibleCapRadians() (and a cell more) around the point
    /// under the camera, as at most kMaxDrawParts runs of the mesh's indices. On by
    /// default; off draws the whole mesh (for tests and comparisons).
    void setCulling(bool culling);
    bool culling() const { return m_culling; }
    /// Triangles of the cell mesh drawn now: 0 while the far planet is drawn.
    std::uint64_t drawnTriangles() const { return m_drawnIndices / 3; }
    /// Triangles of the whole cell mesh.
    std::uint64_t meshTriangles() const;

    /// The structures drawn on the planet, or null before showPlanet(). Kept up to date
    /// by showPlanet(), updateCells() and refreshAll().
    StructureLayer *structureLayer() const { return m_structures.get(); }

    /// The camera controller; its pose is copied to the Qt3D camera on every change.
    OrbitCamera *orbitCamera() const { return m_orbit; }
    /// The native 3D window inside this widget.
    Qt3DExtras::Qt3DWindow *window3D() const { return m_window; }
    /// Frames rendered since showPlanet() was last called (0 before any planet).
    quint64 framesSincePlanet() const { return m_framesSincePlanet; }

    /// Runs `work` in the GUI thread right after the next frame is rendered: Qt3D draws
    /// in the GUI thread, so work that comes at any moment (a server's tick: its parsing,
    /// the mirror, the looks) delays the next frame when it lands just before it is due,
    /// and almost never when it runs just after one is done. Runs it anyway
    /// kAfterFrameLatestMs after it was given when no frame comes (a hidden window, a
    /// stalled renderer). Work runs in the order given; work given while work runs
    /// waits for the next frame.
    void runAfterFrame(std::function<void()> work);
    /// The longest runAfterFrame() waits for a frame.
    static constexpr int kAfterFrameLatestMs = 50;
    /// Work given to runAfterFrame() and not run yet.
    std::size_t workAfterFrame() const { return m_afterFrame.size(); }
    /// Asks Qt3D for the next rendered frame as an image; the reply emits completed().
    /// The caller owns the reply.
    Qt3DRender::QRenderCaptureReply *requestCapture();

    /// The Qt3D camera's pose, as OrbitCamera sets it.
    CameraPose cameraPose() const;
    /// The size of the 3D window in pixels: the space mouse positions live in.
    QSize viewportSize() const;
    /// The cell under `pixel` (3D window coordinates), or nullopt when the pixel is off
    /// the globe or no planet is shown. See pickCell().
    std::optional<geometry::CellId> cellAtPixel(QPointF pixel) const;

    /// The cell drawn highlighted under the mouse, or nullopt.
    std::optional<geometry::CellId> hoveredCell() const { return m_hovered; }
    /// Highlights `cell` (drawn brighter) and restores the cell highlighted before;
    /// re-uploads just those two cells. Emits hoveredCellChanged() when it changes.
    void setHoveredCell(std::optional<geometry::CellId> cell);
    /// What a click at `pixel` (3D window coordinates) does: emits cellClicked() with
    /// the cell there, if any. The mouse calls it for a press and release without
    /// movement; tests may call it directly. Returns the cell clicked.
    std::optional<geometry::CellId> clickAt(QPointF pixel);

    bool eventFilter(QObject *watched, QEvent *event) override;

signals:
    /// One frame was rendered; `seconds` since the previous one.
    void frameRendered(float seconds);
    /// The highlighted cell changed; read hoveredCell().
    void hoveredCellChanged();
    /// The player clicked `cell` (a press and release without dragging).
    void cellClicked(hex::geometry::CellId cell);
    /// The player pressed R with the mouse over `cell`.
    void rotateRequested(hex::geometry::CellId cell);
    /// The player pressed Escape in the view.
    void toolCancelled();

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void createPlanetEntity();
    void onFrame(float seconds);
    void runWorkAfterFrame();
    void applyCamera();
    void fitDistanceLimits();
    void hoverAt(QPointF pixel);

    Qt3DExtras::Qt3DWindow *m_window = nullptr;
    QWidget *m_container = nullptr;
    Qt3DCore::QEntity *m_root = nullptr;
    struct MeshEntities;
    /// The mesh of every cell (PlanetMesh), drawn in parts: the chunks in view.
    std::unique_ptr<MeshEntities> m_planet;
    /// Where each chunk's triangles start in the mesh's indices.
    std::vector<std::uint32_t> m_chunkIndexOffsets;
    /// The chunks' bounding caps, for culling.
    std::unique_ptr<geometry::ChunkCover> m_chunkCover;
    bool m_culling = true;
    std::uint64_t m_drawnIndices = 0;
    /// Draws the parts of the mesh in view (see setCulling()), or none from afar.
    void drawVisibleChunks();
    /// One RGBA8 texel per cell: see PlanetMesh.
    Qt3DRender::QTexture2D *m_lookTexture = nullptr;
    /// Towards the light, scene coordinates: the planet shaders'.
    Qt3DRender::QParameter *m_lightDirection = nullptr;
    Qt3DRender::QParameter *m_farLightDirection = nullptr;
    /// cellShading()'s factors, one parameter per material.
    CellShading m_cellShading;
    std::array<Qt3DRender::QParameter *, 2> m_centreShade{};
    std::array<Qt3DRender::QParameter *, 2> m_edgeShade{};
    /// The planet from afar: a coarse sphere whose fragments find their cell in
    /// m_cellIdTexture (see PlanetMesh::cellIdMap()) and its look in m_lookTexture.
    std::unique_ptr<MeshEntities> m_farPlanet;
    Qt3DRender::QTexture2D *m_cellIdTexture = nullptr;
    quint64 m_farMeshBytes = 0;
    /// True while the far planet is drawn instead of the mesh.
    bool m_far = false;
    Qt3DRender::QDirectionalLight *m_light = nullptr;
    Qt3DRender::QRenderCapture *m_capture = nullptr;
    OrbitCamera *m_orbit = nullptr;
    std::unique_ptr<StructureLayer> m_structures;
    /// Seconds of frames since the view was made: drives the conveyors' stripes.
    double m_animationSeconds = 0.0;
    /// runAfterFrame()'s work, in order; the timer runs it when no frame comes.
    std::vector<std::function<void()>> m_afterFrame;
    QTimer m_afterFrameLatest;
    /// A call to runWorkAfterFrame() is queued behind the frame being rendered.
    bool m_afterFrameQueued = false;

    /// True when a planet is shown and the mirror still holds its cells.
    bool mirrorMatchesSphere() const;

    std::shared_ptr<const geometry::HexSphere> m_sphere;
    /// Not owned; see showPlanet().
    const protocol::VisibleCells *m_cells = nullptr;
    quint64 m_framesSincePlanet = 0;

    std::optional<geometry::CellId> m_hovered;

    ProvisionalLook m_provisional;

    /// Uploads the texels of `rect` of m_looks to the look texture.
    void uploadLooks(const TexelRect &rect);
    /// The look of `cell` as drawn: the mirror's, the provisional one paled, hovered
    /// brightened.
    sim::Rgb shownLook(geometry::CellId cell) const;

    /// The look texture's texels as uploaded: updated in place.
    QByteArray m_looks;
    quint64 m_gpuBytes = 0;

    CursorSource m_cursorSource;
    quint64 m_uploadedBytes = 0;

    /// One marker per player whose cursor is shown, hidden when it goes.

    std::map<sim::PlayerId, Qt3DCore::QEntity *> m_cursorMarkers;

    std::map<sim::PlayerId, QVector3D> m_drawnCursors;

    int m_rotateKey = Qt::Key_R;
    /// The last mouse position over the 3D window, if the mouse is there.
    std::optional<QPointF> m_mouse;
    /// Where the left button went down, while it is down.
    std::optional<QPointF> m_pressedAt;
    /// True when the mouse moved far enough since the press to make it a drag.
    bool m_dragged = false;
};

} // namespace hex::client
