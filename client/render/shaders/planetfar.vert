#version 150 core
// The planet seen from afar, where its cells are a few pixels wide: a coarse sphere
// whose fragments find their cell in the cell-id map (see planetfar.frag).

in vec4 vertexPosition; // xyz on the unit sphere; w unused

out vec3 direction;
out vec3 worldNormal;

uniform mat4 modelMatrix;
uniform mat4 modelViewProjection;

void main()
{
    direction = vertexPosition.xyz;
    worldNormal = mat3(modelMatrix) * vertexPosition.xyz;
    gl_Position = modelViewProjection * vec4(vertexPosition.xyz, 1.0);
}
