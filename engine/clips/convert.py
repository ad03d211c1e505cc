"""`halation prepare --convert FOLDER`: clip folders of earlier versions (.hlclip files) become HAP .mov
files that every other tool reads, in one command, keeping clips.json (provenance, descriptors, loop, tags).

The .hlclip frames are HAP DXT1 stored bottom row first; a .mov is top row first. Turning a DXT1 picture
upside down needs no new encode: the block rows are reversed and, inside each block, its four rows of
2-bit indices (one byte each). So the conversion is lossless and fast: no decode, no generation lost.
A picture whose height is not a multiple of 4 (its last block row padded) would shift by the padding when
flipped that way; those frames are decoded and encoded again. The .hlclip files are left where they are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.clips.clipfile import ClipReader
from engine.clips.encode import CODEC_TAG
from engine.clips.hap import HapImage, encode_frame
from engine.clips.manifest import load_manifest, save_manifest
from engine.clips.movfile import write_mov
from engine.errors import HalationError

log = logging.getLogger(__name__)

OLD_SUFFIX = ".hlclip"


@dataclass(frozen=True)
class Converted:
    path: Path  # the .hlclip
    status: str  # "converted", "skipped" (its .mov is there already), "failed"
    message: str = ""


def flip_dxt1(plane: bytes, size: tuple[int, int]) -> bytes:
    """A DXT1 picture upside down, block for block (its height a multiple of 4)."""
    bw, bh = (size[0] + 3) // 4, (size[1] + 3) // 4
    blocks = np.frombuffer(plane, np.uint8).reshape(bh, bw, 8)[::-1].copy()
    blocks[..., 4:8] = blocks[..., 7:3:-1]  # index rows 0..3 of each block → 3..0
    return blocks.tobytes()


def _upright(image: HapImage, size: tuple[int, int]) -> HapImage:
    if size[1] % 4 == 0:
        return HapImage(image.formats, tuple(flip_dxt1(p, size) for p in image.planes))
    from engine.clips.blocks import decode_image
    from engine.clips.encode import encode_planes

    picture = np.ascontiguousarray(decode_image(image, *size)[::-1])
    return next(encode_planes(picture[None], "hap", "etcpak"))


def convert_clip(old: Path, mov: Path) -> int:
    """Write the .hlclip `old` as a HAP .mov; returns the frame count."""
    reader = ClipReader(old)
    try:
        size = reader.size
        frames = (encode_frame(_upright(reader.image(i), size)) for i in range(reader.frame_count))
        return write_mov(mov, size, float(reader.header.fps), CODEC_TAG["hap"], frames)
    finally:
        reader.close()


def _convert(old: Path, mov: Path) -> Converted:
    if mov.is_file():
        return Converted(old, "skipped", f"{mov.name} is there already")
    try:
        frames = convert_clip(old, mov)
    except HalationError as exc:
        return Converted(old, "failed", str(exc))
    except Exception as exc:  # one damaged file must not stop the folder
        log.debug("convert failed", exc_info=True)
        return Converted(old, "failed", f"{old}: {type(exc).__name__}: {exc}")
    return Converted(old, "converted", f"{old.name} → {mov.name} ({frames} frames, lossless)")


def convert_folder(folder: Path) -> list[Converted]:
    """Every .hlclip of a clip folder converted next to itself; clips.json then names the .mov files (every
    other key of each clip kept). A clip whose conversion failed keeps its .hlclip entry (it still plays)."""
    if not folder.is_dir():
        raise HalationError(f"{folder}: not a folder (--convert takes clip folders written by prepare)")
    manifest = load_manifest(folder)
    named = {entry.file: entry for entry in manifest.clips.values()}
    olds = sorted({*folder.glob(f"*{OLD_SUFFIX}"), *(folder / f for f in named if f.endswith(OLD_SUFFIX))})
    results = []
    for old in olds:
        mov = old.with_suffix(".mov")
        result = _convert(old, mov) if old.is_file() else Converted(old, "failed", f"{old}: not found")
        results.append(result)
        entry = named.get(old.name)
        if entry is not None and result.status != "failed":
            entry.file, entry.codec = mov.name, "hap"
    if manifest.clips:
        save_manifest(folder, manifest)
    return results
