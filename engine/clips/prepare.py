"""`halation prepare`: turn AI clips into performance clips, once, before the gig.

Each source is decoded and conformed to the show's size and frame rate, described on torch (brightness,
colour, palette, motion, flicker, cuts), looped seamlessly (or set to ping-pong), optionally deflickered,
BC1-compressed on torch and written as HAP frames (.hlclip) next to a clips.json manifest.
Unchanged sources (same sha256, same settings) are skipped; an unreadable file is reported and the rest go on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from engine.clips.clipfile import ClipHeader, write_clip
from engine.clips.conform import IMAGE_SUFFIXES, conform
from engine.clips.describe import describe, device, thumbnails
from engine.clips.dxt import encode_bc1
from engine.clips.hap import encode_frame
from engine.clips.loop import deflicker, loop_frames, plan_loop
from engine.clips.manifest import ClipEntry, load_manifest, read_provenance, save_manifest
from engine.errors import HalationError

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv", ".avi", ".gif", ".m4v", ".mpg", ".mpeg", ".ogv", ".webp"}
ENCODE_BATCH = 16


@dataclass(frozen=True)
class PrepareSettings:
    size: tuple[int, int] = (1280, 720)
    fps: float = 30.0
    policy: str = "fill"
    deflicker: bool = False

    def as_dict(self) -> dict:
        d = asdict(self)
        d["size"] = list(self.size)
        return d


@dataclass(frozen=True)
class Outcome:
    source: Path
    status: str  # "prepared", "skipped", "failed"
    message: str = ""


def find_sources(paths: Iterable[Path]) -> list[Path]:
    """Video files, found recursively in folders; a folder holding only images is one image-sequence clip."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            entries = sorted(path.iterdir())
            videos = [p for p in entries if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES]
            images = [
                p for p in entries if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES - VIDEO_SUFFIXES
            ]
            if images and not videos:
                found.append(path)
            found.extend(videos)
            found.extend(find_sources(p for p in entries if p.is_dir()))
        else:
            raise HalationError(f"{path}: not found")
    return found


def sha256_of(source: Path) -> str:
    h = hashlib.sha256()
    files = sorted(p for p in source.iterdir() if p.is_file()) if source.is_dir() else [source]
    for f in files:
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def clip_name(source: Path, taken: set[str]) -> str:
    base = "".join(c if c.isalnum() or c in "-_" else "_" for c in source.stem) or "clip"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def encode_hap(frames: np.ndarray, dev: torch.device) -> Iterator[bytes]:
    """HAP frames stored bottom row first (OpenGL's order), so they upload without any flipping."""
    for i in range(0, len(frames), ENCODE_BATCH):
        batch = torch.from_numpy(np.ascontiguousarray(frames[i : i + ENCODE_BATCH, ::-1])).to(dev)
        for bc1 in encode_bc1(batch):
            yield encode_frame(bc1.tobytes())


def dxt_size(size: tuple[int, int]) -> tuple[int, int]:
    """BC1 works on 4x4 blocks: round the stored size up to multiples of 4."""
    return (size[0] + 3) // 4 * 4, (size[1] + 3) // 4 * 4


def prepare_one(source: Path, out_dir: Path, name: str, digest: str, settings: PrepareSettings) -> ClipEntry:
    dev = device()
    stored = dxt_size(settings.size)
    clip = conform(source, stored, settings.fps, settings.policy)
    thumbs = thumbnails(clip.frames, dev)
    plan = plan_loop(thumbs, clip.fps)
    frames = loop_frames(clip.frames, plan)
    if settings.deflicker:
        frames = deflicker(frames)
    desc = describe(thumbs[plan.start : plan.end])
    file = f"{name}.hlclip"
    header = ClipHeader(width=stored[0], height=stored[1], fps=clip.fps, frames=len(frames))
    write_clip(out_dir / file, header, encode_hap(frames, dev))
    return ClipEntry(
        name=name,
        file=file,
        source={"path": str(source.resolve()), "sha256": digest},
        duration=round(len(frames) / clip.fps, 4),
        fps=clip.fps,
        size=stored,
        loop={
            "mode": plan.mode,
            "frames": len(frames),
            "start": plan.start,
            "end": plan.end,
            "crossfade": plan.crossfade,
            "seam": round(plan.seam, 3) if plan.seam != float("inf") else None,
        },
        descriptors={**asdict(desc), "palette": list(desc.palette), "cuts": list(desc.cuts)},
        provenance=read_provenance(source),
        settings=settings.as_dict(),
    )


def prepare(sources: list[Path], out_dir: Path, settings: PrepareSettings, progress=None) -> list[Outcome]:
    """Prepare every source into out_dir; returns one outcome per source (never stops at a bad file)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(out_dir)
    outcomes = []
    for source in sources:
        try:
            digest = sha256_of(source)
            known = manifest.by_source_hash(digest)
            if known and known.settings == settings.as_dict() and (out_dir / known.file).is_file():
                outcomes.append(Outcome(source, "skipped", f"unchanged ({known.name})"))
                continue
            if known:
                del manifest.clips[known.name]
            name = clip_name(source, set(manifest.clips))
            manifest.clips[name] = prepare_one(source, out_dir, name, digest, settings)
            save_manifest(out_dir, manifest)
            outcomes.append(Outcome(source, "prepared", name))
        except HalationError as exc:
            outcomes.append(Outcome(source, "failed", str(exc)))
        except Exception as exc:  # a decoder crash on one file must not stop the batch
            log.debug("prepare failed", exc_info=True)
            outcomes.append(Outcome(source, "failed", f"{source}: {type(exc).__name__}: {exc}"))
        if progress is not None:
            progress.update(1)
    save_manifest(out_dir, manifest)
    return outcomes
