"""Frames → HAP texture planes: HAP (DXT1), HAP Alpha (DXT5), HAP Q (scaled YCoCg in DXT5).

Two well-kept block compressors behind one setting: etcpak (fast: 0.7 ms a 720p BC1 frame with its SSE4.1
build, see etcpak_module; it holds the GIL, but the swscale, OpenCV and snappy work around it does not, so
frames encode on every core) and quicktex (about 3 dB better, one core, ~20x slower). `auto` uses etcpak
for HAP and HAP Alpha, where the show needs the speed, and quicktex for HAP Q, which is chosen for its
quality. The torch BC1 encoder of earlier versions stays selectable for comparison (`halation bench clips`).
HAP Q stores Co, Cg and a per-block scale in DXT5's colour and luma in its alpha block (van Waveren and
Castaño, "Real-Time YCoCg-DXT Compression"), which keeps about 4-6 dB more detail than DXT1 at twice the size.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np

from engine.clips.hap import HapImage, encode_frame

T = TypeVar("T")

CODECS = ("hap", "hap-alpha", "hap-q", "auto")
ENCODERS = ("auto", "etcpak", "quicktex", "torch")
CODEC_TAG = {"hap": "Hap1", "hap-alpha": "Hap5", "hap-q": "HapY"}
FORMATS = {"hap": ("dxt1",), "hap-alpha": ("dxt5",), "hap-q": ("ycocg-dxt5",)}
QUICKTEX_LEVEL = 0  # quicktex's fastest preset: its higher levels gained under 0.1 dB on AI clips
AUTO_DETAIL_DB = 36.0  # auto: below this DXT1 PSNR on a sample frame the clip is HAP Q material
TORCH_BATCH = 16
SIMD_CHECKED = ("compress_bc1", "compress_bc3")  # what prepare uses, checked against the plain build


def rgba(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3|4) uint8 → contiguous (H, W, 4); opaque when there was no alpha."""
    if frame.shape[-1] == 4:
        return np.ascontiguousarray(frame)
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2RGBA)


