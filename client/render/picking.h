#pragma once

#include "geometry/hexsphere.h"

#include <QPointF>
#include <QQuaternion>
#include <QSize>
#include <QVector3D>

#include <array>
#include <optional>

namespace hex::client {

/// Where a perspective camera stands and looks: enough to turn a pixel into a ray.
struct CameraPose
{
    /// The camera's position in scene coordinates.
    QVector3D position;
    /// The point the camera looks at; must differ from `position`.
    QVector3D viewCentre;
    /// "Up" on the screen; need not be normalised, must not be parallel to the view.
    QVector3D up;
    /// Vertical field of view in degrees, as Qt3DRender::QCamera takes it.
    float fieldOfView = 45.0f;
};

/// The scene-space direction of the ray from the camera through `pixel` (window
/// coordinates, origin at the top left, y down) of a view of `viewport` pixels, with
/// the aspect ratio taken from `viewport` as Qt3D does. Normalised.
QVector3D pickRay(const CameraPose &pose, QSize viewport, QPointF pixel);

/// The pixel (window coordinates, as pickRay() takes them) where `point` (scene
/// coordinates) appears, or nullopt when it is behind the camera. The inverse of
/// pickRay(): pickRay(pose, viewport, *projectPoint(pose, viewport, p)) points at p.
std::optional<QPointF> projectPoint(const CameraPose &pose, QSize viewport, const QVector3D &point);

/// Where that ray first meets the sphere of `radius` around the scene origin, or
/// nullopt when it misses.
std::optional<QVector3D> pickSphere(const CameraPose &pose, QSize viewport, QPointF pixel,
                                    float radius = 1.0f);

/// The sides of what a camera sees: four planes through its position, each with its
/// normal pointing into the view (the near and far planes are left out).
struct ViewFrustum
{
    QVector3D apex;
    std::array<QVector3D, 4> inward;

    /// False when the ball of `radius` around `centre` lies wholly outside a side: none
    /// of it can be on screen. True otherwise (it may be).
    bool mayShow(const QVector3D &centre, float radius) const
    {
        for (const QVector3D &normal : inward) {
            if (QVector3D::dotProduct(normal, centre - apex) < -radius)
                return false;
        }
        return true;
    }
};

/// The sides of the view of `pose` in a viewport of `viewport` pixels: the planes
/// through the camera and the rays of pickRay() through the view's corners.
ViewFrustum viewFrustum(const CameraPose &pose, QSize viewport);

/// How much of the sphere of `radius` around the scene origin a camera that looks at
/// that origin (pose.viewCentre must be it) can see in a view of `viewport` pixels: the
/// angle, from the origin, between the point under the camera and the farthest point
/// of the sphere any pixel shows. That is where the rays through the view's corners
/// meet the sphere, or the horizon when they pass it by. Every point of the sphere on
/// screen lies within this angle of position's direction. π when the camera is
/// inside the sphere.
double visibleCapRadians(const CameraPose &pose, QSize viewport, float radius = 1.0f);

/// The cell of `sphere` under `pixel`: the ray is intersected with the unit sphere,
/// the hit is turned back from scene to world coordinates by the inverse of
/// `orientation` (the planet's rotation in the scene), and HexSphere::cellAt() finds the
/// cell in O(1). Nullopt when the pixel is off the globe or the viewport is empty.
std::optional<geometry::CellId> pickCell(const geometry::HexSphere &sphere,
                                         const QQuaternion &orientation, const CameraPose &pose,
                                         QSize viewport, QPointF pixel);

} // namespace hex::client
