"""Build two annotated sets of full-length music the analysis was never tuned on, from Debian packages.

    python bench/sets/unseen.py OUT          then   halation bench analysis --data OUT/lmms
                                                    halation bench analysis --data OUT/fof
                                                    halation bench analysis --data OUT/fofguitar

- OUT/lmms: the demo songs shipped with LMMS (electronic, 87–200 BPM, up to 5 min, with intros and
  breakdowns), rendered by LMMS itself; the tempo and the beat grid come from the project file (LMMS
  plays them exactly on the grid from 0 s). Needs the `lmms` package (installed through apt when missing).
- OUT/fof: the songs of fretsonfire-songs-muldjord and -sectoid (metal and rock bands, 95–190 BPM, full
  length), backing and guitar stems mixed; the beats are the quarter notes of the chart's MIDI tempo map
  and the tempo the one that lasts longest. The charts are timed to the audio from 0 s (no `delay` in
  song.ini): their expert notes fall within a median of -9..+20 ms of the guitar onsets Halation hears on
  the guitar stem alone. The packages are only downloaded and unpacked, not installed.
- OUT/fofguitar: the same songs' guitar stems alone, with onsets: the notes of the expert guitar chart
  (a chord is one onset). Charts are written to be played, so they leave out some notes the guitar plays
  (ghost notes, palm-muted fills): recall against them is sound, precision is a floor. Each chart note is
  one attack (`onset_combine`, as bench/sets/generated.py writes it).

The audio stays outside the repository (licences: see each package's copyright file).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

LMMS_PROJECTS = Path("/usr/share/lmms/projects")
FOF_PACKAGES = ("fretsonfire-songs-muldjord", "fretsonfire-songs-sectoid")
ATTACK_GAP = 0.03  # engine/analysis/onsets.py: onsets closer than this are one attack
EXPERT_NOTES = range(96, 101)  # the five frets of a Frets on Fire chart's expert part (hard: 84..88, ...)


def main(out: Path) -> int:
    build_lmms(out / "lmms")
    build_fof(out / "fof", out / "fofguitar")
    return 0


def _apt(*args: str) -> None:
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", *args], check=True)


def _name(path: Path) -> str:
    return re.sub(r"\W+", "_", path.name.split(".")[0]).strip("_").lower()


def _write_index(folder: Path, entries: list[dict]) -> None:
    (folder / "index.json").write_text(json.dumps(entries, indent=1))
    print(f"{folder}: {len(entries)} files")


def lmms_meter(project: Path) -> tuple[float, int]:
    """The tempo and beats per bar an LMMS project (.mmp XML, or .mmpz: a 4-byte length + zlib) is
    written in."""
    data = project.read_bytes()
    text = (zlib.decompress(data[4:]) if project.suffix == ".mmpz" else data).decode("utf8", "replace")
    head = re.search(r"<head[^>]*>", text)
    bpm = re.search(r'\bbpm="([\d.]+)"', head.group(0)) if head else None
    if not bpm:
        raise ValueError(f"{project}: no bpm in <head>")
    per_bar = re.search(r'\btimesig_numerator="(\d+)"', head.group(0))
    return float(bpm.group(1)), int(per_bar.group(1)) if per_bar else 4


def _grid(folder: Path, name: str, beats: list[float], per_bar: int) -> dict:
    """Write the beats, and the downbeats when the bars are 3 or 4 beats (bars start at the first beat)."""
    (folder / f"{name}.beats.txt").write_text("".join(f"{t:.4f}\n" for t in beats))
    out = {"beats": f"{name}.beats.txt"}
    if per_bar in (3, 4):
        (folder / f"{name}.downbeats.txt").write_text("".join(f"{t:.4f}\n" for t in beats[::per_bar]))
        out["downbeats"] = f"{name}.downbeats.txt"
    return out


def build_lmms(folder: Path) -> None:
    if shutil.which("lmms") is None:
        _apt("install", "-y", "--no-install-recommends", "lmms")
    folder.mkdir(parents=True, exist_ok=True)
    projects = sorted(p for sub in ("demos", "shorties") for p in (LMMS_PROJECTS / sub).rglob("*.mmp*"))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    entries = []
    for project in projects:
        name = "lmmsdemo_" + _name(project)
        wav = folder / f"{name}.wav"
        if not wav.exists():
            subprocess.run(
                ["lmms", "--allowroot", "render", str(project), "-o", str(wav), "-f", "wav"],
                env=env,
                check=True,
                capture_output=True,
            )
        bpm, per_bar = lmms_meter(project)
        duration = _duration(wav)
        period = 60.0 / bpm
        beats = [k * period for k in range(int(duration / period) + 1)]
        entries.append({"name": name, "audio": wav.name, "tempo": bpm, **_grid(folder, name, beats, per_bar)})
    _write_index(folder, entries)


def build_fof(folder: Path, guitar: Path) -> None:
    import mido

    folder.mkdir(parents=True, exist_ok=True)
    guitar.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", *FOF_PACKAGES], cwd=tmp, check=True, capture_output=True)
        for deb in Path(tmp).glob("*.deb"):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(Path(tmp) / "x")], check=True)
        entries, guitar_entries = [], []
        for chart in sorted((Path(tmp) / "x").rglob("notes.mid")):
            song = chart.parent
            name = "fof_" + _name(song)
            guitar_entries.append(_guitar_onsets(guitar, "fofguitar_" + _name(song), song, chart))
            out = folder / f"{name}.ogg"
            if not out.exists():
                mix = "amix=inputs=2:duration=longest:normalize=0"
                stems = ["-i", str(song / "song.ogg"), "-i", str(song / "guitar.ogg")]
                cmd = ["ffmpeg", "-loglevel", "error", "-y", *stems, "-filter_complex", mix, str(out)]
                subprocess.run(cmd, check=True)
            midi = mido.MidiFile(chart)
            beats, tempo = chart_beats(midi, _duration(out))
            per_bar = next(
                (m.numerator for m in mido.merge_tracks(midi.tracks) if m.type == "time_signature"), 4
            )
            entries.append(
                {"name": name, "audio": out.name, "tempo": tempo, **_grid(folder, name, beats, per_bar)}
            )
    _write_index(folder, entries)
    _write_index(guitar, guitar_entries)


def _guitar_onsets(folder: Path, name: str, song: Path, chart: Path) -> dict:
    import mido

    shutil.copyfile(song / "guitar.ogg", folder / f"{name}.ogg")
    onsets = chart_onsets(mido.MidiFile(chart))
    (folder / f"{name}.onsets.txt").write_text("".join(f"{t:.4f}\n" for t in onsets))
    # a chart note is one attack, so both detectors are scored by attack (Halation's two bands hear a
    # distorted guitar's note in each; aubio's onsets within the same 30 ms are one), as on the generated sets
    return {"name": name, "audio": f"{name}.ogg", "onsets": f"{name}.onsets.txt", "onset_combine": ATTACK_GAP}


def chart_onsets(midi, notes: range = EXPERT_NOTES, chord: float = 0.01) -> list[float]:
    """The times (s) of a Frets on Fire chart's notes at one difficulty (the five frets' MIDI notes); the
    notes of a chord, within `chord` seconds of one another, are one onset."""
    t, starts = 0.0, []
    for msg in midi:  # mido plays the merged tracks with their delta times in seconds, tempo map applied
        t += msg.time
        if msg.type == "note_on" and msg.velocity > 0 and msg.note in notes:
            starts.append(t)
    onsets: list[float] = []
    for start in sorted(starts):
        if not onsets or start - onsets[-1] > chord:
            onsets.append(start)
    return onsets


def chart_beats(midi, duration: float) -> tuple[list[float], float]:
    """The quarter notes of a MIDI file's tempo map up to `duration` seconds, and the tempo (BPM) that
    lasts longest."""
    import mido

    changes = [(0, 500000)]  # (tick, microseconds per beat); MIDI's default until the first set_tempo
    tick = 0
    for msg in mido.merge_tracks(midi.tracks):
        tick += msg.time
        if msg.type == "set_tempo":
            changes = [c for c in changes if c[0] < tick] + [(tick, msg.tempo)]
    beats: list[float] = []
    lasted: dict[int, float] = {}
    t = 0.0
    while t <= duration:
        tempo = next(v for k, v in reversed(changes) if k <= len(beats) * midi.ticks_per_beat)
        beats.append(t)
        t += tempo / 1e6
        lasted[tempo] = lasted.get(tempo, 0.0) + tempo / 1e6
    return beats, round(mido.tempo2bpm(max(lasted, key=lasted.get)), 2)


def _duration(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return float(container.duration) / 1e6


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
