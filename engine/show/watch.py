"""Preset hot reload for rehearsals: save the preset in an editor and the look follows at the next frame.

The render thread polls (a stat a few times a second, nothing else while the file is unchanged). A save is
read once its stamp has held still for one poll, so an editor's half-written file is not read. A preset
that does not load is refused with its line: the look on the output stays, and the error is kept for the
preview overlay until a good version is saved.
"""

from __future__ import annotations

import logging
from pathlib import Path

from engine.errors import HalationError
from engine.render.reload import POLL_INTERVAL, Stamp, stamp_of
from engine.show.preset import Preset, load_preset

log = logging.getLogger(__name__)


class PresetWatcher:
    def __init__(self, path: Path, interval: float = POLL_INTERVAL):
        self.interval = interval
        self._next = 0.0
        self.follow(path)

    def follow(self, path: Path) -> None:
        """Watch this preset from now on (a setlist cue brought another one in)."""
        self.path = Path(path)
        self.error: HalationError | None = None  # the saved version that was refused, until a good one
        self._stamp: Stamp = stamp_of([self.path])
        self._candidate: Stamp | None = None

    def poll(self, now: float) -> Preset | None:
        """The preset as just saved, once per save that loads; None otherwise. `now`: a monotonic time."""
        if now < self._next:
            return None
        self._next = now + self.interval
        stamp = stamp_of([self.path])
        if stamp == self._stamp or stamp[0] is None:  # unchanged, or mid-save by rename
            self._candidate = None
            return None
        if stamp != self._candidate:  # still being written: look again at the next poll
            self._candidate = stamp
            return None
        self._stamp, self._candidate = stamp, None
        try:
            preset = load_preset(self.path)
        except HalationError as exc:
            self.error = exc
            log.error("%s (the look stays as it was)", exc)
            return None
        self.error = None
        log.info("preset reloaded: %s", self.path)
        return preset
