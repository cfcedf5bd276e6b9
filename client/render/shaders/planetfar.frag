#version 150 core
// Each fragment reads the id of the cell in its direction and how near that cell's
// centre it lies from the cell-id map (an octahedral projection of the sphere, see
// PlanetMesh::cellIdMap()), then the cell's look from the look texture: the same
// colours, shading towards the edges and lighting as planet.frag.

in vec3 direction;
in vec3 worldNormal;

out vec4 fragColor;

uniform sampler2D cellIds;
uniform int cellIdMapSize;
uniform sampler2D cellLooks;
uniform int lookRowShift; // log2 of the look texture's width
uniform float cornerShade;
uniform vec3 lightDirection; // towards the light, need not be unit
uniform float lightIntensity;

void main()
{
    // PlanetMesh::octahedralTexel(): fold the lower hemisphere onto the corners.
    vec3 d = direction / (abs(direction.x) + abs(direction.y) + abs(direction.z));
    vec2 uv = d.xy;
    if (d.z < 0.0) {
        vec2 away = vec2(d.x >= 0.0 ? 1.0 : -1.0, d.y >= 0.0 ? 1.0 : -1.0);
        uv = (1.0 - abs(d.yx)) * away;
    }
    ivec2 at = clamp(ivec2((uv * 0.5 + 0.5) * float(cellIdMapSize)), ivec2(0),
                     ivec2(cellIdMapSize - 1));
    ivec4 texel = ivec4(texelFetch(cellIds, at, 0) * 255.0 + 0.5);
    int id = texel.r | (texel.g << 8) | (texel.b << 16);
    // Rows of 2^lookRowShift texels: shifts, as integer division costs a software
    // rasteriser dearly.
    ivec2 look = ivec2(id & ((1 << lookRowShift) - 1), id >> lookRowShift);
    vec3 c = texelFetch(cellLooks, look, 0).rgb * mix(cornerShade, 1.0, float(texel.a) / 255.0);
    float diffuse = max(dot(normalize(worldNormal), normalize(lightDirection)), 0.0);
    fragColor = vec4((c + lightIntensity * diffuse) * c, 1.0);
}
