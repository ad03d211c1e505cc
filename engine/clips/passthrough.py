"""HAP frames that `prepare` leaves as they were keep their packets.

A VJ's HAP or HAP Q library is already compressed; encoding it again costs a generation (about 1.2 dB for
HAP Q). When the source is a HAP file with the codec and size being written, every stored frame that is a
source frame untouched (not crossfaded at the loop seam, not deflickered, not stretched, not retimed into a
blend) is copied as the source's packet, byte for byte; only the changed frames are encoded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from engine.clips.encode import FORMATS, encoded_frames
from engine.clips.movfile import HapMovReader, is_hap
from engine.clips.stored import StoredFrames
from engine.errors import MediaError

CODEC_OF_FORMATS = {formats: codec for codec, formats in FORMATS.items()}


def open_hap_source(source: Path) -> HapMovReader | None:
    """The source's packets when it is a HAP .mov of a variant we write, else None."""
    if not source.is_file() or not is_hap(source):
        return None
    try:
        reader = HapMovReader(source)
    except MediaError:
        return None
    if reader.formats not in CODEC_OF_FORMATS:
        reader.close()
        return None
    return reader


def hap_frames(
    frames: StoredFrames,
    origins: np.ndarray,
    codec: str,
    encoder: str,
    source: HapMovReader | None,
    size: tuple[int, int],
) -> Iterator[bytes]:
    """HAP frames for `frames`: the source's own packet where `origins[i]` names an untouched source frame
    (and the source matches codec and size), else newly encoded."""
    usable = source is not None and source.size == size and source.formats == FORMATS[codec]
    keep = origins >= 0 if usable else np.zeros(len(frames), bool)
    encoded = encoded_frames(frames.take(np.nonzero(~keep)[0]), codec, encoder)
    for i in range(len(frames)):
        yield source.packet(int(origins[i])) if keep[i] else next(encoded)
