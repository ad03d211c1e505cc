"""Presets: a TOML file that names the look (shader + inputs), the clips, and how the music drives them.

A bad preset is refused with the line it is wrong on; nothing is half-applied.

    name = "Demo"
    [shader]
    file = "generators/pulse.fs"        # next to the preset, or under shaders/
    inputs = { hue = 0.6 }
    [clips]
    a = "clips/nebula.mp4"              # a missing clip is skipped with a warning
    b = "clips/ember.mp4"
    transition = "fade"                 # shaders/transitions/fade.fs, or a path
    [[effects]]                         # an effect chain after the shader, in order
    file = "effects/bloom.fs"           # its parameters are named "<name>.<input>", e.g. "bloom.amount"
    name = "bloom"                      # optional: the file's stem
    inputs = { amount = 0.4 }           # image inputs take a source: "clips", "shader" or an earlier effect
    mix = 1.0                           # optional: wet/dry, the parameter "bloom.mix"
    [tempo]                             # optional: what the song is, for the auto-BPM and the bars
    range = [120, 180]                  # BPM the tempo is folded into (octave errors); default 60..200
    beats_per_bar = 4
    [[modulate]]
    target = "shader.pulse"             # any float/long/bool/event/color/point2D input, or a show parameter
    source = "bass.hits"
    amount = 1.0                        # colour/point targets: `to = [r, g, b]` / `to = [x, y]`, or an offset
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.analysis.bands import DEFAULT_BANDS
from engine.analysis.beatclock import ClockSetup
from engine.analysis.features import silent_features
from engine.errors import PresetError, ShaderError
from engine.params.macros import MACRO_KINDS, SLOTS, Macro
from engine.params.modulation import CURVES, Modulation
from engine.paths import SHADERS_DIR
from engine.render.isf import IsfDocument, load_isf
from engine.show.tomlpos import close_to, locate, read_toml, unknown_key_error

MODULATABLE = ("float", "bool", "event", "long", "color", "point2D")
VECTOR_KINDS = {"color": (3, 4), "point2D": (2, 2)}  # component counts a value may have
SHOW_PARAMS = ("clips.crossfade", "master.level", "master.blackout", "master.freeze")
_TYPE_NAMES = {
    int: "a number",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a table",
    bool: "true/false",
}
TOP_KEYS = {
    "name",
    "description",
    "shader",
    "effects",
    "clips",
    "master",
    "modulate",
    "output",
    "tempo",
    "macros",
    "tags",
    "energy",
}
SHADER_KEYS = ("file", "inputs")
OUTPUT_KEYS = ("size", "fps")
MASTER_KEYS = ("level",)
MODULATE_KEYS = ("target", "source", "amount", "range", "curve", "smooth", "to")
MACRO_KEYS = ("name", "target", "targets", "range", "curve")
TEMPO_KEYS = ("range", "beats_per_bar")
EFFECT_KEYS = ("file", "name", "inputs", "mix")
RESERVED_LAYERS = {"shader", "clips", "master", "tempo", "previous"}
_LAYER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Layer:
    """One shader of the chain: the preset's main shader ("shader") or an effect after it.

    `inputs` are start values of its parameters ("<name>.<input>"); `images` binds image inputs to a
    source: "clips" (the clip crossfade) or the output of an earlier layer. Unbound `inputImage` and
    `startImage` take the layer before; other unbound images take the clips."""

    name: str
    shader: IsfDocument
    inputs: dict[str, Any] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)
    mix: float | None = None  # effects: wet/dry start value ("<name>.mix"); None for the main shader


CLIP_KEYS = {
    "a",
    "b",
    "transition",
    "crossfade",
    "bank",
    "tags",
    "policy",
    "advance_bars",
    "advance_on_drop",
    "quantize",
    "transition_beats",
    "transition_seconds",
    "beat_sync",
    "mode",
    "speed",
    "reverse",
}


@dataclass(frozen=True)
class ClipSettings:
    """How clips play: fixed decks a/b on the crossfader, or a bank the director picks from with the music."""

    bank: Path | None = None  # a folder prepared by `halation prepare` (clips.json)
    tags: tuple[str, ...] = ()
    policy: str = "sequential"  # sequential | shuffle | energy
    advance_bars: int | None = 8  # move on every N bars (0 = never)
    advance_on_drop: bool = True
    quantize: str = "bar"  # now | beat | bar | phrase4 | phrase8 | phrase16
    transition_beats: float | None = 4.0
    transition_seconds: float | None = None
    beat_sync: float | None = None  # one pass of a clip lasts this many beats (None: the clip's own speed)
    mode: str = "loop"  # loop | pingpong | oneshot | random (fixed decks; bank clips use what prepare found)
    speed: float = 1.0
    reverse: bool = False


@dataclass(frozen=True)
class Preset:
    path: Path
    name: str
    shader: IsfDocument
    inputs: dict[str, Any] = field(default_factory=dict)
    clips: tuple[Path, ...] = ()
    transition: IsfDocument | None = None
    crossfade: float = 0.0
    master: float = 1.0
    modulations: tuple[Modulation, ...] = ()
    description: str = ""
    size: tuple[int, int] | None = None
    fps: float | None = None
    images: dict[str, str] = field(default_factory=dict)  # the main shader's image bindings
    effects: tuple[Layer, ...] = ()
    clip_settings: ClipSettings = field(default_factory=lambda: ClipSettings())
    bpm_range: tuple[float, float] | None = None  # [tempo] range; None: the default, 60..200
    beats_per_bar: int | None = None  # [tempo] beats_per_bar; None: 4
    macros: tuple[Macro, ...] = ()  # what /hl/macro/1..8 drive in this look
    tags: tuple[str, ...] = ()  # what music the look is for ("techno", "ambient"…): the autopilot reads them
    energy: float | None = None  # 0 (calm) .. 1 (peak): which section of a song the look suits

    def clock_setup(self) -> ClockSetup:
        """What this preset says about its song, the defaults where it says nothing."""
        lo, hi = self.bpm_range or (ClockSetup.min_bpm, ClockSetup.max_bpm)
        bars = self.beats_per_bar or ClockSetup.beats_per_bar  # none given: the clock hears the metre
        return ClockSetup(lo, hi, bars, hear_metre=self.beats_per_bar is None)

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The whole chain in drawing order: the main shader, then the effects."""
        return (Layer("shader", self.shader, self.inputs, self.images), *self.effects)


