"""Stages between the analysis snapshot and the render: each takes the Features a frame would be drawn with
and returns the ones it is drawn with (Link's beat grid, a leader's stream on a render node).

They run on the render thread, in order, each inside a guard: a stage that raises passes the Features on
unchanged for that frame (the show keeps its own ears), is logged once and shown on the preview.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from engine.analysis.features import Features
from engine.params.store import Param, ParamStore


class FeatureStage(Protocol):
    name: str

    def params(self) -> list[Param]:
        """Show-level parameters the stage answers to (added to the show before the controls start)."""
        ...

    def transform(self, features: Features, at: float, params: ParamStore) -> Features:
        """The Features for the frame shown at show time `at`; `params` holds the operator's settings."""
        ...

    def status(self) -> Mapping[str, Any]:
        """Read-only status for /hl/status/ and the HUD ("link/peers": 2, ...)."""
        ...

    def close(self) -> None: ...


def run_stages(
    stages: Sequence[FeatureStage], features: Features, at: float, params: ParamStore, guards
) -> Features:
    for stage in stages:
        with guards.stage(f"sync {stage.name}"):
            features = stage.transform(features, at, params)
    return features


def sync_lines(status: Mapping[str, Any]) -> list[str]:
    """The HUD's lines for the sync stages: "Link auto (lead): 2 peers, 124.0 BPM", "following HOST:PORT"."""
    lines = []
    if "link/mode" in status:
        mode, role, peers = status["link/mode"], status.get("link/role", ""), status.get("link/peers", 0)
        doing = f" ({role})" if mode == "auto" and role else ""
        tempo = status.get("link/bpm", 0.0)
        lines.append(f"Link {mode}{doing}: {peers} peer{'' if peers == 1 else 's'}, {tempo:.1f} BPM")
    if "follow/leader" in status:
        state = "connected" if status.get("follow/connected") else "waiting for its stream"
        lines.append(f"following {status['follow/leader']} ({state})")
    return lines


def stages_status(stages: Sequence[FeatureStage]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for stage in stages:
        out.update(stage.status())
    return out
