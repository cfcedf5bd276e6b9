#pragma once

#include "geometry/hexsphere.h"

#include <QByteArray>
#include <QQuaternion>
#include <QWidget>

#include <memory>
#include <span>

namespace Qt3DCore {
class QAttribute;
class QBuffer;
class QEntity;
class QGeometry;
} // namespace Qt3DCore
namespace Qt3DRender {
class QDirectionalLight;
class QGeometryRenderer;
class QRenderCapture;
class QRenderCaptureReply;
} // namespace Qt3DRender
namespace Qt3DExtras {
class Qt3DWindow;
}

namespace hex::client {

class OrbitCamera;
class PlanetMesh;

/// The 3D view of the planet: a Qt3DWindow embedded as a widget, holding the planet as
/// one mesh (see PlanetMesh) lit from over the viewer's shoulder, and an OrbitCamera
/// driven by mouse and keyboard. The per-cell colours live in their own buffer so that
/// changed cells can be re-uploaded alone (updateCells()). Lives in the GUI thread.
class PlanetView : public QWidget
{
    Q_OBJECT
public:
    explicit PlanetView(QWidget *parent = nullptr);
    ~PlanetView() override;

    /// Shows the planet `sphere` with every cell's terrain and elevation (one byte per
    /// cell each, cellCount() long), replacing any planet shown before. Builds the mesh
    /// on the calling thread: about a second for n=128.
    void showPlanet(std::shared_ptr<const geometry::HexSphere> sphere, QByteArray terrain,
                    QByteArray elevation);
    /// True once showPlanet() was called.
    bool hasPlanet() const { return bool(m_sphere); }
    /// The sphere shown, or null.
    const geometry::HexSphere *sphere() const { return m_sphere.get(); }

    /// Changes the stored state of one cell without uploading it: call updateCells()
    /// after a batch of changes. `cell` must be below the shown sphere's cellCount().
    void setCellState(geometry::CellId cell, std::uint8_t terrain, std::uint8_t elevation);
    /// Re-uploads the colours of `cells` (any order, duplicates allowed) from the stored
    /// state: consecutive ids are merged so that each run costs one
    /// Qt3DCore::QBuffer::updateData() call. Returns the number of runs uploaded.
    int updateCells(std::span<const geometry::CellId> cells);
    /// Stores a full new state, same size as the shown one, and uploads only the cells
    /// whose bytes differ. Returns the number of cells that changed.
    int applyState(const QByteArray &terrain, const QByteArray &elevation);

    /// The rotation from world coordinates (HexSphere, worldgen: north is +Z) to scene
    /// coordinates (north is +Y, up on screen at zero pitch).
    static QQuaternion planetOrientation();

    /// A copy of the per-vertex colour array as last set or updated (empty before any
    /// planet): PlanetMesh::kColourBytesPerCell bytes per cell. For tests and tools.
    QByteArray colourData() const;

    /// The camera controller; its pose is copied to the Qt3D camera on every change.
    OrbitCamera *orbitCamera() const { return m_orbit; }
    /// The native 3D window inside this widget.
    Qt3DExtras::Qt3DWindow *window3D() const { return m_window; }
    /// Frames rendered since showPlanet() was last called (0 before any planet).
    quint64 framesSincePlanet() const { return m_framesSincePlanet; }
    /// Asks Qt3D for the next rendered frame as an image; the reply emits completed().
    /// The caller owns the reply.
    Qt3DRender::QRenderCaptureReply *requestCapture();

signals:
    /// One frame was rendered; `seconds` since the previous one.
    void frameRendered(float seconds);

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void createPlanetEntity();
    void onFrame(float seconds);
    void applyCamera();
    void fitDistanceLimits();

    Qt3DExtras::Qt3DWindow *m_window = nullptr;
    QWidget *m_container = nullptr;
    Qt3DCore::QEntity *m_root = nullptr;
    Qt3DCore::QEntity *m_planet = nullptr;
    Qt3DCore::QGeometry *m_geometry = nullptr;
    Qt3DCore::QBuffer *m_vertexBuffer = nullptr;
    Qt3DCore::QBuffer *m_colourBuffer = nullptr;
    Qt3DCore::QBuffer *m_indexBuffer = nullptr;
    Qt3DCore::QAttribute *m_positionAttribute = nullptr;
    Qt3DCore::QAttribute *m_normalAttribute = nullptr;
    Qt3DCore::QAttribute *m_colourAttribute = nullptr;
    Qt3DCore::QAttribute *m_indexAttribute = nullptr;
    Qt3DRender::QGeometryRenderer *m_renderer = nullptr;
    Qt3DRender::QDirectionalLight *m_light = nullptr;
    Qt3DRender::QRenderCapture *m_capture = nullptr;
    OrbitCamera *m_orbit = nullptr;

    std::shared_ptr<const geometry::HexSphere> m_sphere;
    QByteArray m_terrain;
    QByteArray m_elevation;
    quint64 m_framesSincePlanet = 0;
};

} // namespace hex::client
