#version 150 core
// Lit as Qt3D's per-vertex colour material lights a colour c with one directional
// light: (c + intensity * max(n.l, 0)) * c.

flat in vec3 cellColour;
in float shade;
in vec3 worldNormal;

out vec4 fragColor;

uniform vec3 lightDirection; // towards the light, need not be unit
uniform float lightIntensity;

void main()
{
    vec3 c = cellColour * shade;
    float diffuse = max(dot(normalize(worldNormal), normalize(lightDirection)), 0.0);
    fragColor = vec4((c + lightIntensity * diffuse) * c, 1.0);
}
