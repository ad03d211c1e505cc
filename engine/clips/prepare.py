"""`halation prepare`: turn AI clips into performance clips, once, before the gig.

Each source is decoded and conformed to the show's size and frame rate (alpha kept when it has some; a
video is decoded twice, once for its small copies and once for the encoder, rather than held whole),
described on torch (brightness, colour, palette, motion, flicker, cuts), looped seamlessly (or set to
ping-pong), stretched with motion-interpolated in-betweens when it must span more beats than it has frames
for, deflickered (measured; deliberate strobes untouched), compressed with etcpak and written as a standard
HAP .mov (HAP, HAP Alpha or HAP Q) next to a clips.json manifest.
Unchanged sources (same sha256, same settings) are skipped; an unreadable file is reported and the rest go on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from engine.clips.conform import IMAGE_SUFFIXES, Conformed, conform
from engine.clips.deflicker import deflicker, deflicker_stored
from engine.clips.describe import describe, device, thumbnails
from engine.clips.encode import CODEC_TAG, choose_codec
from engine.clips.loop import LoopPlan, loop_frames, plan_loop
from engine.clips.manifest import ClipEntry, load_manifest, read_provenance, save_manifest
from engine.clips.movfile import write_mov
from engine.clips.passthrough import CODEC_OF_FORMATS, hap_frames, open_hap_source
from engine.clips.stored import StoredFrames, loop_recipe
from engine.clips.stretch import beats_seconds, frame_count, stretch
from engine.errors import HalationError

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv", ".avi", ".gif", ".m4v", ".mpg", ".mpeg", ".ogv", ".webp"}
DEFAULT_STRETCH_BPM = 120.0


@dataclass(frozen=True)
class PrepareSettings:
    size: tuple[int, int] = (1280, 720)
    fps: float = 30.0
    policy: str = "fill"
    deflicker: bool = True
    codec: str = "auto"  # hap | hap-alpha | hap-q | auto
    encoder: str = "auto"  # auto | etcpak | quicktex | torch (DXT1 only, the encoder of earlier versions)
    stretch_beats: float | None = None  # the clip will span this many beats…
    stretch_bpm: float = DEFAULT_STRETCH_BPM  # …at this tempo: in-betweens so no frame repeats

    def as_dict(self) -> dict:
        d = asdict(self)
        d["size"] = list(self.size)
        return d

    def with_bank(self, bank: dict) -> PrepareSettings:
        """The folder's own settings (clips.json "bank") fill in what the command line left out."""
        if self.stretch_beats is None and bank.get("stretch_beats"):
            return PrepareSettings(
                **{
                    **asdict(self),
                    "stretch_beats": float(bank["stretch_beats"]),
                    "stretch_bpm": float(bank.get("stretch_bpm", DEFAULT_STRETCH_BPM)),
                }
            )
        return self


@dataclass(frozen=True)
class Outcome:
    source: Path
    status: str  # "prepared", "skipped", "failed"
    message: str = ""
    summary: str = ""  # one line for the operator: codec, frames, flicker before → after


def summary_of(entry: ClipEntry) -> str:
    d, loop = entry.descriptors, entry.loop
    w, h = entry.size
    parts = [f"{entry.name}: {entry.codec} {w}x{h} {loop['frames']} frames ({loop['mode']})"]
    if "stretch" in loop:
        s = loop["stretch"]
        parts.append(
            f"stretched {s['source_frames']} → {s['frames']} frames "
            f"for {s['beats']:g} beats at {s['bpm']:g} BPM"
        )
    if "flicker_before" in d:
        parts.append(f"flicker {d['flicker_before']:.4f} → {d['flicker_after']:.4f}")
    return ", ".join(parts)


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


def dxt_size(size: tuple[int, int]) -> tuple[int, int]:
    """BC1 works on 4x4 blocks: round the stored size up to multiples of 4."""
    return (size[0] + 3) // 4 * 4, (size[1] + 3) // 4 * 4


def _deflicker_report(flicker) -> dict:
    return {
        "flicker_before": round(flicker.before, 5),
        "flicker_after": round(flicker.after, 5),
        "frames_corrected": flicker.corrected,
        "flashes_kept": flicker.flashes,
    }


def stored_frames(frames: np.ndarray, plan_mode: str, settings: PrepareSettings, origins=None):
    """Looped frames → what is stored: stretched over the beats asked for (from the source's own frames to
    the show's frame rate), then deflickered. With `origins` (the source frame each one is, -1 for none),
    returns them too, with -1 for every frame that changed."""
    wrap = plan_mode == "loop"
    report = {}
    origins = np.full(len(frames), -1) if origins is None else origins.copy()
    if settings.stretch_beats:
        count = frame_count(beats_seconds(settings.stretch_beats, settings.stretch_bpm), settings.fps)
        frames, done = stretch(frames, count, wrap=wrap)
        if len(frames) > count:  # long enough already: pick the frames the show's rate needs
            frames = frames[np.linspace(0, len(frames), count, endpoint=False).astype(np.int64)]
        origins = np.full(len(frames), -1)  # in-betweens, and their neighbours retimed: all new
        report["stretch"] = {
            "beats": settings.stretch_beats,
            "bpm": settings.stretch_bpm,
            "source_frames": done.source_frames,
            "frames": done.frames,
            "crossfaded": done.fallback,
        }
    if settings.deflicker:
        frames, flicker = deflicker(frames, wrap=wrap, copy=False)  # the looped frames are ours to change
        report["deflicker"] = _deflicker_report(flicker)
        origins[list(flicker.changed)] = -1
    return frames, report, origins


