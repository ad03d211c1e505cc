"""Deflicker: AI clips pump in brightness from frame to frame; each frame is scaled towards its neighbours'
brightness, so the wobble goes and the clip's own light changes stay.

A deliberate strobe or flash is a large step away from the neighbours: frames more than STROBE_STEP away
from the trend are left exactly as they are (and kept out of the trend), and no frame's gain moves more
than MAX_GAIN, so a strobe in the source is never washed out. What it did is measured: the flicker
descriptor (describe.flicker) before and after goes into clips.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from engine.clips.stored import StoredFrames

WINDOW = 9  # frames in the brightness trend (about a third of a second at 24-30 fps)
STROBE_STEP = 0.25  # relative distance from the trend beyond which a frame is a deliberate flash
MAX_GAIN = 0.2  # the largest brightness correction of any frame (±20 %)
_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


@dataclass(frozen=True)
class DeflickerReport:
    before: float  # flicker descriptor of the source frames
    after: float  # … of the stored frames
    corrected: int  # frames whose brightness was adjusted
    flashes: int  # frames left alone as deliberate flashes
    changed: tuple[int, ...] = ()  # the frames whose pixels changed


def luma_means(frames: np.ndarray) -> np.ndarray:
    """Mean luma of each frame, 0..1 (colour channels only). OpenCV's per-frame mean sums in double, as
    exact as numpy's integer sums over the frames and 30x faster (a strided numpy reduction)."""
    import cv2

    means = np.array([cv2.mean(frame)[:3] for frame in frames], np.float64).reshape(len(frames), 3)
    return (means / 255.0 @ _LUMA.astype(np.float64)).astype(np.float32)


def brightness(frames: np.ndarray) -> np.ndarray:
    """Mean luma of each frame, 0..1, from an area-averaged 1/8-size copy."""
    import cv2

    h, w = frames.shape[1:3]
    size = (max(1, w // 8), max(1, h // 8))
    return luma_means(np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]))


def trend(values: np.ndarray, keep: np.ndarray, wrap: bool) -> np.ndarray:
    """Moving average over WINDOW frames of the kept values (a loop wraps around its seam)."""
    pad = WINDOW // 2
    mode = "wrap" if wrap and len(values) > WINDOW else "edge"
    v = np.pad(np.where(keep, values, 0.0), pad, mode=mode)
    k = np.pad(keep.astype(np.float64), pad, mode=mode)
    kernel = np.ones(WINDOW)
    sums, counts = np.convolve(v, kernel, "valid"), np.convolve(k, kernel, "valid")
    return np.where(counts > 0, sums / np.maximum(counts, 1e-9), values)


def median_trend(values: np.ndarray, wrap: bool) -> np.ndarray:
    pad = WINDOW // 2
    padded = np.pad(values, pad, mode="wrap" if wrap and len(values) > WINDOW else "reflect")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, WINDOW), axis=1)


def flicker(values: np.ndarray, wrap: bool = False) -> float:
    """The flicker descriptor: the std of frame brightness around its trend (as describe.flicker)."""
    if len(values) < 3:
        return 0.0
    return float(np.std(values - trend(values, np.ones(len(values), bool), wrap)))


def gains(level: np.ndarray, wrap: bool) -> tuple[np.ndarray, np.ndarray]:
    """Each frame's brightness gain towards the trend of its neighbours, and which frames are flashes (gain
    1, as are black frames)."""
    rough = median_trend(level, wrap)  # a median: a flash does not drag its neighbours' trend up
    flash = np.abs(level / np.maximum(rough, 1e-3) - 1.0) > STROBE_STEP
    smooth = trend(level, ~flash, wrap)
    gain = np.clip(smooth / np.maximum(level, 1e-3), 1.0 - MAX_GAIN, 1.0 + MAX_GAIN)
    gain = np.where(flash | (level < 0.02), 1.0, gain)
    gain = np.where(np.abs(gain - 1.0) > 1e-3, gain, 1.0)  # a change under one level in 255 is none
    return gain.astype(np.float32), flash


def deflicker(
    frames: np.ndarray, wrap: bool = False, copy: bool = True
) -> tuple[np.ndarray, DeflickerReport]:
    """Frames with their brightness pumping evened out, and what that changed (`copy=False`: in place)."""
    level = brightness(frames)
    before = flicker(level, wrap)
    if len(frames) < 3:
        return frames, DeflickerReport(before, before, 0, 0)
    gain, flash = gains(level, wrap)
    changed = np.nonzero(gain != 1.0)[0]
    if flicker(level * gain, wrap) >= before or not len(changed):  # nothing to gain: the source exactly
        return frames, DeflickerReport(before, before, 0, int(flash.sum()))
    import cv2

    from engine.clips.stored import gain_table

    out = frames.copy() if copy else frames
    for i in changed:  # one 256-entry table per frame: a lookup, not float arithmetic on every pixel
        out[i] = cv2.LUT(out[i], gain_table(float(gain[i]), out.shape[-1]))
    after = flicker(brightness(out), wrap)
    return out, DeflickerReport(before, after, len(changed), int(flash.sum()), tuple(int(i) for i in changed))


def deflicker_stored(stored: StoredFrames, wrap: bool = False) -> tuple[StoredFrames, DeflickerReport]:
    """As `deflicker`, measured on the stored frames' 1/8-size copies; the gains join their recipe (the
    encode workers apply them), so no full-size frame is touched here."""
    level = luma_means(stored.small_frames())
    before = flicker(level, wrap)
    if len(level) < 3:
        return stored, DeflickerReport(before, before, 0, 0)
    gain, flash = gains(level, wrap)
    changed = np.nonzero(gain != 1.0)[0]
    if flicker(level * gain, wrap) >= before or not len(changed):
        return stored, DeflickerReport(before, before, 0, int(flash.sum()))
    out = stored.with_gain(stored.recipe.gain * gain)
    after = flicker(luma_means(out.small_frames()), wrap)
    return out, DeflickerReport(before, after, len(changed), int(flash.sum()), tuple(int(i) for i in changed))