def source_names() -> tuple[str, ...]:
    return tuple(silent_features(tuple(DEFAULT_BANDS)).values())


def resolve_file(name: str, base: Path, subdir: str = "", suffix: str = ".fs") -> Path | None:
    """A file named in a preset: relative to the preset first, then in the shipped shaders folder."""
    candidates = [base / name, SHADERS_DIR / subdir / name, SHADERS_DIR / name]
    candidates += [c.with_name(c.name + suffix) for c in list(candidates) if not c.name.endswith(suffix)]
    return next((c for c in candidates if c.is_file()), None)


class _Reader:
    """Validates one parsed preset, raising PresetError at the offending line."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.text = text

    def fail(self, keys: tuple, message: str) -> PresetError:
        return PresetError(message, path=self.path, line=locate(self.text, keys))

    def known_keys(self, table: dict, allowed, keys: tuple, where: str) -> None:
        """Refuse a key this table does not take (a typo would otherwise be ignored), with a hint."""
        error = unknown_key_error(self.path, self.text, table, allowed, keys, where)
        if error is not None:
            raise error

    def typed(self, table: dict, keys: tuple, kind: type | tuple, default: Any = None, required=False) -> Any:
        value = table.get(keys[-1], default)
        if value is None and required:
            raise self.fail(keys[:-1], f"missing '{keys[-1]}' in [{'.'.join(map(str, keys[:-1]))}]")
        wrong = value is not None and not isinstance(value, kind)
        if wrong or (isinstance(value, bool) and kind is not bool):
            kinds = (kind,) if isinstance(kind, type) else kind
            names = " or ".join(dict.fromkeys(_TYPE_NAMES[k] for k in kinds))
            raise self.fail(keys, f"'{keys[-1]}' must be {names}, not {value!r}")
        return value

    def choice(self, table: dict, keys: tuple, options, default: str) -> str:
        value = self.typed(table, keys, str, default)
        if value not in options:
            raise self.fail(keys, f"'{keys[-1]}' must be one of: {', '.join(options)} (not '{value}')")
        return value

    def clip_settings(self, table: dict) -> ClipSettings:
        from engine.clips.bank import POLICIES
        from engine.clips.playhead import MODES
        from engine.clips.quantize import QUANTIZE_BEATS

        k = ("clips",)
        self.known_keys(table, CLIP_KEYS, k, "[clips]")
        bank = self.typed(table, (*k, "bank"), str)
        bank_path = None
        if bank is not None:
            bank_path = (self.path.parent / bank).expanduser()
            if not (bank_path / "clips.json").is_file():
                raise self.fail(
                    (*k, "bank"), f"no clips.json in '{bank}': run `halation prepare SRC --out {bank}`"
                )
        number = (int, float)
        beats = self.typed(table, (*k, "transition_beats"), number)
        seconds = self.typed(table, (*k, "transition_seconds"), number)
        if beats is not None and seconds is not None:
            raise self.fail(
                (*k, "transition_seconds"), "give transition_beats or transition_seconds, not both"
            )
        sync = self.typed(table, (*k, "beat_sync"), number)
        if sync is not None and sync <= 0:
            raise self.fail((*k, "beat_sync"), "'beat_sync' must be a positive number of beats")
        return ClipSettings(
            bank=bank_path,
            tags=tuple(self.typed(table, (*k, "tags"), list, [])),
            policy=self.choice(table, (*k, "policy"), POLICIES, "sequential"),
            advance_bars=self.typed(table, (*k, "advance_bars"), int, 8) or None,
            advance_on_drop=self.typed(table, (*k, "advance_on_drop"), bool, True),
            quantize=self.choice(table, (*k, "quantize"), tuple(QUANTIZE_BEATS), "bar"),
            transition_beats=float(beats) if beats is not None else (None if seconds else 4.0),
            transition_seconds=float(seconds) if seconds is not None else None,
            beat_sync=float(sync) if sync is not None else None,
            mode=self.choice(table, (*k, "mode"), MODES, "loop"),
            speed=float(self.typed(table, (*k, "speed"), number, 1.0)),
            reverse=self.typed(table, (*k, "reverse"), bool, False),
        )

    def tempo(self, table: dict) -> tuple[tuple[float, float] | None, int | None]:
        """The [tempo] table: (BPM range, beats per bar), each None when not given."""
        self.known_keys(table, TEMPO_KEYS, ("tempo",), "[tempo]")
        rng = self.typed(table, ("tempo", "range"), list)
        bars = self.typed(table, ("tempo", "beats_per_bar"), int)
        bpm_range = None
        if rng is not None:
            if len(rng) != 2 or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in rng):
                raise self.fail(
                    ("tempo", "range"), "'range' must be [slowest, fastest] in BPM, e.g. [120, 180]"
                )
            bpm_range = (float(rng[0]), float(rng[1]))
        if bars is not None and not 1 <= bars <= 16:
            raise self.fail(("tempo", "beats_per_bar"), f"'beats_per_bar' must be 1..16, not {bars}")
        if bpm_range is not None:
            try:
                ClockSetup(*bpm_range)
            except ValueError as exc:
                raise self.fail(("tempo", "range"), str(exc)) from None
        return bpm_range, bars

    def shader(self, name: str, keys: tuple, subdir: str) -> IsfDocument:
        found = resolve_file(name, self.path.parent, subdir)
        if found is None:
            raise self.fail(keys, f"shader '{name}' not found next to the preset or in {SHADERS_DIR}")
        try:
            return load_isf(found)
        except ShaderError as exc:
            raise self.fail(keys, f"shader '{name}' is invalid: {exc}") from exc

    def inputs(
        self, doc: IsfDocument, values: dict, keys: tuple, sources: tuple[str, ...]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Split a layer's `inputs` table into start values and image bindings, checking each type."""
        declared = {i.name: i for i in doc.inputs}
        plain: dict[str, Any] = {}
        images: dict[str, str] = {}
        for key, value in values.items():
            where = (*keys, key)
            inp = declared.get(key)
            if inp is None:
                known = ", ".join(sorted(declared)) or "none"
                hint = close_to(key, declared)
                raise self.fail(where, f"shader has no input '{key}'{hint} (inputs: {known})")
            if inp.type in ("image", "audio", "audioFFT"):
                if inp.type != "image":
                    raise self.fail(where, f"'{key}' is fed from the live audio; it takes no value")
                if value not in sources:
                    raise self.fail(where, f"image '{key}' must name a source: one of {', '.join(sources)}")
                images[key] = value
                continue
            plain[key] = self.value(inp.type, value, where)
        return plain, images

    def value(self, kind: str, value: Any, where: tuple) -> Any:
        name = where[-1]
        if kind in VECTOR_KINDS:
            lo, hi = VECTOR_KINDS[kind]
            if not (
                isinstance(value, list)
                and lo <= len(value) <= hi
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            ):
                shape = "[x, y]" if kind == "point2D" else "[r, g, b] or [r, g, b, a] (0..1)"
                raise self.fail(where, f"'{name}' is a {kind}: give {shape}")
            return tuple(float(v) for v in value)
        if kind in ("bool", "event"):
            if not isinstance(value, bool | int | float):
                raise self.fail(where, f"'{name}' must be true/false, not {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, f"'{name}' must be a number, not {value!r}")
        return value

    def effect(self, i: int, table: Any, earlier: list[str]) -> Layer:
        k = ("effects", i)
        if not isinstance(table, dict):
            raise self.fail(k, "each [[effects]] entry must be a table with a 'file'")
        self.known_keys(table, EFFECT_KEYS, k, "[[effects]]")
        file = self.typed(table, (*k, "file"), str, required=True)
        shader = self.shader(file, (*k, "file"), "effects")
        name = self.typed(table, (*k, "name"), str, Path(file).stem)
        if not _LAYER_NAME.fullmatch(name):
            where = (*k, "name") if "name" in table else (*k, "file")
            raise self.fail(where, f"effect name '{name}' must be letters, digits and _ (set name = ...)")
        if name in RESERVED_LAYERS or name in earlier:
            where = (*k, "name") if "name" in table else (*k, "file")
            what = "is reserved" if name in RESERVED_LAYERS else "is used twice"
            raise self.fail(where, f"effect name '{name}' {what}: give it another name = \"...\"")
        if any(i.name == "mix" for i in shader.inputs):
            raise self.fail(
                (*k, "file"), f"'{file}' has an input named 'mix', which clashes with '{name}.mix'"
            )
        values = self.typed(table, (*k, "inputs"), dict, {})
        inputs, images = self.inputs(shader, values, (*k, "inputs"), ("clips", *earlier))
        mix = float(self.typed(table, (*k, "mix"), (int, float), 1.0))
        if not 0.0 <= mix <= 1.0:
            raise self.fail((*k, "mix"), "'mix' must be between 0 and 1")
        return Layer(name, shader, inputs, images, mix)

    def macros(self, tables: dict | list, targets: dict[str, str]) -> tuple[Macro, ...]:
        """`[macros.1]` … `[macros.8]` (or `[[macros]]` in slot order): name, target(s), range, curve."""
        found: list[Macro] = []
        for k, slot, table in _macro_tables(tables):
            if slot is None or not 1 <= slot <= SLOTS:
                raise self.fail(k, f"macros are numbered 1..{SLOTS}: use [macros.1] … [macros.{SLOTS}]")
            if not isinstance(table, dict):
                raise self.fail(k, "each macro is a table: name, target (or targets), range, curve")
            self.known_keys(table, MACRO_KEYS, k, f"[macros.{slot}]")
            one = self.typed(table, (*k, "target"), str)
            many = self.typed(table, (*k, "targets"), list, [])
            names = ([one] if one else []) + many
            if not names or not all(isinstance(n, str) for n in names):
                raise self.fail(k, f'macro {slot} needs target = "shader.<input>" (or targets = [...])')
            for n in names:
                if targets.get(n) not in MACRO_KINDS:
                    what = "is not a number or switch input" if n in targets else "is no input of this look"
                    raise self.fail(
                        (*k, "targets" if n in many else "target"), f"'{n}' {what}{close_to(n, targets)}"
                    )
            rng = self.typed(table, (*k, "range"), list)
            if rng is not None and (
                len(rng) != 2 or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in rng)
            ):
                raise self.fail((*k, "range"), "'range' must be [value at 0, value at full], e.g. [0.2, 1.0]")
            curve = self.typed(table, (*k, "curve"), str, "linear")
            if curve not in CURVES:
                raise self.fail((*k, "curve"), f"unknown curve '{curve}'{close_to(curve, CURVES)}")
            name = self.typed(table, (*k, "name"), str, names[0])
            rng_t = (float(rng[0]), float(rng[1])) if rng else None
            found.append(Macro(slot, name, tuple(names), rng_t, curve))
        slots = [m.slot for m in found]
        if len(set(slots)) != len(slots):
            raise self.fail(("macros",), "a macro slot is given twice")
        return tuple(sorted(found, key=lambda m: m.slot))

    def modulation(
        self, i: int, table: dict, targets: dict[str, str], sources: tuple[str, ...]
    ) -> Modulation:
        k = ("modulate", i)
        self.known_keys(table, MODULATE_KEYS, k, "[[modulate]]")
        target = self.typed(table, (*k, "target"), str, required=True)
        if target not in targets:
            known = ", ".join(sorted(targets))
            raise self.fail(
                (*k, "target"), f"unknown target '{target}'{close_to(target, targets)} (one of: {known})"
            )
        kind = targets[target]
        source = self.typed(table, (*k, "source"), str, required=True)
        if source not in sources:
            hint = close_to(source, sources) or " (e.g. bass.hits, mid.level, onset)"
            raise self.fail((*k, "source"), f"unknown source '{source}'{hint}")
        rng = self.typed(table, (*k, "range"), list, [0.0, 1.0])
        if len(rng) != 2 or not all(isinstance(v, int | float) for v in rng) or rng[0] == rng[1]:
            raise self.fail((*k, "range"), "'range' must be two different numbers, e.g. [0.0, 1.0]")
        curve = self.typed(table, (*k, "curve"), str, "linear")
        if curve not in CURVES:
            raise self.fail((*k, "curve"), f"unknown curve '{curve}' (one of: {', '.join(CURVES)})")
        smooth = float(self.typed(table, (*k, "smooth"), (int, float), 0.0))
        if smooth < 0:
            raise self.fail((*k, "smooth"), "'smooth' must be ≥ 0 seconds")
        to = None
        if "to" in table:
            if kind not in VECTOR_KINDS:
                raise self.fail((*k, "to"), f"'to' is for color and point2D targets; '{target}' is a {kind}")
            to = self.value(kind, table["to"], (*k, "to"))
        amount: float | tuple[float, ...]
        if kind == "point2D" and isinstance(table.get("amount"), list):
            amount = self.value(kind, table["amount"], (*k, "amount"))
        else:
            amount = float(self.typed(table, (*k, "amount"), (int, float), 1.0))
        return Modulation(target, source, amount, (float(rng[0]), float(rng[1])), curve, smooth, to)


