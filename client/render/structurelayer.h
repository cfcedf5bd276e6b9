#pragma once

#include "geometry/hexsphere.h"
#include "sim/content.h"

#include <QByteArray>
#include <QQuaternion>
#include <QVector3D>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace Qt3DCore {
class QBuffer;
class QEntity;
class QTransform;
} // namespace Qt3DCore
namespace Qt3DRender {
class QGeometryRenderer;
class QMaterial;
class QParameter;
} // namespace Qt3DRender

namespace hex::protocol {
struct VisibleCells;
}

namespace hex::client {

/// The look of a structure: one mesh each, drawn instanced.
enum class StructureShape : std::uint8_t {
    Generic,   ///< a plain block, for prototypes the client does not know
    Extractor, ///< a drill tower: a prism topped by a cone
    Conveyor,  ///< a flat belt with a raised chevron and moving stripes
    Furnace,   ///< a block with a chimney
    Assembler, ///< a wide block with a roof box
    Chest,     ///< a small box
    Splitter,  ///< a slab forking toward sides 1 and 5
    Inserter,  ///< a post with an arm reaching forward
    Seeder,    ///< a dome
    Scrubber,  ///< a cylinder with a collar
};
inline constexpr int kStructureShapeCount = 10;

/// One structure as drawn: where it stands and which way it faces, in world (HexSphere)
/// coordinates on a planet of radius 1.
struct StructurePlacement
{
    /// The cell centre lifted by StructureLayer::kLift × scale along the normal.
    QVector3D position;
    /// The cell's outward normal (unit).
    QVector3D up;
    /// Unit, perpendicular to `up`: towards the centre of the neighbour the structure
    /// faces (neighbour slot `orientation`, as sim's side 0).
    QVector3D forward;
    /// The cell's inner radius (centre to the middle of its edges), world units: a
    /// mesh of extent 1 fits the cell.
    float scale = 0.0f;
};

/// The structures of the planet, drawn as one instanced Qt3D mesh per StructureShape.
///
/// Each kind's instances live in one buffer of kInstanceFloats floats per structure,
/// read by per-instance attributes (divisor 1): position and scale, up, forward, the
/// prototype's colour and the owner's colour. The vertex shader builds the rotation
/// from up and forward, so moving or turning a structure is a rewrite of 64 bytes and
/// no mesh is ever rebuilt. A cell→instance map per structure makes removal a
/// swap-remove. Conveyors' belts carry stripes that move along their facing direction
/// with setTime(): the flow direction, not items (the protocol does not send machine
/// state yet; items will come with it).
///
/// The layer keeps only the OpenGL renderer's technique (GLSL 1.50 core); under the RHI
/// renderer structures are not drawn. Lives in the GUI thread.
class StructureLayer
{
public:
    /// Floats per instance in instanceData(): position xyz, scale, up xyz, forward xyz,
    /// colour rgb, owner colour rgb (linear 0..1).
    static constexpr int kInstanceFloats = 16;
    static constexpr int kInstanceStride = kInstanceFloats * int(sizeof(float));
    /// Height of a structure's base above the cell centre, in units of its scale.
    static constexpr float kLift = 0.02f;

    /// Builds the meshes and the (empty) entities under `parent`, which owns them. The
    /// layer is turned by `orientation`, as the planet is. `shapes[p]` is the shape of
    /// prototype p; prototypes past its end are drawn Generic.
    StructureLayer(Qt3DCore::QEntity *parent, const QQuaternion &orientation,
                   std::vector<StructureShape> shapes);
    ~StructureLayer();
    StructureLayer(const StructureLayer &) = delete;
    StructureLayer &operator=(const StructureLayer &) = delete;

    /// The shape of every prototype of `content`, indexed by prototype id: by machine
    /// kind, the "furnace" assembler as Furnace.
    static std::vector<StructureShape> shapesFor(const sim::Content &content);
    /// Where the structure on `cell` with `orientation` (0..5, taken modulo the number
    /// of neighbours) stands.
    static StructurePlacement placement(const geometry::HexSphere &sphere, geometry::CellId cell,
                                        int orientation);

    /// Drops every instance and rebuilds them from `cells`, which must describe every
    /// cell of `sphere`. Uploads every kind.
    void rebuild(const geometry::HexSphere &sphere, const protocol::VisibleCells &cells);
    /// Brings the instances of `changed` (any order, duplicates allowed, ids past the
    /// end ignored) up to date with `cells`: a cell whose structure, orientation and
    /// owner are as drawn costs nothing. Re-uploads each kind that changed, whole.
    /// Returns the number of kinds uploaded.
    int update(const geometry::HexSphere &sphere, const protocol::VisibleCells &cells,
               std::span<const geometry::CellId> changed);
    /// Removes every instance.
    void clear();

    /// Number of structures drawn with `shape`.
    int instanceCount(StructureShape shape) const;
    /// The instance floats of `shape` as last uploaded, kInstanceFloats per instance.
    std::span<const float> instanceData(StructureShape shape) const;
    /// The shape and instance index of the structure drawn on `cell`, if any.
    std::optional<std::pair<StructureShape, int>> instanceOf(geometry::CellId cell) const;
    /// The shape prototype `prototype` is drawn with.
    StructureShape shapeOf(std::uint16_t prototype) const;
    /// Number of vertices of `shape`'s mesh.
    int vertexCount(StructureShape shape) const;

    /// Seconds of animation time: moves the conveyor stripes. Wraps internally.
    void setTime(float seconds);
    /// The direction the light comes from, in scene coordinates (need not be unit).
    void setLightDirection(const QVector3D &towardsLight);
    /// The smallest scale a structure is drawn at (world units), so that from afar each
    /// stays a visible dot. 0 draws every structure at its cell's size.
    void setMinimumScale(float scale);
    /// Shows or hides every structure.
    void setVisible(bool visible);
    bool isVisible() const { return m_visible; }

private:
    struct Kind
    {
        Qt3DCore::QEntity *entity = nullptr;
        Qt3DCore::QBuffer *instanceBuffer = nullptr;
        Qt3DRender::QGeometryRenderer *renderer = nullptr;
        std::vector<float> data;
        std::vector<geometry::CellId> cells; ///< instance → cell
        int vertexCount = 0;
        bool dirty = false;
    };
    /// What is drawn on a cell.
    struct Drawn
    {
        StructureShape shape = StructureShape::Generic;
        std::uint32_t index = 0;
        std::uint16_t prototype = 0;
        std::uint8_t orientation = 0;
        std::uint16_t owner = 0;
    };

    void createKind(StructureShape shape, Qt3DRender::QMaterial *material);
    void add(const geometry::HexSphere &sphere, const protocol::VisibleCells &cells,
             geometry::CellId cell);
    void remove(geometry::CellId cell);
    void upload(Kind &kind);

    std::vector<StructureShape> m_shapes;
    Qt3DCore::QEntity *m_root = nullptr;
    std::array<Kind, kStructureShapeCount> m_kinds;
    std::unordered_map<geometry::CellId, Drawn> m_drawn;
    Qt3DRender::QParameter *m_time = nullptr;
    Qt3DRender::QParameter *m_light = nullptr;
    Qt3DRender::QParameter *m_minimumScale = nullptr;
    bool m_visible = true;
};

} // namespace hex::client
