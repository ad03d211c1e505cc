"""What the machine offers: audio devices (PortAudio) and monitors (glfw), for `halation devices`."""

from __future__ import annotations


def list_audio_devices() -> list[str]:
    try:
        import sounddevice as sd

        devices = sd.query_devices()
        default_in, default_out = sd.default.device
    except Exception as exc:  # no PortAudio library, or no sound system at all
        return [f"(none: {exc}; install libportaudio2)"]
    lines = []
    for i, d in enumerate(devices):
        marks = [m for m, on in (("default in", i == default_in), ("default out", i == default_out)) if on]
        extra = f"  [{', '.join(marks)}]" if marks else ""
        lines.append(
            f"{i:3d}  {d['name']}  in {d['max_input_channels']} / out {d['max_output_channels']}"
            f"  {int(d['default_samplerate'])} Hz{extra}"
        )
    return lines or ["(no audio devices)"]


def list_monitors() -> list[str]:
    from engine.output.window import display_available

    if not display_available():
        return ["(no display: headless; use `halation render` or `perform --headless`)"]
    import glfw

    lines = []
    for i, m in enumerate(glfw.get_monitors()):
        mode = glfw.get_video_mode(m)
        name = glfw.get_monitor_name(m)
        name = name.decode() if isinstance(name, bytes) else name
        lines.append(f"{i:3d}  {name}  {mode.size.width}x{mode.size.height} @ {mode.refresh_rate} Hz")
    return lines or ["(no monitors)"]
