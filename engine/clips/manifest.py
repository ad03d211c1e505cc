"""clips.json: what `halation prepare` made of each source clip, read by clip banks at show time."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import MediaError

MANIFEST = "clips.json"
VERSION = 1
PROVENANCE_KEYS = ("generator", "model", "prompt", "seed", "author", "licence")


@dataclass
class ClipEntry:
    name: str
    file: str  # relative to the manifest
    source: dict[str, str]  # path, sha256
    duration: float
    fps: float
    size: tuple[int, int]
    loop: dict[str, Any]  # mode, frames, start, end, crossfade, seam
    descriptors: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # what it was prepared with (for idempotency)
    tags: list[str] = field(default_factory=list)
    codec: str = "hap"  # hap | hap-alpha | hap-q (HAP in QuickTime); .hlclip files of earlier versions: hap


@dataclass
class Manifest:
    clips: dict[str, ClipEntry] = field(default_factory=dict)
    bank: dict[str, Any] = field(default_factory=dict)  # settings for every clip of the folder (stretch)

    def by_source_hash(self, sha256: str) -> ClipEntry | None:
        return next((c for c in self.clips.values() if c.source.get("sha256") == sha256), None)


def load_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    if not path.is_file():
        return Manifest()
    try:
        data = json.loads(path.read_text())
        clips = {}
        for raw in data.get("clips", []):
            raw["size"] = tuple(raw["size"])
            clips[raw["name"]] = ClipEntry(**raw)
    except (json.JSONDecodeError, TypeError, KeyError) as exc:
        raise MediaError(f"damaged clip manifest ({exc}): delete it and prepare again", path=path) from exc
    bank = data.get("bank", {})
    if not isinstance(bank, dict):
        raise MediaError('damaged clip manifest ("bank" must be a table of settings)', path=path)
    return Manifest(clips, bank)


def save_manifest(folder: Path, manifest: Manifest) -> Path:
    path = folder / MANIFEST
    data = {
        "version": VERSION,
        **({"bank": manifest.bank} if manifest.bank else {}),
        "clips": [asdict(c) for c in sorted(manifest.clips.values(), key=lambda c: c.name)],
    }
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)
    return path


def read_provenance(source: Path) -> dict[str, Any]:
    """Generator, model, prompt, seed, author, licence from a sidecar next to the source, when there is one.

    `clip.mp4.json` or `clip.json` (keys as above; "license" accepted), or `clip.txt` ("key: value" lines,
    or just the prompt).
    """
    stem = source.with_suffix("") if source.is_file() else source
    for candidate in (Path(f"{source}.json"), stem.with_suffix(".json")):
        if candidate.is_file() and candidate != source:
            try:
                raw = json.loads(candidate.read_text())
            except json.JSONDecodeError:
                continue
            if isinstance(raw, dict):
                raw.setdefault("licence", raw.get("license"))
                return {k: raw[k] for k in PROVENANCE_KEYS if raw.get(k) is not None}
    txt = stem.with_suffix(".txt")
    if txt.is_file():
        lines = [line.strip() for line in txt.read_text().splitlines() if line.strip()]
        pairs = dict(line.split(":", 1) for line in lines if ":" in line)
        pairs = {k.strip().lower().replace("license", "licence"): v.strip() for k, v in pairs.items()}
        found = {k: pairs[k] for k in PROVENANCE_KEYS if k in pairs}
        return found or {"prompt": " ".join(lines)}
    return {}
