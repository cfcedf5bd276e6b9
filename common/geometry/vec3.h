#pragma once

#include <cmath>

namespace hex::geometry {

/// A 3-vector of floats: positions and directions on or around the unit sphere.
struct Vec3
{
    float x = 0.0f;
    float y = 0.0f;
    float z = 0.0f;

    constexpr Vec3 operator+(const Vec3 &o) const { return {x + o.x, y + o.y, z + o.z}; }
    constexpr Vec3 operator-(const Vec3 &o) const { return {x - o.x, y - o.y, z - o.z}; }
    constexpr Vec3 operator*(float s) const { return {x * s, y * s, z * s}; }
    constexpr bool operator==(const Vec3 &) const = default;
};

constexpr float dot(const Vec3 &a, const Vec3 &b)
{
    return a.x * b.x + a.y * b.y + a.z * b.z;
}

constexpr Vec3 cross(const Vec3 &a, const Vec3 &b)
{
    return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}

inline float length(const Vec3 &v)
{
    return std::sqrt(dot(v, v));
}

/// `v` scaled to unit length. `v` must not be the zero vector.
inline Vec3 normalized(const Vec3 &v)
{
    return v * (1.0f / length(v));
}

} // namespace hex::geometry
