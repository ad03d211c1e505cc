"""Block-compressed textures decoded on the CPU with numpy: DXT1 (BC1), DXT5 (BC3), RGTC1 (BC4) and HAP Q's
scaled YCoCg. The GPU samples these formats directly; this is for measuring (PSNR against a reference),
for tests that compare with FFmpeg's decode, and for the rare GL without glCompressedTexSubImage2D.
"""

from __future__ import annotations

import numpy as np

from engine.clips.hap import HapImage

_565 = np.array([31.0, 63.0, 31.0])


def _colours(v: np.ndarray) -> np.ndarray:
    """RGB565 → float 0..1, as the S3TC spec expands them."""
    return np.stack([(v >> 11) & 31, (v >> 5) & 63, v & 31], -1) / _565


def _unblock(px: np.ndarray, width: int, height: int) -> np.ndarray:
    """(blocks, 16, C) in row-major block order → (H, W, C), cropped to the picture."""
    bw, bh = (width + 3) // 4, (height + 3) // 4
    img = px.reshape(bh, bw, 4, 4, -1).transpose(0, 2, 1, 3, 4).reshape(bh * 4, bw * 4, -1)
    return img[:height, :width]


def bc1_pixels(blocks: np.ndarray, four_colour: bool = False) -> np.ndarray:
    """(B, 8) uint8 BC1 blocks → (B, 16, 3) float; DXT5's colour blocks always use four colours."""
    words = blocks.view("<u2").reshape(-1, 4)
    c0, c1 = words[:, 0].astype(np.int32), words[:, 1].astype(np.int32)
    bits = words[:, 2].astype(np.uint32) | (words[:, 3].astype(np.uint32) << 16)
    p0, p1 = _colours(c0), _colours(c1)
    four = np.stack([p0, p1, (2 * p0 + p1) / 3, (p0 + 2 * p1) / 3], 1)
    if four_colour:
        palette = four
    else:
        three = np.stack([p0, p1, (p0 + p1) / 2, np.zeros_like(p0)], 1)
        palette = np.where((c0 > c1)[:, None, None], four, three)
    idx = (bits[:, None] >> (np.arange(16, dtype=np.uint32) * 2)) & 3
    return np.take_along_axis(palette, idx[..., None].astype(np.int64), 1)


def bc4_pixels(blocks: np.ndarray) -> np.ndarray:
    """(B, 8) uint8 RGTC1 / DXT5-alpha blocks → (B, 16) float 0..1."""
    a0, a1 = blocks[:, 0].astype(np.float64), blocks[:, 1].astype(np.float64)
    bits = np.zeros(len(blocks), np.uint64)
    for i in range(6):
        bits |= blocks[:, 2 + i].astype(np.uint64) << np.uint64(8 * i)
    k = np.arange(1, 7)[None, :]
    eight = np.concatenate([a0[:, None], a1[:, None], ((7 - k) * a0[:, None] + k * a1[:, None]) / 7], 1)
    k = np.arange(1, 5)[None, :]
    six = np.concatenate(
        [
            a0[:, None],
            a1[:, None],
            ((5 - k) * a0[:, None] + k * a1[:, None]) / 5,
            np.zeros((len(blocks), 1)),
            np.full((len(blocks), 1), 255.0),
        ],
        1,
    )
    palette = np.where((a0 > a1)[:, None], eight, six)
    idx = (bits[:, None] >> (np.arange(16, dtype=np.uint64) * np.uint64(3))) & np.uint64(7)
    return np.take_along_axis(palette, idx.astype(np.int64), 1) / 255.0


def decode_bc1(data: bytes | np.ndarray, width: int, height: int) -> np.ndarray:
    """BC1 data → (H, W, 3) uint8, as a GPU samples it."""
    px = bc1_pixels(np.frombuffer(bytes(data), np.uint8).reshape(-1, 8))
    return np.round(_unblock(px, width, height) * 255).astype(np.uint8)


def _dxt5(data: bytes, width: int, height: int) -> np.ndarray:
    """(H, W, 4) float: DXT5 colour in RGB, its alpha block in A."""
    blocks = np.frombuffer(data, np.uint8).reshape(-1, 16)
    rgb = bc1_pixels(np.ascontiguousarray(blocks[:, 8:]), four_colour=True)
    alpha = bc4_pixels(np.ascontiguousarray(blocks[:, :8]))
    return _unblock(np.concatenate([rgb, alpha[..., None]], -1), width, height)


def ycocg_to_rgb(cocgsy: np.ndarray) -> np.ndarray:
    """HAP Q's scaled YCoCg (Co, Cg, scale, Y in R, G, B, A; 0..1) → RGB 0..1, as Vidvox's shader does."""
    co = cocgsy[..., 0] - 128 / 255
    cg = cocgsy[..., 1] - 128 / 255
    scale = cocgsy[..., 2] * (255 / 8) + 1
    co, cg, y = co / scale, cg / scale, cocgsy[..., 3]
    return np.clip(np.stack([y + co - cg, y + cg, y - co - cg], -1), 0, 1)


def decode_image(image: HapImage, width: int, height: int) -> np.ndarray:
    """A HAP frame's planes → (H, W, 4) uint8 RGBA, top row first."""
    first, plane = image.formats[0], image.planes[0]
    if first == "dxt1":
        rgba = np.concatenate([decode_bc1(plane, width, height) / 255.0, np.ones((height, width, 1))], -1)
    elif first == "dxt5":
        rgba = _dxt5(plane, width, height)
    elif first == "ycocg-dxt5":
        rgba = np.concatenate([ycocg_to_rgb(_dxt5(plane, width, height)), np.ones((height, width, 1))], -1)
    elif first == "rgtc1":
        alpha = bc4_pixels(np.frombuffer(plane, np.uint8).reshape(-1, 8))
        a = _unblock(alpha[..., None], width, height)
        rgba = np.concatenate([np.ones((height, width, 3)), a], -1)
    else:
        raise ValueError(f"no CPU decoder for {first}")
    if len(image.formats) > 1 and image.formats[1] == "rgtc1":
        alpha = bc4_pixels(np.frombuffer(image.planes[1], np.uint8).reshape(-1, 8))
        rgba[..., 3] = _unblock(alpha[..., None], width, height)[..., 0]
    out = np.round(rgba * 255).astype(np.uint8)
    return out if image.top_down else out[::-1]
