"""HAP frames: BC1 (DXT1) texture data, snappy-compressed, behind HAP's 4- or 8-byte section header.

HAP is the VJ standard performance codec: frames decode with one snappy pass and upload to the GPU still
compressed. FFmpeg decodes these frames too (tested), so the bytes are the real format.
"""

from __future__ import annotations

import struct

import cramjam

HAP_DXT1_SNAPPY = 0xBB
HAP_DXT1_NONE = 0xAB


def encode_frame(bc1: bytes) -> bytes:
    """One HAP frame (type DXT1 + snappy) from BC1 data."""
    body = bytes(cramjam.snappy.compress_raw(bytes(bc1)))
    if len(body) <= 0xFFFFFF:
        return struct.pack("<I", len(body) | (HAP_DXT1_SNAPPY << 24)) + body
    return struct.pack("<II", HAP_DXT1_SNAPPY << 24, len(body)) + body


def decode_frame(frame: bytes | memoryview) -> bytes:
    """BC1 data from one HAP DXT1 frame (snappy or uncompressed)."""
    (word,) = struct.unpack_from("<I", frame, 0)
    size, kind, offset = word & 0xFFFFFF, word >> 24, 4
    if size == 0:
        (size,) = struct.unpack_from("<I", frame, 4)
        offset = 8
    body = bytes(frame[offset : offset + size])
    if kind == HAP_DXT1_SNAPPY:
        return bytes(cramjam.snappy.decompress_raw(body))
    if kind == HAP_DXT1_NONE:
        return body
    raise ValueError(f"unsupported HAP section type 0x{kind:02X} (only DXT1 is supported)")
