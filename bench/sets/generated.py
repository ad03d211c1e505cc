"""Build annotated sets of generated music, one folder per class, for the listening benches.

    python bench/sets/generated.py OUT        then   halation bench analysis --data OUT/rolls  (one class)
                                                     halation bench analysis --data OUT/all    (pooled)

Every file comes from engine/audio/synth.py with its own tempo and seed (the seed varies the kit's tuning,
the humanised timing, the chords and parts of the arrangement), so its onsets, beats, bar lines and bar
length are exact. The classes are what a VJ meets in one week and what the recorded sets lack:

- rolls: grooves and fills, 16th and 32nd snare rolls with accents and flams, tom runs, 160–200 BPM;
- brushes: a jazz trio with brushes (swung ride, brush taps, steady sweeps that are no onsets), 96–176 BPM;
- band: a rock band mix (drums, eighth-note bass and distorted guitar, lead, a pad with no attack);
- waltz: 3/4, the bass on one, the chord on two and three, with and without a light kit, 84–174 BPM;
- six_eight: 6/8 as two beats of three eighths (the beat a dancer sways to is the dotted quarter);
- shuffle: 4/4 with a triplet feel (it is in four);
- song85, song170: boom-bap and a ballad at ~85 BPM, drum & bass and punk at ~170, each at its own octave.

Onsets: each attack once; hits within 30 ms of one another (a chord, a kick with a hat, a flam's grace note
and its stroke) are one onset, as onset data sets annotate them. OUT/all lists every file of every class.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

# class → [(file stem, generator)]; a generator is called with no arguments and returns a synth.Material
Plan = dict[str, list[tuple[str, Callable]]]


def plan() -> Plan:
    from engine.audio import synth

    def song(bpm, style, seed):
        return lambda: synth.styled_song(bpm, style, seed=seed)

    return {
        "rolls": [
            (f"rolls_{bpm}_s{seed}", lambda bpm=bpm, seed=seed: synth.roll_fills(bpm, bars=16, seed=seed))
            for seed, bpm in enumerate((160, 170, 180, 190, 200))
        ],
        "brushes": [
            (f"brushes_{bpm}_s{seed}", lambda bpm=bpm, seed=seed: synth.brushes(bpm, bars=12, seed=seed))
            for seed, bpm in enumerate((96, 120, 150, 176), start=10)
        ],
        "band": [
            (f"band_{bpm}_s{seed}", lambda bpm=bpm, seed=seed: synth.band_mix(bpm, bars=12, seed=seed))
            for seed, bpm in enumerate((100, 118, 132, 146), start=20)
        ],
        "waltz": [
            (
                f"waltz_{bpm}_s{seed}",
                lambda bpm=bpm, seed=seed: synth.waltz(bpm, bars=16, seed=seed, drums=seed % 3 != 0),
            )
            for seed, bpm in enumerate((84, 96, 132, 150, 174), start=30)
        ],
        "six_eight": [
            (f"six_eight_{bpm}_s{seed}", lambda bpm=bpm, seed=seed: synth.six_eight(bpm, bars=12, seed=seed))
            for seed, bpm in enumerate((62, 68, 76), start=40)
        ],
        "shuffle": [
            (f"shuffle_{bpm}_s{seed}", lambda bpm=bpm, seed=seed: synth.shuffle(bpm, bars=12, seed=seed))
            for seed, bpm in enumerate((84, 100, 116, 132), start=50)
        ],
        "song85": [
            (f"song85_{style}_{bpm}_s{seed}", song(bpm, style, seed))
            for seed, (bpm, style) in enumerate(((85, "hiphop"), (88, "ballad"), (82, "hiphop")), start=60)
        ],
        "song170": [
            (f"song170_{style}_{bpm}_s{seed}", song(bpm, style, seed))
            for seed, (bpm, style) in enumerate(((170, "dnb"), (174, "dnb"), (168, "punk")), start=70)
        ],
    }


def write_material(folder: Path, name: str, material) -> dict:
    """The WAV and its annotation files in `folder`; the index entry for them."""
    from engine.audio.synth import ONSET_MERGE, write_wav

    track = material.track
    write_wav(track, folder / f"{name}.wav")
    for key, times in (("beats", track.beats), ("downbeats", track.downbeats), ("onsets", material.onsets)):
        (folder / f"{name}.{key}.txt").write_text("".join(f"{t:.6f}\n" for t in times))
    entry = {"name": name, "audio": f"{name}.wav", "tempo": round(track.bpm, 3), "kind": material.kind}
    entry["beats_per_bar"] = material.beats_per_bar
    entry["onset_combine"] = ONSET_MERGE
    entry.update({key: f"{name}.{key}.txt" for key in ("beats", "downbeats", "onsets")})
    return entry


def main(out: Path, only: str | None = None) -> int:
    return write_plan(out, plan(), only)


def write_plan(out: Path, classes: Plan, only: str | None = None) -> int:
    """Render every class of `classes` (or only `only`) into OUT/<class> with its index, and OUT/all."""
    everything = []
    for cls, files in classes.items():
        if only and only != cls:
            continue
        folder = out / cls
        folder.mkdir(parents=True, exist_ok=True)
        entries = [write_material(folder, name, make()) for name, make in files]
        (folder / "index.json").write_text(json.dumps(entries, indent=1))
        print(f"{folder}: {len(entries)} files")
        everything += [
            {**e, **{k: f"../{cls}/{e[k]}" for k in ("audio", "beats", "downbeats", "onsets")}}
            for e in entries
        ]
    if not only:
        (out / "all").mkdir(parents=True, exist_ok=True)
        (out / "all" / "index.json").write_text(json.dumps(everything, indent=1))
        print(f"{out / 'all'}: {len(everything)} files")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) == 3 else None))
