#include "orbitcamera.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace hex::client {

namespace {

constexpr float kPi = std::numbers::pi_v<float>;
/// How fast the distance glides towards its target: 1/e of the gap is left after
/// 1/kZoomRate seconds.
constexpr float kZoomRate = 10.0f;
/// Held arrow keys turn the view by this many view heights per second.
constexpr float kKeyViewsPerSecond = 0.6f;
/// Smallest altitude the camera may have, as a fraction of the radius, whatever the
/// limits say: the near plane needs room.
constexpr float kMinAltitude = 1e-4f;

} // namespace

OrbitCamera::OrbitCamera(QObject *parent)
    : QObject(parent)
{}

void OrbitCamera::setPlanetRadius(float radius)
{
    if (!(radius > 0.0f))
        return;
    m_radius = radius;
    clampDistances();
    emit changed();
}

void OrbitCamera::setYaw(float radians)
{
    if (!std::isfinite(radians))
        return;
    float wrapped = std::remainder(radians, 2.0f * kPi); // [-π, π]
    if (wrapped <= -kPi)
        wrapped += 2.0f * kPi;
    if (wrapped == m_yaw)
        return;
    m_yaw = wrapped;
    emit changed();
}

void OrbitCamera::setPitch(float radians)
{
    if (!std::isfinite(radians))
        return;
    const float clamped = std::clamp(radians, -kMaxPitch, kMaxPitch);
    if (clamped == m_pitch)
        return;
    m_pitch = clamped;
    emit changed();
}

void OrbitCamera::setDistance(float distance)
{
    if (!std::isfinite(distance))
        return;
    m_distance = std::clamp(distance, m_minDistance, m_maxDistance);
    m_targetDistance = m_distance;
    emit changed();
}

void OrbitCamera::setDistanceLimits(float minimum, float maximum)
{
    if (!std::isfinite(minimum) || !std::isfinite(maximum))
        return;
    m_minDistance = minimum;
    m_maxDistance = maximum;
    clampDistances();
    emit changed();
}

void OrbitCamera::clampDistances()
{
    const float floor = m_radius * (1.0f + kMinAltitude);
    m_minDistance = std::max(m_minDistance, floor);
    m_maxDistance = std::max(m_maxDistance, m_minDistance);
    m_distance = std::clamp(m_distance, m_minDistance, m_maxDistance);
    m_targetDistance = std::clamp(m_targetDistance, m_minDistance, m_maxDistance);
}

void OrbitCamera::setFieldOfView(float degrees)
{
    if (degrees > 1.0f && degrees < 179.0f)
        m_fieldOfView = degrees;
}

void OrbitCamera::setViewportHeight(int pixels)
{
    m_viewportHeight = std::max(pixels, 1);
}

void OrbitCamera::zoomBy(float steps)
{
    if (!std::isfinite(steps) || steps == 0.0f)
        return;
    const float targetAltitude = (m_targetDistance - m_radius) * std::pow(kZoomStepFactor, steps);
    m_targetDistance = std::clamp(m_radius + targetAltitude, m_minDistance, m_maxDistance);
}

float OrbitCamera::radiansPerPixel() const
{
    // Near the surface one pixel spans 2·h·tan(fov/2)/height of ground; far away the
    // whole disc must still turn by about half a turn across the view, so do not let
    // the rate grow beyond that.
    const float halfFov = m_fieldOfView * kPi / 360.0f;
    const float viewHeight = 2.0f * std::min(altitude(), m_radius) * std::tan(halfFov);
    return viewHeight / (m_radius * float(m_viewportHeight));
}

void OrbitCamera::dragBy(QPointF pixels)
{
    const float rate = radiansPerPixel();
    setYaw(m_yaw - float(pixels.x()) * rate);
    setPitch(m_pitch + float(pixels.y()) * rate);
}

