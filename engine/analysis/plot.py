"""`halation analyze --plot`: one picture of what the engine hears in a track (needs matplotlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.analysis.listen import Listening
from engine.errors import HalationError


def plot_listening(heard: Listening, mono: np.ndarray, sample_rate: int, out: Path, title: str = "") -> Path:
    """Waveform with onsets, band levels, and tempo with beats and downbeats, on one time axis."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise HalationError("--plot needs matplotlib: pip install 'halation[plot]'") from None
    fig, (wave, levels, tempo) = plt.subplots(3, 1, figsize=(14, 8), sharex=True, height_ratios=[2, 2, 1])
    _waveform(wave, heard, mono, sample_rate)
    for name, values in heard.trace_levels.items():
        levels.plot(heard.trace_time, values, lw=0.8, label=name)
    levels.set_ylabel("band level")
    levels.set_ylim(0, 1.05)
    levels.legend(loc="upper right", ncol=len(heard.trace_levels), fontsize=8)
    tempo.plot(heard.trace_time, heard.trace_bpm, color="black", lw=1.0)
    for b in heard.beats:
        tempo.axvline(b.time, color="tab:blue", lw=0.5, alpha=0.5)
    for t in heard.downbeats:
        tempo.axvline(t, color="tab:red", lw=1.2)
    tempo.set_ylabel("BPM")
    tempo.set_xlabel("seconds (blue: beats, red: downbeats)")
    fig.suptitle(f"{title}  {heard.tempo:.1f} BPM (confidence {heard.tempo_confidence:.2f})")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def _waveform(ax, heard: Listening, mono: np.ndarray, sample_rate: int) -> None:
    """Min/max envelope per pixel column (a long track has millions of samples) and the onsets."""
    columns = 2000
    n = max(1, len(mono) // columns)
    cut = mono[: n * (len(mono) // n)].reshape(-1, n)
    t = np.arange(len(cut)) * n / sample_rate
    ax.fill_between(t, cut.min(axis=1), cut.max(axis=1), color="0.6", lw=0)
    colors = {"low": "tab:red", "high": "tab:green"}
    for o in heard.onsets:
        ax.axvline(o.time, color=colors.get(o.band, "tab:orange"), lw=0.6, alpha=0.3 + 0.7 * o.strength)
    ax.set_ylabel("waveform, onsets")
    ax.set_ylim(-1, 1)
