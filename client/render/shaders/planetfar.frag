#version 150 core
// Each fragment reads the id of the cell in its direction and how near that cell's
// centre it lies from the cell-id map (an octahedral projection of the sphere, see
// PlanetMesh::cellIdMap()), then the cell's look from the look texture: the same
// colours, shading towards the edges and lighting as planet.frag (the light's diffuse
// term comes from the vertices, see planetfar.vert).
//
// Kept to the fewest operations: a software rasteriser (llvmpipe) runs this for every
// pixel of the globe. No branch (both sides of a varying one are run anyway), no
// normalisation, integer texel coordinates only where the texture needs them.

in vec3 direction;
in float diffuse;

out vec4 fragColor;

uniform sampler2D cellIds;
uniform int cellIdMapSize;
uniform sampler2D cellLooks;
uniform int lookRowShift; // log2 of the look texture's width
uniform float centreShade; // the outline's shading: centre to edges (see
uniform float cornerShade; // PlanetView::cellShading())
uniform float lightIntensity;

void main()
{
    // PlanetMesh::octahedralTexel(): fold the lower hemisphere onto the corners.
    vec3 d = direction / (abs(direction.x) + abs(direction.y) + abs(direction.z));
    vec2 away = vec2(greaterThanEqual(d.xy, vec2(0.0))) * 2.0 - 1.0;
    vec2 uv = mix(d.xy, (1.0 - abs(d.yx)) * away, float(d.z < 0.0));
    // uv is in [-1, 1]: only the top edge needs clamping.
    ivec2 at = min(ivec2((uv * 0.5 + 0.5) * float(cellIdMapSize)), ivec2(cellIdMapSize - 1));
    vec4 texel = texelFetch(cellIds, at, 0);
    ivec3 bytes = ivec3(texel.rgb * 255.0 + 0.5);
    int id = bytes.r | (bytes.g << 8) | (bytes.b << 16);
    // Rows of 2^lookRowShift texels: shifts, as integer division costs a software
    // rasteriser dearly.
    ivec2 look = ivec2(id & ((1 << lookRowShift) - 1), id >> lookRowShift);
    vec3 c = texelFetch(cellLooks, look, 0).rgb * mix(cornerShade, centreShade, texel.a);
    fragColor = vec4((c + lightIntensity * diffuse) * c, 1.0);
}
