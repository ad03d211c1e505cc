"""HAP frames, as the Vidvox spec (github.com/Vidvox/hap, HapVideoDRAFT.md) defines them.

A frame is one top-level section: a 4-byte header (24-bit little-endian size, type byte), or 8 bytes when the
size does not fit (three zero bytes, the type, then a 32-bit size). The type's high nibble is the second-stage
compressor (0xA none, 0xB snappy, 0xC decode instructions: the data is cut into chunks, each compressed on its
own), the low nibble the texture format. 0x0D holds several images: HAP Q Alpha is scaled YCoCg DXT5 plus an
RGTC1 alpha plane. Texture data stays compressed: the GPU samples it directly (see render/cliptexture.py).
"""

from __future__ import annotations

import os
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cramjam

from engine.runtime.pool import BufferPool

NONE, SNAPPY, CHUNKED = 0xA, 0xB, 0xC
MULTIPLE_IMAGES = 0x0D
DECODE_INSTRUCTIONS, CHUNK_COMPRESSORS, CHUNK_SIZES, CHUNK_OFFSETS = 0x01, 0x02, 0x03, 0x04

# Texture formats by the low nibble of the section type, and their bytes per 4x4 block.
FORMATS = {0x0B: "dxt1", 0x0E: "dxt5", 0x0F: "ycocg-dxt5", 0x01: "rgtc1", 0x0C: "bc7"}
FORMAT_CODES = {name: code for code, name in FORMATS.items()}
BLOCK_BYTES = {"dxt1": 8, "dxt5": 16, "ycocg-dxt5": 16, "rgtc1": 8, "bc7": 16}

# QuickTime four-character codes (the spec's "Names and Identifiers") and what each frame holds.
CODEC_TAGS = {
    "Hap1": ("dxt1",),
    "Hap5": ("dxt5",),
    "HapY": ("ycocg-dxt5",),
    "HapM": ("ycocg-dxt5", "rgtc1"),
    "HapA": ("rgtc1",),
    "Hap7": ("bc7",),
}


class HapError(ValueError):
    """A frame that is not valid HAP (damaged, truncated or not HAP at all)."""


@dataclass(frozen=True)
class HapImage:
    """One frame's texture planes, still block-compressed. `top_down`: the first block row is the top of
    the picture (every HAP file); the .hlclip files of earlier versions stored the bottom row first."""

    formats: tuple[str, ...]
    planes: tuple[bytes | bytearray, ...]  # read frames: bytearrays the snappy data was unpacked into
    top_down: bool = True

    @property
    def has_alpha(self) -> bool:
        return "dxt5" in self.formats or "rgtc1" in self.formats


