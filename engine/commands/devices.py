from __future__ import annotations

HELP = "list audio devices and monitors"


def add_arguments(p) -> None:
    pass


def run(args) -> int:
    from engine.audio.devices import list_audio_devices, list_monitors

    print("Audio devices:")
    for line in list_audio_devices():
        print(f"  {line}")
    print("Monitors:")
    for line in list_monitors():
        print(f"  {line}")
    return 0
