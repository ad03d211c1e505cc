"""Where the shipped shaders and presets live (next to the package in a source checkout)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHADERS_DIR = ROOT / "shaders"
PRESETS_DIR = ROOT / "presets"
DEMO_PRESET = PRESETS_DIR / "demo" / "demo.toml"
