"""Write rendered frames as numbered PNG files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def to_image(rgba: np.ndarray) -> Image.Image:
    return Image.fromarray(rgba, "RGBA").convert("RGB")


class PngSequence:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._n = 0

    def write(self, rgba: np.ndarray) -> None:
        to_image(rgba).save(self.folder / f"frame_{self._n:06d}.png", compress_level=1)
        self._n += 1

    def close(self) -> None:
        pass
