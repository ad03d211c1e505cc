"""`halation analyze --plot`: one picture of what the engine hears in a track (needs matplotlib).

Legible for a whole track: a few thousand beats and onsets drawn as full-height lines are a solid wall, so
each lane shows what reads at that scale. The waveform with onsets as a rug of short ticks; the song's form
(energy, the section heard as coloured spans, the structure events labelled); the bands as a heat map; the
tempo over a beat grid whose lines thin out with the track's length (every bar, or every 4 or 16 bars).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.analysis.listen import Listening
from engine.analysis.structure import SECTIONS
from engine.errors import HalationError

COLUMNS = 2000  # time columns the lanes are reduced to (about the figure's pixel width)
SECTION_COLOURS = {"steady": "0.85", "buildup": "gold", "drop": "tomato", "breakdown": "lightskyblue"}
MAX_GRID_LINES = 120  # more than this many bar lines and the grid thins to every 4th, then 16th bar


def plot_listening(heard: Listening, mono: np.ndarray, sample_rate: int, out: Path, title: str = "") -> Path:
    """Waveform and onsets, energy and sections, band levels, and tempo over the beat grid."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise HalationError("--plot needs matplotlib: pip install 'halation[plot]'") from None
    fig, (wave, form, bands, tempo) = plt.subplots(
        4, 1, figsize=(16, 9), sharex=True, height_ratios=[2, 1.4, 1.4, 1.2]
    )
    _waveform(wave, heard, mono, sample_rate)
    _form(form, heard)
    _bands(bands, heard)
    _tempo(tempo, heard)
    tempo.set_xlim(0, max(heard.duration, 1e-3))
    fig.suptitle(f"{title}  {heard.tempo:.1f} BPM (confidence {heard.tempo_confidence:.2f})")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def _columns(values: np.ndarray, n: int = COLUMNS) -> tuple[np.ndarray, np.ndarray, int]:
    """`values` cut into at most `n` equal runs: (min per run, max per run, run length)."""
    step = max(1, len(values) // n)
    cut = values[: step * (len(values) // step)].reshape(-1, step)
    return cut.min(axis=1), cut.max(axis=1), step


def _waveform(ax, heard: Listening, mono: np.ndarray, sample_rate: int) -> None:
    """Min/max envelope per column, and the onsets as a rug of ticks along the bottom (low: red, high:
    green), their height the onset's strength."""
    lo, hi, step = _columns(mono, COLUMNS)
    t = np.arange(len(lo)) * step / sample_rate
    ax.fill_between(t, lo, hi, color="0.6", lw=0)
    colours = {"low": "tab:red", "high": "tab:green"}
    for band in ("low", "high", ""):
        times = [o.time for o in heard.onsets if (o.band or "") == band]
        heights = [0.25 * o.strength for o in heard.onsets if (o.band or "") == band]
        if times:
            ax.vlines(times, -1.0, -1.0 + np.array(heights), color=colours.get(band, "tab:orange"), lw=0.6)
    ax.set_ylabel("waveform\nonsets (ticks)")
    ax.set_ylim(-1, 1)


def _form(ax, heard: Listening) -> None:
    """The section heard as coloured spans behind the energy line; structure events labelled on top."""
    t = heard.trace_time
    if heard.trace_section is not None and len(t):
        sections = heard.trace_section.astype(int)
        edges = np.flatnonzero(np.diff(sections)) + 1
        for a, b in zip(np.r_[0, edges], np.r_[edges, len(t) - 1], strict=True):
            name = SECTIONS[sections[a]]
            ax.axvspan(t[a], t[b], color=SECTION_COLOURS[name], alpha=0.6, lw=0)
    if heard.trace_energy is not None and len(t):
        ax.plot(t, heard.trace_energy, color="black", lw=0.9)
    for e in heard.structure:
        if e.kind == "phrase":
            ax.axvline(e.time, color="0.3", lw=0.6, ls=":")
        else:
            ax.axvline(e.time, color="black", lw=1.0)
            ax.text(e.time, 1.02, f" {e.kind}", fontsize=8, va="bottom", ha="left", clip_on=False)
    from matplotlib.patches import Patch

    handles = [Patch(color=c, label=n) for n, c in SECTION_COLOURS.items()]
    ax.legend(handles=handles, loc="lower right", ncol=4, fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("energy\nsection")


def _bands(ax, heard: Listening) -> None:
    """Each band's level as a row of a heat map (max per column), low bands at the bottom."""
    names = list(heard.trace_levels)
    if not names or not len(heard.trace_time):
        return
    rows = [_columns(np.asarray(heard.trace_levels[n]), COLUMNS)[1] for n in names]
    width = min(len(r) for r in rows)
    image = np.array([r[:width] for r in rows])
    ax.imshow(
        image,
        aspect="auto",
        origin="lower",
        cmap="magma",
        vmin=0.0,
        vmax=1.0,
        extent=(0.0, float(heard.trace_time[-1]), -0.5, len(names) - 0.5),
        interpolation="nearest",
    )
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_ylabel("band level")


def _tempo(ax, heard: Listening) -> None:
    """The tempo over a grid of bar lines (thinned on a long track) and beats as ticks along the bottom."""
    top = max(float(np.max(heard.trace_bpm)) if len(heard.trace_bpm) else 0.0, 60.0) * 1.15
    every = 1
    while len(heard.downbeats) / every > MAX_GRID_LINES:
        every *= 4
    lines = heard.downbeats[::every]
    ax.vlines(lines, 0, top, color="tab:red", lw=0.5, alpha=0.5)
    ax.vlines([b.time for b in heard.beats], 0, 0.06 * top, color="tab:blue", lw=0.5)
    ax.plot(heard.trace_time, heard.trace_bpm, color="black", lw=1.0)
    ax.set_ylim(0, top)
    ax.set_ylabel("BPM")
    bars = "every bar" if every == 1 else f"every {every} bars"
    ax.set_xlabel(f"seconds (red: bar lines heard, {bars}; blue ticks: beats)")
