"""What a clip looks like, measured on torch in batches: brightness, colourfulness, palette, motion,
flicker and scene cuts. Clip selection matches these to the music (bright, busy clips for a drop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

THUMB = (32, 18)  # per-frame fingerprint size (w, h): enough for motion, loops and cuts
BATCH = 32
PALETTE_SAMPLES = 8192
_LUMA = torch.tensor([0.2126, 0.7152, 0.0722])


@dataclass(frozen=True)
class Descriptors:
    brightness: float  # mean luma 0..1
    colourfulness: float  # Hasler–Süsstrunk M on 0..1 channels (≈0.1 dull … 0.5 vivid)
    palette: tuple[str, ...]  # dominant colours, most common first, "#rrggbb"
    motion: float  # mean absolute change between frames, 0..1
    flicker: float  # std of the frame brightness with its slow trend removed, 0..1
    cuts: tuple[int, ...]  # frames where a new shot starts


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def thumbnails(frames: np.ndarray, dev: torch.device | None = None) -> torch.Tensor:
    """(N, 3, 18, 32) float 0..1 fingerprints (area-averaged colour) of (N, H, W, 3|4) uint8 frames of any
    size: `prepare` gives the 1/8-size copies it made while decoding. The shrinking is OpenCV's on the
    uint8 frames: on a CPU, converting whole 720p frames to float tensors cost half of `prepare`."""
    import cv2

    small = np.stack([cv2.resize(f, THUMB, interpolation=cv2.INTER_AREA)[..., :3] for f in frames])
    return torch.from_numpy(small).to(dev or device()).permute(0, 3, 1, 2).float() / 255.0


def colourfulness(thumbs: torch.Tensor) -> torch.Tensor:
    r, g, b = thumbs[:, 0], thumbs[:, 1], thumbs[:, 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    std = torch.sqrt(rg.flatten(1).var(1) + yb.flatten(1).var(1))
    mean = torch.sqrt(rg.flatten(1).mean(1) ** 2 + yb.flatten(1).mean(1) ** 2)
    return std + 0.3 * mean


def palette(thumbs: torch.Tensor, k: int = 5, iterations: int = 12) -> tuple[str, ...]:
    """k-means over all fingerprint pixels (deterministic init: evenly spaced by luma)."""
    px = thumbs.permute(0, 2, 3, 1).reshape(-1, 3)
    px = px[:: max(1, len(px) // PALETTE_SAMPLES)]  # an even sample is plenty for five colours
    order = torch.argsort(px @ _LUMA.to(px.device))
    centres = px[order[torch.linspace(0, len(px) - 1, k).long()]].clone()
    for _ in range(iterations):
        assign = torch.cdist(px, centres).argmin(1)
        sums = torch.zeros_like(centres).index_add_(0, assign, px)
        counts = torch.bincount(assign, minlength=k).unsqueeze(1)
        centres = torch.where(counts > 0, sums / counts.clamp_min(1), centres)
    counts = torch.bincount(torch.cdist(px, centres).argmin(1), minlength=k)
    ranked = centres[torch.argsort(counts, descending=True)]
    return tuple("#{:02x}{:02x}{:02x}".format(*(round(v * 255) for v in c.tolist())) for c in ranked)


def step_differences(thumbs: torch.Tensor) -> torch.Tensor:
    """Mean absolute change from each frame to the next (N-1 values)."""
    if len(thumbs) < 2:
        return torch.zeros(0)
    return (thumbs[1:] - thumbs[:-1]).abs().flatten(1).mean(1)


def scene_cuts(steps: torch.Tensor) -> tuple[int, ...]:
    """A step far above the clip's typical motion is a cut (AI clips rarely have one; stitched ones do)."""
    if len(steps) < 3:
        return ()
    threshold = max(0.12, 6.0 * float(steps.median()))
    return tuple(int(i) + 1 for i in torch.nonzero(steps > threshold).flatten())


def flicker(brightness: torch.Tensor, window: int = 9) -> float:
    if len(brightness) < 3:
        return 0.0
    pad = window // 2
    padded = F.pad(brightness.view(1, 1, -1), (pad, pad), mode="replicate")
    trend = F.avg_pool1d(padded, window, stride=1).view(-1)
    return float((brightness - trend).std())


def describe(thumbs: torch.Tensor) -> Descriptors:
    luma = (thumbs * _LUMA.to(thumbs.device).view(1, 3, 1, 1)).sum(1).flatten(1).mean(1)
    steps = step_differences(thumbs)
    return Descriptors(
        brightness=round(float(luma.mean()), 4),
        colourfulness=round(float(colourfulness(thumbs).mean()), 4),
        palette=palette(thumbs),
        motion=round(float(steps.mean()) if len(steps) else 0.0, 4),
        flicker=round(flicker(luma), 4),
        cuts=scene_cuts(steps),
    )