def _macro_tables(tables: dict | list) -> list[tuple[tuple, int | None, Any]]:
    """(key path, slot or None when the key is no slot, table) for `[macros.N]` tables or `[[macros]]`."""
    if isinstance(tables, list):
        return [(("macros", i), i + 1, t) for i, t in enumerate(tables)]
    return [(("macros", key), int(key) if key.isdigit() else None, t) for key, t in tables.items()]


def load_preset(path: str | Path) -> Preset:
    path, text, data = read_toml(path, "preset")
    r = _Reader(path, text)
    r.known_keys(data, TOP_KEYS, (), "the preset")

    name = r.typed(data, ("name",), str, path.stem)
    shader_table = r.typed(data, ("shader",), dict, required=True)
    r.known_keys(shader_table, SHADER_KEYS, ("shader",), "[shader]")
    shader = r.shader(r.typed(shader_table, ("shader", "file"), str, required=True), ("shader", "file"), "")
    raw_inputs = r.typed(shader_table, ("shader", "inputs"), dict, {})
    inputs, images = r.inputs(shader, raw_inputs, ("shader", "inputs"), ("clips",))
    effects: list[Layer] = []
    for i, table in enumerate(r.typed(data, ("effects",), list, [])):
        effects.append(r.effect(i, table, ["shader", *(e.name for e in effects)]))

    clips_table = r.typed(data, ("clips",), dict, {})
    clips = tuple(
        path.parent / r.typed(clips_table, ("clips", deck), str) for deck in ("a", "b") if deck in clips_table
    )
    transition_name = r.typed(clips_table, ("clips", "transition"), str, "fade")
    transition = r.shader(transition_name, ("clips", "transition"), "transitions")
    if transition.kind != "transition":
        raise r.fail(
            ("clips", "transition"), f"'{transition_name}' is not an ISF transition (startImage/endImage)"
        )
    crossfade = float(r.typed(clips_table, ("clips", "crossfade"), (int, float), 0.0))
    clip_settings = r.clip_settings(clips_table)
    master_table = r.typed(data, ("master",), dict, {})
    r.known_keys(master_table, MASTER_KEYS, ("master",), "[master]")
    master = float(r.typed(master_table, ("master", "level"), (int, float), 1.0))
    if not 0.0 <= master <= 1.0:
        raise r.fail(("master", "level"), f"'level' must be between 0 and 1, not {master}")

    targets = modulation_targets((Layer("shader", shader), *effects))
    sources = source_names()
    mods = r.typed(data, ("modulate",), list, [])
    modulations = tuple(
        r.modulation(i, r.typed({"m": m}, ("modulate", i, "m"), dict), targets, sources)
        for i, m in enumerate(mods)
    )

    output = r.typed(data, ("output",), dict, {})
    r.known_keys(output, OUTPUT_KEYS, ("output",), "[output]")
    size = r.typed(output, ("output", "size"), list)
    if size is not None and (len(size) != 2 or not all(isinstance(v, int) and v > 0 for v in size)):
        raise r.fail(("output", "size"), "'size' must be [width, height] in pixels")
    fps = r.typed(output, ("output", "fps"), (int, float))
    if fps is not None and not 1 <= fps <= 480:
        raise r.fail(("output", "fps"), f"'fps' must be 1..480, not {fps}")
    bpm_range, beats_per_bar = r.tempo(r.typed(data, ("tempo",), dict, {}))
    macros = r.macros(r.typed(data, ("macros",), (dict, list), {}), targets)
    tags = r.typed(data, ("tags",), list, [])
    if not all(isinstance(t, str) for t in tags):
        raise r.fail(("tags",), '\'tags\' must be a list of words, e.g. ["techno", "dark"]')
    energy = r.typed(data, ("energy",), (int, float))
    if energy is not None and not 0.0 <= energy <= 1.0:
        raise r.fail(("energy",), "'energy' must be 0 (calm) .. 1 (peak)")
    return Preset(
        path=path,
        name=name,
        shader=shader,
        inputs=dict(inputs),
        clips=clips,
        transition=transition,
        crossfade=crossfade,
        master=master,
        modulations=modulations,
        description=r.typed(data, ("description",), str, ""),
        size=tuple(size) if size else None,
        fps=float(fps) if fps else None,
        images=images,
        effects=tuple(effects),
        clip_settings=clip_settings,
        bpm_range=bpm_range,
        beats_per_bar=beats_per_bar,
        macros=macros,
        tags=tuple(tags),
        energy=float(energy) if energy is not None else None,
    )


def modulation_targets(layers: tuple[Layer, ...]) -> dict[str, str]:
    """Every parameter a [[modulate]] may drive, with its kind."""
    targets = {
        name: "bool" if name in ("master.blackout", "master.freeze") else "float" for name in SHOW_PARAMS
    }
    for layer in layers:
        for i in layer.shader.inputs:
            if i.type in MODULATABLE:
                targets[f"{layer.name}.{i.name}"] = i.type
        if layer.name != "shader":
            targets[f"{layer.name}.mix"] = "float"
    return targets
