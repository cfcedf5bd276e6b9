#version 150 core
// The planet (see PlanetMesh): each vertex is a position and, for a cell's centre, the
// cell id (-1 for a shared corner). The centre is every triangle's provoking vertex:
// it reads the cell's look from the look texture and hands it flat to the triangle.

in vec4 vertexPosition;

flat out vec3 cellColour;
out float shade;
out vec3 worldNormal;

uniform mat4 modelMatrix;
uniform mat4 modelViewProjection;
uniform sampler2D cellLooks;
uniform int lookRowShift; // log2 of the look texture's width
uniform float centreShade; // the outline's shading: centre to corners (see
uniform float cornerShade; // PlanetView::cellShading())

void main()
{
    float cell = vertexPosition.w;
    if (cell >= 0.0) {
        int id = int(cell + 0.5);
        // Rows of 2^lookRowShift texels: shifts, as integer division costs a software
        // rasteriser dearly.
        ivec2 at = ivec2(id & ((1 << lookRowShift) - 1), id >> lookRowShift);
        cellColour = texelFetch(cellLooks, at, 0).rgb;
        shade = centreShade;
    } else {
        cellColour = vec3(0.0); // not the provoking vertex of any triangle
        shade = cornerShade;
    }
    // A unit sphere: the normal is the position.
    worldNormal = mat3(modelMatrix) * normalize(vertexPosition.xyz);
    gl_Position = modelViewProjection * vec4(vertexPosition.xyz, 1.0);
}