def frames_to_store(clip: Conformed, plan: LoopPlan, settings: PrepareSettings):
    """(stored frames, what was done to them, the decoded frame each untouched one is or -1).

    Stretching builds new frames, so the looped clip is copied out and stretched. Otherwise the stored
    frames stay recipes over the decoded buffer (loop seam crossfade, deflicker gains), measured on the
    small copies and rendered by the encode workers: nothing full-size is copied or touched here."""
    if settings.stretch_beats:
        frames, report, origins = stored_frames(loop_frames(clip.frames, plan), plan.mode, settings)
        return StoredFrames.of(frames), report, origins
    stored = StoredFrames(clip.decoded, loop_recipe(plan, clip.origins()), clip.small)
    report = {}
    if settings.deflicker:
        stored, flicker = deflicker_stored(stored, wrap=plan.mode == "loop")
        report["deflicker"] = _deflicker_report(flicker)
    return stored, report, np.where(stored.recipe.untouched(), stored.recipe.first, -1)


@contextmanager
def one_torch_thread(dev):
    """The descriptors work on 32x18 thumbnails: on a CPU, torch's thread pool only adds spin-waits (it cost
    20x the CPU time on a shared 2-core machine); the torch encoder keeps every thread outside this."""
    before = torch.get_num_threads()
    if dev.type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def write_clip(
    source: Path,
    path: Path,
    frames: StoredFrames,
    origins: np.ndarray,
    settings: PrepareSettings,
    clip: Conformed,
) -> str:
    """Encode and mux the stored frames as a HAP .mov; returns the codec. A HAP library clip keeps its
    variant and the packets of the frames left as they were (see passthrough.py)."""
    stored = dxt_size(settings.size)
    hap_source = open_hap_source(source)
    try:
        codec = settings.codec
        if codec == "auto":  # a HAP library clip keeps its variant; anything else is chosen by its look
            codec = (
                CODEC_OF_FORMATS[hap_source.formats]
                if hap_source
                else choose_codec([clip.sample()], clip.alpha)
            )
        hap = hap_frames(frames, origins, codec, settings.encoder, hap_source, stored)
        write_mov(path, stored, settings.fps, CODEC_TAG[codec], hap)
    finally:
        if hap_source is not None:
            hap_source.close()
    return codec


def prepare_one(source: Path, out_dir: Path, name: str, digest: str, settings: PrepareSettings) -> ClipEntry:
    dev = device()
    stored = dxt_size(settings.size)
    # Stretching starts from the source's frames, all in memory; otherwise a video is read twice (reread.py).
    rate, whole = (None, True) if settings.stretch_beats else (settings.fps, False)
    clip = conform(source, stored, rate, settings.policy, whole=whole)
    file = f"{name}.mov"
    with one_torch_thread(dev), ThreadPoolExecutor(1, thread_name_prefix="halation-describe") as side:
        thumbs = thumbnails(clip.small[clip.origins()], dev)
        plan = plan_loop(thumbs, clip.fps)
        described = side.submit(describe, thumbs[plan.start : plan.end])  # beside the encoding
        frames, report, origins = frames_to_store(clip, plan, settings)
        codec = write_clip(source, out_dir / file, frames, origins, settings, clip)
        desc = described.result()
    fps = settings.fps
    return ClipEntry(
        name=name,
        file=file,
        source={"path": str(source.resolve()), "sha256": digest},
        duration=round(len(frames) / fps, 4),
        fps=fps,
        size=stored,
        loop={
            "mode": plan.mode,
            "frames": len(frames),
            "start": plan.start,
            "end": plan.end,
            "crossfade": plan.crossfade,
            "seam": round(plan.seam, 3) if plan.seam != float("inf") else None,
            **({"stretch": report["stretch"]} if "stretch" in report else {}),
        },
        descriptors={
            **asdict(desc),
            "palette": list(desc.palette),
            "cuts": list(desc.cuts),
            **report.get("deflicker", {}),
        },
        provenance=read_provenance(source),
        settings=settings.as_dict(),
        codec=codec,
    )


def prepare(sources: list[Path], out_dir: Path, settings: PrepareSettings, progress=None) -> list[Outcome]:
    """Prepare every source into out_dir; returns one outcome per source (never stops at a bad file)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(out_dir)
    if settings.stretch_beats:  # remembered for the folder: later prepares into this bank stretch too
        manifest.bank.update(stretch_beats=settings.stretch_beats, stretch_bpm=settings.stretch_bpm)
    settings = settings.with_bank(manifest.bank)
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
            entry = manifest.clips[name] = prepare_one(source, out_dir, name, digest, settings)
            save_manifest(out_dir, manifest)
            outcomes.append(Outcome(source, "prepared", name, summary_of(entry)))
        except HalationError as exc:
            outcomes.append(Outcome(source, "failed", str(exc)))
        except Exception as exc:  # a decoder crash on one file must not stop the batch
            log.debug("prepare failed", exc_info=True)
            outcomes.append(Outcome(source, "failed", f"{source}: {type(exc).__name__}: {exc}"))
        if progress is not None:
            progress.update(1)
    save_manifest(out_dir, manifest)
    return outcomes
