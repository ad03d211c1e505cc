"""Deflicker: AI clips pump in brightness from frame to frame; each frame is scaled towards its neighbours'
brightness, so the wobble goes and the clip's own light changes stay.

A deliberate strobe or flash is a large step away from the neighbours: frames more than STROBE_STEP away
from the trend are left exactly as they are (and kept out of the trend), and no frame's gain moves more
than MAX_GAIN, so a strobe in the source is never washed out. What it did is measured: the flicker
descriptor (describe.flicker) before and after goes into clips.json.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def brightness(frames: np.ndarray) -> np.ndarray:
    """Mean luma of each frame, 0..1 (colour channels only), from an area-averaged 1/8-size copy."""
    import cv2

    h, w = frames.shape[1:3]
    size = (max(1, w // 8), max(1, h // 8))
    small = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA)[..., :3] for f in frames])
    return (small.astype(np.float32) / 255.0 @ _LUMA).reshape(len(frames), -1).mean(1)


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


def deflicker(
    frames: np.ndarray, wrap: bool = False, copy: bool = True
) -> tuple[np.ndarray, DeflickerReport]:
    """Frames with their brightness pumping evened out, and what that changed (`copy=False`: in place)."""
    level = brightness(frames)
    before = flicker(level, wrap)
    if len(frames) < 3:
        return frames, DeflickerReport(before, before, 0, 0)
    rough = median_trend(level, wrap)  # a median: a flash does not drag its neighbours' trend up
    flash = np.abs(level / np.maximum(rough, 1e-3) - 1.0) > STROBE_STEP
    smooth = trend(level, ~flash, wrap)
    gain = np.clip(smooth / np.maximum(level, 1e-3), 1.0 - MAX_GAIN, 1.0 + MAX_GAIN)
    gain = np.where(flash | (level < 0.02), 1.0, gain)  # flashes and black frames stay as they are
    changed = np.nonzero(np.abs(gain - 1.0) > 1e-3)[0]
    if flicker(level * gain, wrap) >= before or not len(changed):  # nothing to gain: the source exactly
        return frames, DeflickerReport(before, before, 0, int(flash.sum()))
    import cv2

    out = frames.copy() if copy else frames
    levels = np.arange(256, dtype=np.float32)
    for i in changed:  # one 256-entry table per frame: a lookup, not float arithmetic on every pixel
        table = np.clip(np.round(levels * np.float32(gain[i])), 0, 255).astype(np.uint8)
        if out.shape[-1] == 4:  # alpha stays as it is
            table = np.stack([table, table, table, np.arange(256, dtype=np.uint8)], -1).reshape(256, 1, 4)
        out[i] = cv2.LUT(out[i], table)
    after = flicker(brightness(out), wrap)
    return out, DeflickerReport(before, after, len(changed), int(flash.sum()), tuple(int(i) for i in changed))