void OrbitCamera::advance(float seconds)
{
    if (!(seconds > 0.0f))
        return;
    seconds = std::min(seconds, 0.25f); // A stall must not fling the camera.

    if (m_heldKeys != 0) {
        const float pixels = kKeyViewsPerSecond * float(m_viewportHeight) * seconds;
        const float rate = radiansPerPixel() * pixels;
        const float dx = float(bool(m_heldKeys & Right)) - float(bool(m_heldKeys & Left));
        const float dy = float(bool(m_heldKeys & Up)) - float(bool(m_heldKeys & Down));
        setYaw(m_yaw + dx * rate);
        setPitch(m_pitch + dy * rate);
    }

    if (m_distance != m_targetDistance) {
        const float from = std::log(altitude());
        const float to = std::log(m_targetDistance - m_radius);
        const float blend = 1.0f - std::exp(-kZoomRate * seconds);
        float next = m_radius + std::exp(from + (to - from) * blend);
        if (std::abs(next - m_targetDistance) < 1e-4f * (m_targetDistance - m_radius))
            next = m_targetDistance;
        m_distance = std::clamp(next, m_minDistance, m_maxDistance);
        emit changed();
    }
}

QVector3D OrbitCamera::position() const
{
    const float c = std::cos(m_pitch);
    return m_distance * QVector3D(c * std::sin(m_yaw), std::sin(m_pitch), c * std::cos(m_yaw));
}

QVector3D OrbitCamera::upVector() const
{
    // The derivative of position() by pitch: tangent, pointing north.
    const float s = std::sin(m_pitch);
    return QVector3D(-s * std::sin(m_yaw), std::cos(m_pitch), -s * std::cos(m_yaw));
}

float OrbitCamera::nearPlane() const
{
    return std::max(altitude() * 0.5f, m_radius * 1e-5f);
}

float OrbitCamera::farPlane() const
{
    // The farthest visible point is on the horizon, sqrt(d² - r²) away.
    return std::sqrt(m_distance * m_distance - m_radius * m_radius) + m_radius * 0.1f;
}

bool OrbitCamera::eventFilter(QObject *watched, QEvent *event)
{
    switch (event->type()) {
    case QEvent::MouseButtonPress: {
        auto *mouse = static_cast<QMouseEvent *>(event);
        if (mouse->button() == Qt::LeftButton) {
            m_dragging = true;
            m_lastMouse = mouse->position();
            return true;
        }
        break;
    }
    case QEvent::MouseMove: {
        auto *mouse = static_cast<QMouseEvent *>(event);
        if (m_dragging && (mouse->buttons() & Qt::LeftButton)) {
            dragBy(mouse->position() - m_lastMouse);
            m_lastMouse = mouse->position();
            return true;
        }
        break;
    }
    case QEvent::MouseButtonRelease:
        if (static_cast<QMouseEvent *>(event)->button() == Qt::LeftButton && m_dragging) {
            m_dragging = false;
            return true;
        }
        break;
    case QEvent::Wheel: {
        auto *wheel = static_cast<QWheelEvent *>(event);
        zoomBy(float(wheel->angleDelta().y()) / 120.0f);
        return true;
    }
    case QEvent::KeyPress:
    case QEvent::KeyRelease: {
        auto *key = static_cast<QKeyEvent *>(event);
        const bool press = event->type() == QEvent::KeyPress;
        unsigned held = 0;
        const int code = key->key();
        if (code == Qt::Key_Left || code == m_keys.left) {
            held = Left;
        } else if (code == Qt::Key_Right || code == m_keys.right) {
            held = Right;
        } else if (code == Qt::Key_Up || code == m_keys.up) {
            held = Up;
        } else if (code == Qt::Key_Down || code == m_keys.down) {
            held = Down;
        } else if (code == m_keys.zoomIn || (m_keys.zoomIn == Qt::Key_Plus && code == Qt::Key_Equal)) {
            // '=' is '+' without Shift on most layouts.
            if (press)
                zoomBy(1.0f);
            return true;
        } else if (code == m_keys.zoomOut
                   || (m_keys.zoomOut == Qt::Key_Minus && code == Qt::Key_Underscore)) {
            if (press)
                zoomBy(-1.0f);
            return true;
        } else {
            return false;
        }
        if (key->isAutoRepeat())
            return true;
        m_heldKeys = press ? (m_heldKeys | held) : (m_heldKeys & ~held);
        return true;
    }
    case QEvent::FocusOut:
        m_heldKeys = 0;
        m_dragging = false;
        break;
    default:
        break;
    }
    return QObject::eventFilter(watched, event);
}

} // namespace hex::client