def scaled_ycocg(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB (H, W multiples of 4) → (H, W, 4) uint8 (Co, Cg, scale, Y) for a DXT5 encoder.

    Each 4x4 block's chroma is scaled up by 2 or 4 when it is small, so DXT5's 5:6:5 endpoints keep it."""
    h, w = frame.shape[:2]
    r, g, b = (frame[..., i].astype(np.int32) for i in range(3))
    y = (r + 2 * g + b + 2) >> 2
    co = ((2 * r - 2 * b + 2) >> 2) + 128
    cg = ((-r + 2 * g - b + 2) >> 2) + 128
    reach = np.maximum(np.abs(co - 128), np.abs(cg - 128))
    reach = reach.reshape(h // 4, 4, w // 4, 4).max(axis=(1, 3))
    scale = np.where(reach <= 31, 4, np.where(reach <= 63, 2, 1))
    scale = np.repeat(np.repeat(scale, 4, 0), 4, 1)
    out = np.empty((h, w, 4), np.uint8)
    out[..., 0] = np.clip((co - 128) * scale + 128, 0, 255)
    out[..., 1] = np.clip((cg - 128) * scale + 128, 0, 255)
    out[..., 2] = (scale - 1) << 3
    out[..., 3] = np.clip(y, 0, 255)
    return out


def _texels(frame: np.ndarray, fmt: str) -> np.ndarray:
    """What the block compressor is given: RGBA, or HAP Q's (Co, Cg, scale, Y)."""
    return scaled_ycocg(frame[..., :3]) if fmt == "ycocg-dxt5" else rgba(frame)


@functools.cache
def etcpak_module():
    """etcpak's SSE4.1 build where the CPU has SSE4.1, else the package as it imports.

    etcpak 0.9.15's wheels name their SIMD builds for CPython 3.7 (`_etcpak_sse41.cpython-37m-….so`, though
    they use only the stable ABI), so no newer Python imports them and the package silently falls back to
    its plain C++ build: 3.9 ms a 720p BC1 frame here, 0.7 ms with SSE4.1, whose BC1 and BC3 were bit for
    bit the plain build's on every real frame tried (AI clips, testsrc2, film grain up to sigma 60; only
    uniform full-range noise differs). The AVX2 and AVX-512 builds encode BC1 differently, so are not used.
    Loaded by its file and checked against the plain build on a grainy gradient; anything amiss keeps the
    plain build."""
    import importlib.machinery
    import importlib.util

    import etcpak

    name = "etcpak._etcpak_sse41"
    if "etcpak._etcpak_none" not in sys.modules or "sse4_1" not in etcpak.local_host.features:
        return etcpak  # a wheel whose SIMD build imports (the plain one is then never imported), or no SSE4.1
    files = sorted(Path(etcpak.__file__).parent.glob("_etcpak_sse41.*.so"))
    try:
        loader = importlib.machinery.ExtensionFileLoader(name, str(files[0]))
        simd = importlib.util.module_from_spec(
            importlib.util.spec_from_file_location(name, files[0], loader=loader)
        )
        loader.exec_module(simd)
        probe = _probe_picture()
        same = all(getattr(simd, f)(probe, 64, 32) == getattr(etcpak, f)(probe, 64, 32) for f in SIMD_CHECKED)
    except (IndexError, ImportError, OSError, AttributeError, TypeError, ValueError):
        return etcpak
    return simd if same else etcpak


def _probe_picture() -> np.ndarray:
    """A 64x32 RGBA gradient with film grain: what real frames look like to a block compressor."""
    y, x = np.mgrid[0:32, 0:64]
    base = np.stack([4 * x, 8 * y, 255 - 3 * x, np.full_like(x, 255)], -1).astype(np.float32)
    grain = np.random.default_rng(7).normal(0, 20, base.shape) * (np.arange(4) < 3)
    return np.ascontiguousarray(np.clip(base + grain, 0, 255).astype(np.uint8))


def _etcpak_plane(frame: np.ndarray, fmt: str) -> bytes:
    etcpak = etcpak_module()
    h, w = frame.shape[:2]
    compress = etcpak.compress_bc1 if fmt == "dxt1" else etcpak.compress_bc3
    return compress(_texels(frame, fmt), w, h)


def _quicktex_plane(frame: np.ndarray, fmt: str) -> bytes:
    import quicktex
    from quicktex.s3tc.bc1 import BC1Encoder
    from quicktex.s3tc.bc3 import BC3Encoder

    h, w = frame.shape[:2]
    encoder = BC1Encoder(QUICKTEX_LEVEL) if fmt == "dxt1" else BC3Encoder(QUICKTEX_LEVEL)
    return encoder.encode(quicktex.RawTexture.frombytes(_texels(frame, fmt).tobytes(), w, h)).tobytes()


def resolve_encoder(encoder: str, codec: str) -> str:
    """`auto`: quicktex for HAP Q (when installed), etcpak otherwise."""
    if encoder != "auto":
        return encoder
    if codec == "hap-q":
        try:
            import quicktex  # noqa: F401

            return "quicktex"
        except ImportError:
            pass
    return "etcpak"


def _torch_planes(jobs: Iterator[Callable[[], np.ndarray]]) -> Iterator[HapImage]:
    import torch

    from engine.clips.dxt import encode_bc1

    while batch := list(itertools.islice(jobs, TORCH_BATCH)):
        rgb = None
        for k, job in enumerate(batch):  # copied one by one: a stored frame's render buffer is reused
            frame = job()
            if rgb is None:
                rgb = np.empty((len(batch), *frame.shape[:2], 3), np.uint8)
            rgb[k] = frame[..., :3]
        for bc1 in encode_bc1(torch.from_numpy(rgb)):
            yield HapImage(("dxt1",), (bc1.tobytes(),))


def frame_jobs(frames) -> Iterator[Callable[[], np.ndarray]]:
    """One call per frame that renders it: a StoredFrames' own jobs (a video read again decodes as they are
    taken), or indexing for plain sequences of frames."""
    if hasattr(frames, "jobs"):
        return frames.jobs()
    return (partial(frames.__getitem__, i) for i in range(len(frames)))


def _encoded(frames: Sequence[np.ndarray], codec: str, encoder: str, finish: Callable[[HapImage], T]):
    """`finish(planes)` of each frame, in order. etcpak: each frame is rendered (a stored frame's recipe;
    a video read again is converted by swscale then), compressed and finished on a worker thread, every
    core busy (swscale, OpenCV and snappy release the GIL; etcpak is brief); only the results come back to the
    caller's thread, which takes the jobs (decoding, for a video read again) and muxes."""
    if codec not in FORMATS:
        raise ValueError(f"codec must be one of {', '.join(FORMATS)}")
    encoder = resolve_encoder(encoder, codec)
    if encoder == "torch":
        if codec != "hap":
            raise ValueError("the torch encoder makes DXT1 (--codec hap) only")
        yield from map(finish, _torch_planes(frame_jobs(frames)))
        return
    if encoder not in ("etcpak", "quicktex"):
        raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}")
    fmt = FORMATS[codec][0]
    compress = _etcpak_plane if encoder == "etcpak" else _quicktex_plane

    def job(render: Callable[[], np.ndarray]) -> T:
        return finish(HapImage((fmt,), (compress(render(), fmt),)))

    workers = max(1, min(4, os.cpu_count() or 1)) if encoder == "etcpak" else 1  # quicktex holds the GIL
    with ThreadPoolExecutor(workers, thread_name_prefix="halation-encode") as pool:
        pending: deque = deque()
        for render in frame_jobs(frames):  # a bounded window: finished frames never pile up in memory
            pending.append(pool.submit(job, render))
            if len(pending) > 4 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def encode_planes(frames: Sequence[np.ndarray], codec: str, encoder: str = "auto") -> Iterator[HapImage]:
    """Texture planes for each (H, W, 3|4) uint8 frame (top row first), in order."""
    return _encoded(frames, codec, encoder, lambda image: image)


def encoded_frames(frames: Sequence[np.ndarray], codec: str, encoder: str = "auto") -> Iterator[bytes]:
    """Whole HAP frames (texture planes + snappy), in order: what a .mov stores."""
    return _encoded(frames, codec, encoder, encode_frame)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two uint8 pictures (RGB compared)."""
    mse = float(np.mean((a[..., :3].astype(np.float64) - b[..., :3].astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def has_alpha(frames: np.ndarray) -> bool:
    """Frames that carry transparency (an alpha channel that is not everywhere opaque)."""
    return frames.shape[-1] == 4 and int(frames[..., 3].min()) < 250


def choose_codec(frames: Sequence[np.ndarray], alpha: bool | None = None) -> str:
    """`--codec auto`: alpha is kept (HAP Alpha); otherwise HAP Q when DXT1 loses too much of the detail
    (measured on the middle frame), else HAP, half the size. `alpha`: whether the clip has transparency,
    when the caller knows (else the frames are looked at)."""
    if has_alpha(frames) if alpha is None else alpha:
        return "hap-alpha"
    from engine.clips.blocks import decode_bc1

    middle = np.ascontiguousarray(frames[len(frames) // 2][..., :3])
    h, w = middle.shape[:2]
    quality = psnr(decode_bc1(_etcpak_plane(middle, "dxt1"), w, h), middle)
    return "hap-q" if quality < AUTO_DETAIL_DB else "hap"
