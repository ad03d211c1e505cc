"""Build a held-out generated set: the onset classes of bench/sets/generated.py at other tempi and seeds.

    python bench/sets/heldout.py OUT          then   halation bench analysis --data OUT/all   (pooled)
                                                     halation bench analysis --data OUT/rolls (one class)

The onset detector's constants were chosen on the generated set (its seeds 0-72) and the shared set; these
files, the same generators at tempi and seeds none of those used, say whether the choice generalises or
fits those files: rolls and fills at 164-196 BPM, brushes at 104-168 BPM, band mixes at 108-140 BPM, boom-bap
and drum & bass. The generated set stays as it is, so its figures stay comparable from session to session.
"""

from __future__ import annotations

import sys
from pathlib import Path


def plan():
    """class → [(file stem, generator)], as generated.plan() gives them."""
    from engine.audio import synth

    def song(bpm, style, seed):
        return lambda: synth.styled_song(bpm, style, seed=seed)

    return {
        "rolls": [
            (f"rolls_{bpm}_s{seed}", lambda bpm=bpm, seed=seed: synth.roll_fills(bpm, bars=16, seed=seed))
            for seed, bpm in enumerate((164, 172, 184, 196), start=100)
        ],
        "brushes": [
            (f"brushes_{bpm}_s{seed}", lambda bpm=bpm, seed=seed: synth.brushes(bpm, bars=12, seed=seed))
            for seed, bpm in enumerate((104, 136, 168), start=110)
        ],
        "band": [
            (f"band_{bpm}_s{seed}", lambda bpm=bpm, seed=seed: synth.band_mix(bpm, bars=12, seed=seed))
            for seed, bpm in enumerate((108, 140), start=120)
        ],
        "songs": [
            (f"song_{style}_{bpm}_s{seed}", song(bpm, style, seed))
            for seed, (bpm, style) in enumerate(((90, "hiphop"), (176, "dnb")), start=130)
        ],
    }


def main(out: Path) -> int:
    from engine.commands.bench import BENCH_DIR, load

    return load(BENCH_DIR / "sets" / "generated.py").write_plan(out, plan())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
