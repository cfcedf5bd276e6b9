#include "picking.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace hex::client {

QVector3D pickRay(const CameraPose &pose, QSize viewport, QPointF pixel)
{
    const float width = float(std::max(viewport.width(), 1));
    const float height = float(std::max(viewport.height(), 1));
    const QVector3D forward = (pose.viewCentre - pose.position).normalized();
    const QVector3D right = QVector3D::crossProduct(forward, pose.up).normalized();
    const QVector3D up = QVector3D::crossProduct(right, forward);

    const float halfHeight = std::tan(pose.fieldOfView * 0.5f * std::numbers::pi_v<float> / 180.0f);
    const float halfWidth = halfHeight * width / height;
    // Normalised device coordinates: -1..1 from left to right and bottom to top.
    const float x = 2.0f * float(pixel.x()) / width - 1.0f;
    const float y = 1.0f - 2.0f * float(pixel.y()) / height;
    return (forward + right * (x * halfWidth) + up * (y * halfHeight)).normalized();
}

std::optional<QPointF> projectPoint(const CameraPose &pose, QSize viewport, const QVector3D &point)
{
    const float width = float(std::max(viewport.width(), 1));
    const float height = float(std::max(viewport.height(), 1));
    const QVector3D forward = (pose.viewCentre - pose.position).normalized();
    const QVector3D right = QVector3D::crossProduct(forward, pose.up).normalized();
    const QVector3D up = QVector3D::crossProduct(right, forward);
    const QVector3D relative = point - pose.position;
    const float depth = QVector3D::dotProduct(relative, forward);
    if (depth <= 1e-6f)
        return std::nullopt;
    const float halfHeight = std::tan(pose.fieldOfView * 0.5f * std::numbers::pi_v<float> / 180.0f);
    const float halfWidth = halfHeight * width / height;
    const float x = QVector3D::dotProduct(relative, right) / (depth * halfWidth);
    const float y = QVector3D::dotProduct(relative, up) / (depth * halfHeight);
    return QPointF((x + 1.0f) * 0.5f * width, (1.0f - y) * 0.5f * height);
}

std::optional<QVector3D> pickSphere(const CameraPose &pose, QSize viewport, QPointF pixel,
                                    float radius)
{
    if (viewport.isEmpty())
        return std::nullopt;
    const QVector3D direction = pickRay(pose, viewport, pixel);
    // |o + t·d|² = r² with |d| = 1: t² + 2(o·d)t + (o·o - r²) = 0.
    const QVector3D origin = pose.position;
    const float b = QVector3D::dotProduct(origin, direction);
    const float c = QVector3D::dotProduct(origin, origin) - radius * radius;
    const float discriminant = b * b - c;
    if (discriminant < 0.0f)
        return std::nullopt;
    const float root = std::sqrt(discriminant);
    float t = -b - root;
    if (t < 0.0f)
        t = -b + root; // The camera is inside the sphere.
    if (t < 0.0f)
        return std::nullopt; // The sphere is behind the camera.
    return origin + direction * t;
}

ViewFrustum viewFrustum(const CameraPose &pose, QSize viewport)
{
    const QSizeF size(std::max(viewport.width(), 1), std::max(viewport.height(), 1));
    // The corners, going round: top left, top right, bottom right, bottom left.
    const std::array<QVector3D, 4> corner = {
        pickRay(pose, viewport, QPointF(0, 0)),
        pickRay(pose, viewport, QPointF(size.width(), 0)),
        pickRay(pose, viewport, QPointF(size.width(), size.height())),
        pickRay(pose, viewport, QPointF(0, size.height())),
    };
    const QVector3D forward = (pose.viewCentre - pose.position).normalized();
    ViewFrustum frustum{pose.position, {}};
    for (std::size_t i = 0; i < 4; ++i) {
        QVector3D normal = QVector3D::crossProduct(corner[i], corner[(i + 1) % 4]).normalized();
        if (QVector3D::dotProduct(normal, forward) < 0.0f)
            normal = -normal;
        frustum.inward[i] = normal;
    }
    return frustum;
}

double visibleCapRadians(const CameraPose &pose, QSize viewport, float radius)
{
    Q_ASSERT(pose.viewCentre.isNull());
    const double d = double(pose.position.length()) / double(radius);
    if (d <= 1.0)
        return std::numbers::pi;
    const double width = double(std::max(viewport.width(), 1));
    const double height = double(std::max(viewport.height(), 1));
    // The corners' rays are the farthest from the axis: tan of their angle is the
    // half-diagonal of the image plane at distance 1.
    const double halfHeight = std::tan(double(pose.fieldOfView) * 0.5 * std::numbers::pi / 180.0);
    const double halfDiagonal = halfHeight * std::hypot(1.0, width / height);
    const double alpha = std::atan(halfDiagonal);
    const double horizon = std::acos(1.0 / d);
    // A ray at angle alpha from the axis, from distance d, meets the unit sphere at
    // t² - 2td·cos(alpha) + d² - 1 = 0; the nearer root is the point seen.
    const double b = d * std::cos(alpha);
    const double discriminant = b * b - (d * d - 1.0);
    if (discriminant <= 0.0)
        return horizon;
    const double t = b - std::sqrt(discriminant);
    const double hit = std::atan2(t * std::sin(alpha), d - t * std::cos(alpha));
    return std::min(hit, horizon);
}

std::optional<geometry::CellId> pickCell(const geometry::HexSphere &sphere,
                                         const QQuaternion &orientation, const CameraPose &pose,
                                         QSize viewport, QPointF pixel)
{
    const std::optional<QVector3D> hit = pickSphere(pose, viewport, pixel);
    if (!hit)
        return std::nullopt;
    const QVector3D world = orientation.conjugated().rotatedVector(*hit);
    return sphere.cellAt(geometry::Vec3{world.x(), world.y(), world.z()});
}

} // namespace hex::client