def texture_bytes(fmt: str, size: tuple[int, int]) -> int:
    """Bytes of one plane of this format at this picture size (blocks cover partial edges)."""
    return ((size[0] + 3) // 4) * ((size[1] + 3) // 4) * BLOCK_BYTES[fmt]


# --- reading ---------------------------------------------------------------------------------------------


def _section(data: memoryview, offset: int) -> tuple[int, int, int]:
    """(type, data start, data end) of the section at `offset`."""
    if offset + 4 > len(data):
        raise HapError("section header runs past the end of the frame")
    size = data[offset] | data[offset + 1] << 8 | data[offset + 2] << 16
    kind, start = data[offset + 3], offset + 4
    if size == 0:
        if offset + 8 > len(data):
            raise HapError("section header runs past the end of the frame")
        (size,) = struct.unpack_from("<I", data, offset + 4)
        start = offset + 8
    if start + size > len(data):
        raise HapError("section runs past the end of the frame (truncated?)")
    return kind, start, start + size


def _sections(data: memoryview, start: int, end: int) -> dict[int, tuple[int, int]]:
    """The sections between start and end, by type."""
    found, offset = {}, start
    while offset < end:
        kind, a, b = _section(data[:end], offset)
        found[kind] = (a, b)
        offset = b
    return found


def _output_length(compressor: int, chunk: memoryview) -> int:
    """Bytes a chunk unpacks to (snappy says so in its first bytes)."""
    if compressor == SNAPPY:
        try:
            return int(cramjam.snappy.decompress_raw_len(chunk))
        except cramjam.DecompressionError as exc:
            raise HapError(f"damaged snappy data ({exc})") from exc
    if compressor == NONE:
        return len(chunk)
    raise HapError(f"unknown second-stage compressor 0x{compressor:X}")


def _unpack_into(compressor: int, chunk: memoryview, out: memoryview) -> None:
    """Unpack one chunk straight into its place in the texture buffer (no intermediate copy)."""
    if compressor == NONE:
        out[:] = chunk
        return
    try:
        written = cramjam.snappy.decompress_raw_into(chunk, out)
    except cramjam.DecompressionError as exc:
        raise HapError(f"damaged snappy data ({exc})") from exc
    if written != len(out):
        raise HapError("snappy data unpacks to the wrong size")


def _chunk_pool() -> ThreadPoolExecutor:
    """Chunks of one frame unpack in parallel (snappy releases the GIL), so a big chunked frame is ready
    sooner; one pool for every deck."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max(2, min(4, os.cpu_count() or 1)), thread_name_prefix="halation-snappy")
    return _POOL


_POOL: ThreadPoolExecutor | None = None
PARALLEL_BYTES = 256 * 1024  # below this a frame unpacks faster on one thread than handed to a pool
MAX_PLANE_BYTES = 1 << 28  # no texture plane is larger (16K x 16K DXT5)


def _unpack(pieces: list[tuple[int, memoryview]], expected: int | None, pool: BufferPool | None) -> bytearray:
    """(compressor, data) chunks → one buffer, each chunk unpacked into its own slice. `expected`: the
    plane's size, checked before anything is allocated (random bytes can claim any length). `pool`: the
    buffer comes from it (a show reads a plane of the same size every frame)."""
    lengths = [_output_length(c, d) for c, d in pieces]
    total = sum(lengths)
    if total != (expected if expected is not None else min(total, MAX_PLANE_BYTES)):
        raise HapError(f"texture plane is {total} bytes, {expected or MAX_PLANE_BYTES} expected")
    out = pool.take(total) if pool is not None else bytearray(total)
    view = memoryview(out)
    starts = [sum(lengths[:i]) for i in range(len(lengths))]
    jobs = [(c, d, view[a : a + n]) for (c, d), a, n in zip(pieces, starts, lengths, strict=True)]
    if len(jobs) > 1 and len(out) >= PARALLEL_BYTES:
        list(_chunk_pool().map(lambda job: _unpack_into(*job), jobs))
    else:
        for job in jobs:
            _unpack_into(*job)
    return out


def _chunked(
    data: memoryview, start: int, end: int, expected: int | None, pool: BufferPool | None
) -> bytearray:
    """Frame data split into chunks, each with its own compressor (the spec's decode instructions)."""
    kind, a, b = _section(data[:end], start)
    if kind != DECODE_INSTRUCTIONS:
        raise HapError(f"expected decode instructions, found section 0x{kind:02X}")
    table = _sections(data, a, b)
    if CHUNK_COMPRESSORS not in table or CHUNK_SIZES not in table:
        raise HapError("decode instructions without a compressor and size table")
    compressors = bytes(data[slice(*table[CHUNK_COMPRESSORS])])
    sa, sb = table[CHUNK_SIZES]
    sizes = struct.unpack(f"<{(sb - sa) // 4}I", data[sa:sb])
    if len(sizes) != len(compressors):
        raise HapError("decode instruction tables disagree on the chunk count")
    if CHUNK_OFFSETS in table:
        oa, ob = table[CHUNK_OFFSETS]
        offsets = struct.unpack(f"<{(ob - oa) // 4}I", data[oa:ob])
    else:
        offsets = tuple(sum(sizes[:i]) for i in range(len(sizes)))
    body = b
    pieces = []
    for compressor, size, offset in zip(compressors, sizes, offsets, strict=False):
        if body + offset + size > end:
            raise HapError("chunk runs past the end of the frame (truncated?)")
        pieces.append((compressor, data[body + offset : body + offset + size]))
    return _unpack(pieces, expected, pool)


def _image(data: memoryview, kind: int, start: int, end: int, size, pool) -> tuple[str, bytearray]:
    fmt = FORMATS.get(kind & 0x0F)
    if fmt is None or kind >> 4 not in (NONE, SNAPPY, CHUNKED):
        raise HapError(f"unsupported HAP section type 0x{kind:02X}")
    expected = texture_bytes(fmt, size) if size is not None else None
    if kind >> 4 == CHUNKED:
        return fmt, _chunked(data, start, end, expected, pool)
    return fmt, _unpack([(kind >> 4, data[start:end])], expected, pool)


def decode_frame(
    frame: bytes | bytearray | memoryview, size: tuple[int, int] | None = None, pool: BufferPool | None = None
) -> HapImage:
    """The texture planes of one HAP frame; with `size`, each plane's length is checked against it, so
    random bytes that happen to parse are refused rather than drawn. `pool`: the planes' buffers come
    from it (engine/runtime/pool.py)."""
    data = memoryview(frame)
    kind, start, end = _section(data, 0)
    if kind == MULTIPLE_IMAGES:
        inner = _sections(data, start, end)
        colour_first = sorted(inner.items(), key=lambda kv: FORMATS.get(kv[0] & 0x0F) == "rgtc1")
        images = [_image(data, k, a, b, size, pool) for k, (a, b) in colour_first]
    else:
        images = [_image(data, kind, start, end, size, pool)]
    if not images:
        raise HapError("frame holds no image")
    return HapImage(tuple(f for f, _ in images), tuple(p for _, p in images))


# --- writing ---------------------------------------------------------------------------------------------


def section(kind: int, body: bytes) -> bytes:
    """A section header (4 bytes, or 8 when the size needs more than 24 bits) and its data."""
    if 0 < len(body) <= 0xFFFFFF:
        return struct.pack("<I", len(body) | kind << 24) + body
    return struct.pack("<II", kind << 24, len(body)) + body


def _compressed(fmt: str, texture: bytes, chunks: int) -> bytes:
    """One image section: snappy over the whole texture, or over `chunks` block-aligned pieces."""
    code = FORMAT_CODES[fmt]
    if chunks <= 1:
        return section(SNAPPY << 4 | code, bytes(cramjam.snappy.compress_raw(texture)))
    step = -(-len(texture) // chunks // BLOCK_BYTES[fmt]) * BLOCK_BYTES[fmt]
    pieces = [bytes(cramjam.snappy.compress_raw(texture[i : i + step])) for i in range(0, len(texture), step)]
    instructions = section(CHUNK_COMPRESSORS, bytes([SNAPPY]) * len(pieces)) + section(
        CHUNK_SIZES, struct.pack(f"<{len(pieces)}I", *map(len, pieces))
    )
    return section(CHUNKED << 4 | code, section(DECODE_INSTRUCTIONS, instructions) + b"".join(pieces))


def encode_frame(image: HapImage, chunks: int = 1) -> bytes:
    """One HAP frame from texture planes (one plane, or YCoCg DXT5 + RGTC1 alpha for HAP Q Alpha)."""
    parts = [_compressed(f, p, chunks) for f, p in zip(image.formats, image.planes, strict=True)]
    return parts[0] if len(parts) == 1 else section(MULTIPLE_IMAGES, b"".join(parts))
