/*{
    "DESCRIPTION": "Latency probe: white on an onset, black otherwise (halation bench latency)",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Generator"],
    "INPUTS": []
}*/
void main()
{
    gl_FragColor = vec4(vec3(step(0.5, hl_onset)), 1.0);
}
