/*{
    "DESCRIPTION": "Latency probe: a white patch on an onset, black otherwise (halation bench latency). The patch covers 16 % of the frame, under the flash limiter's area (20 % strict, 25 % standard): a click every quarter second is 4 flashes a second, which the limiter would rightly damp over the whole frame, and a damped flash is not a frame that shows the click.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Generator"],
    "INPUTS": []
}*/
void main()
{
    vec2 p = abs(isf_FragNormCoord - 0.5);
    float patch = step(max(p.x, p.y), 0.2);  // 0.4 x 0.4 of the frame
    gl_FragColor = vec4(vec3(patch * step(0.5, hl_onset)), 1.0);
}
