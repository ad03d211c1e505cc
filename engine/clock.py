"""The show clock: the one place that reads time.

Offline renders step frame by frame (frame n is at n / fps, so renders are deterministic); live shows read
the audio position when audio is playing, else a monotonic clock. Everything else receives a `FrameTime`.
"""

from __future__ import annotations

import datetime as _dt
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# Offline renders report this date to shaders (ISF DATE) so that frames never depend on when they were made.
OFFLINE_DATE = _dt.datetime(2000, 1, 1)


@dataclass(frozen=True)
class FrameTime:
    """When a frame is rendered for, in show seconds (audio time)."""

    index: int
    time: float
    delta: float
    date: tuple[float, float, float, float]  # year, month, day, seconds of the day (ISF DATE)


class ShowClock(Protocol):
    def tick(self) -> FrameTime: ...


def _date_at(start: _dt.datetime, seconds: float) -> tuple[float, float, float, float]:
    moment = start + _dt.timedelta(seconds=seconds)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return (float(moment.year), float(moment.month), float(moment.day), (moment - midnight).total_seconds())


class OfflineClock:
    """Frame-stepped time: frame n is at start + n / fps, whatever the machine's speed."""

    def __init__(self, fps: float, start: float = 0.0):
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.fps = float(fps)
        self.start = start
        self._index = 0

    def tick(self) -> FrameTime:
        n = self._index
        self._index += 1
        t = self.start + n / self.fps
        return FrameTime(n, t, 1.0 / self.fps if n else 0.0, _date_at(OFFLINE_DATE, t))


class LiveClock:
    """Wall-clock or audio-position time for live shows.

    `position` returns the audio time now (e.g. the playback position of the sound card); when it is absent
    or returns None (audio stopped or dropped out) the clock free-runs on the monotonic clock from the last
    audio time, so visuals never stall.

    `lead` draws each frame that many seconds ahead of the audio: a frame reaches the projector's light
    some 30-120 ms after it is drawn (render, buffer swap, the projector's own processing), so beat-locked
    values drawn for `audio + lead` land on the beat as the room sees and hears it. The beat grid is
    predicted, so its values are right that far ahead.
    """

    def __init__(
        self, position: Callable[[], float | None] | None = None, monotonic=_time.monotonic, lead: float = 0.0
    ):
        self.lead = lead
        self._position = position
        self._monotonic = monotonic
        self._t0 = monotonic()
        self._last_audio: tuple[float, float] | None = None  # (audio time, monotonic time when read)
        self._index = 0
        self._last_time = 0.0
        self._start_date = _dt.datetime.now()

    def now(self) -> float:
        mono = self._monotonic()
        audio = self._position() if self._position else None
        if audio is not None:
            self._last_audio = (audio, mono)
            return audio
        if self._last_audio is not None:
            a, m = self._last_audio
            return a + (mono - m)
        return mono - self._t0

    def tick(self) -> FrameTime:
        t = max(self.now() + self.lead, self._last_time)  # never backwards, even if the device jitters
        ft = FrameTime(
            self._index, t, t - self._last_time if self._index else 0.0, _date_at(self._start_date, t)
        )
        self._index += 1
        self._last_time = t
        return ft
