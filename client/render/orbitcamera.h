#pragma once

#include <QObject>
#include <QPointF>
#include <QVector3D>

namespace hex::client {

/// A camera that circles the planet (centred at the origin, radius planetRadius())
/// and always looks at its centre. Its pose is yaw (around +Y, radians, 0 looks from
/// +Z), pitch (up from the equator, radians, clamped to ±kMaxPitch) and distance
/// from the centre (clamped to the limits).
///
/// Zooming is smooth: zoomBy() moves a target distance, and advance() glides the
/// distance towards it, evenly in log(altitude). Install it as an event filter on the
/// 3D window to drive it by mouse and keyboard: left-drag rotates, the wheel and +/-
/// zoom, arrow keys and WASD rotate while held. Pure maths otherwise: it touches no
/// Qt3D object; listen to changed() and copy position() to the real camera.
/// Lives in the GUI thread.
class OrbitCamera : public QObject
{
    Q_OBJECT
public:
    /// The steepest pitch, just short of the poles so that "up" stays defined.
    static constexpr float kMaxPitch = 1.4835298f; // 85°
    /// Each wheel notch or +/- press multiplies the target altitude by this.
    static constexpr float kZoomStepFactor = 0.8f;

    explicit OrbitCamera(QObject *parent = nullptr);

    float planetRadius() const { return m_radius; }
    /// Sets the radius of the planet the camera orbits; > 0. Keeps the limits above it.
    void setPlanetRadius(float radius);

    float yaw() const { return m_yaw; }
    /// Sets the yaw, wrapped to (-π, π].
    void setYaw(float radians);
    float pitch() const { return m_pitch; }
    /// Sets the pitch, clamped to [-kMaxPitch, kMaxPitch].
    void setPitch(float radians);

    /// The current distance from the planet's centre.
    float distance() const { return m_distance; }
    /// Where the distance is gliding to.
    float targetDistance() const { return m_targetDistance; }
    /// Jumps to `distance`, clamped to the limits, and stops any glide.
    void setDistance(float distance);
    float minimumDistance() const { return m_minDistance; }
    float maximumDistance() const { return m_maxDistance; }
    /// The closest and farthest the camera may be from the centre. Both are raised
    /// above the planet's surface if needed; the current and target distances are
    /// clamped into the new range.
    void setDistanceLimits(float minimum, float maximum);

    /// Vertical field of view in degrees, used to scale drag and key speeds.
    float fieldOfView() const { return m_fieldOfView; }
    void setFieldOfView(float degrees);
    /// Height of the view in pixels, used to make a drag follow the mouse.
    void setViewportHeight(int pixels);

    /// Moves the target distance by `steps` zoom steps: positive comes closer.
    void zoomBy(float steps);
    /// Rotates as a drag of `pixels` would: the surface under the mouse follows it.
    void dragBy(QPointF pixels);
    /// Lets `seconds` of time pass: glides the zoom and applies held keys.
    void advance(float seconds);

    /// The camera's position in world space: distance() from the origin.
    QVector3D position() const;
    /// A unit vector that is "up" on the screen.
    QVector3D upVector() const;
    /// Near and far clip planes that keep the visible planet in range at this distance.
    float nearPlane() const;
    float farPlane() const;

    bool eventFilter(QObject *watched, QEvent *event) override;

    /// The keys that turn and zoom the camera, besides the arrow keys (always on).
    struct Keys
    {
        int left = Qt::Key_A;
        int right = Qt::Key_D;
        int up = Qt::Key_W;
        int down = Qt::Key_S;
        int zoomIn = Qt::Key_Plus;
        int zoomOut = Qt::Key_Minus;
    };
    /// Rebinds the camera keys (from the player's settings).
    void setKeys(const Keys &keys) { m_keys = keys; }
    const Keys &keys() const { return m_keys; }

signals:
    /// The pose changed; read position() and upVector().
    void changed();

private:
    enum HeldKey : unsigned { Left = 1, Right = 2, Up = 4, Down = 8 };

    float altitude() const { return m_distance - m_radius; }
    /// Radians of rotation per pixel of drag at the current altitude.
    float radiansPerPixel() const;
    void clampDistances();

    float m_radius = 1.0f;
    float m_yaw = 0.0f;
    float m_pitch = 0.0f;
    float m_distance = 3.0f;
    float m_targetDistance = 3.0f;
    float m_minDistance = 1.05f;
    float m_maxDistance = 3.0f;
    float m_fieldOfView = 45.0f;
    int m_viewportHeight = 600;
    unsigned m_heldKeys = 0;
    Keys m_keys;
    bool m_dragging = false;
    QPointF m_lastMouse;
};

} // namespace hex::client
