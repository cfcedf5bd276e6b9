#version 150 core
// The planet seen from afar, where its cells are a few pixels wide: a coarse sphere
// whose fragments find their cell in the cell-id map (see planetfar.frag).
//
// The light is computed here, per vertex, not per fragment: the sphere's vertices are
// about 4° apart, where max(n.l, 0) changes by under 0.001 between a vertex and the
// middle of a triangle, and a software rasteriser (llvmpipe) pays for every operation
// of the fragment shader some 300,000 times a frame.

in vec4 vertexPosition; // xyz on the unit sphere; w unused

out vec3 direction;
out float diffuse;

uniform mat4 modelMatrix;
uniform mat4 modelViewProjection;
uniform vec3 lightDirection; // towards the light, need not be unit

void main()
{
    direction = vertexPosition.xyz;
    vec3 normal = mat3(modelMatrix) * vertexPosition.xyz;
    diffuse = max(dot(normalize(normal), normalize(lightDirection)), 0.0);
    gl_Position = modelViewProjection * vec4(vertexPosition.xyz, 1.0);
}
