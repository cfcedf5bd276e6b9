#pragma once

#include "geometry/hexsphere.h"
#include "net/machinetracks.h"

#include <QQuaternion>
#include <QVector3D>

#include <span>
#include <unordered_map>
#include <vector>

namespace Qt3DCore {
class QBuffer;
class QEntity;
} // namespace Qt3DCore
namespace Qt3DRender {
class QGeometryRenderer;
class QParameter;
} // namespace Qt3DRender

namespace hex::protocol {
struct VisibleCells;
}

namespace hex::client {

/// The moving parts of the machines, redrawn every frame: the items riding on belts,
/// as small boxes in each item's colour, and the progress of a working machine, as a
/// bar above it that fills up. All are instances of one box mesh (position, axes,
/// size and colour per instance), uploaded as one buffer per frame. Where the
/// motions come from (server states drawn in between) is MachineTracks' business.
///
/// Like StructureLayer it keeps only the OpenGL renderer's technique (GLSL 1.50 core).
/// Lives in the GUI thread.
class MachineLayer
{
public:
    /// Floats per instance: centre xyz, forward xyz, up xyz, size xyz (along forward,
    /// up, and the third axis), colour rgb.
    static constexpr int kInstanceFloats = 15;

    /// Builds the mesh and its (empty) entity under `parent`, turned by `orientation`
    /// as the planet is.
    MachineLayer(Qt3DCore::QEntity *parent, const QQuaternion &orientation);
    ~MachineLayer();
    MachineLayer(const MachineLayer &) = delete;
    MachineLayer &operator=(const MachineLayer &) = delete;

    /// Draws `motions` on the structures of `cells` (a mirror of every cell of
    /// `sphere`); a motion on a cell with no structure is left out. Returns the
    /// number of boxes drawn.
    int draw(const geometry::HexSphere &sphere, const protocol::VisibleCells &cells,
             std::span<const MachineMotion> motions);
    /// Draws nothing (a new world).
    void clear();

    /// Boxes drawn by the last draw().
    int instanceCount() const { return int(m_data.size() / kInstanceFloats); }
    /// The instance floats of the last draw(), kInstanceFloats per box.
    std::span<const float> instanceData() const { return m_data; }
    /// The colour an item is drawn in (linear 0..1): a hue of its own per item id.
    static QVector3D itemColour(sim::ItemId item);
    /// The direction the light comes from, in scene coordinates.
    void setLightDirection(const QVector3D &towardsLight);

private:
    void box(const QVector3D &centre, const QVector3D &forward, const QVector3D &up,
             const QVector3D &size, const QVector3D &colour);

    Qt3DCore::QEntity *m_entity = nullptr;
    Qt3DCore::QBuffer *m_instances = nullptr;
    Qt3DRender::QGeometryRenderer *m_renderer = nullptr;
    Qt3DRender::QParameter *m_light = nullptr;
    std::vector<float> m_data;
    /// What the instance buffer holds.
    std::vector<float> m_uploaded;
    /// Placements by cell, with the orientation they were made for.
    struct Placed
    {
        int orientation = -1;
        QVector3D position;
        QVector3D up;
        QVector3D forward;
        float scale = 0.0f;
    };
    std::unordered_map<geometry::CellId, Placed> m_placed;
};

} // namespace hex::client
