"""ISF v2 (and v1) loader and GLSL 330 core translator.

Pure Python, no GL: parsing here is testable without a context and the program
module only has to compile what this produces. The translation keeps every line
of the user's .fs/.vs at its own line number (generated declarations sit before
a ``#line`` directive), so compiler errors point at the file the user edits.
"""

from __future__ import annotations

import json
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ShaderError

INPUT_TYPES = ("event", "bool", "long", "float", "point2D", "color", "image", "audio", "audioFFT")
GLSL_TYPES = {
    "event": "bool",
    "bool": "bool",
    "long": "int",
    "float": "float",
    "point2D": "vec2",
    "color": "vec4",
    "image": "sampler2D",
    "audio": "sampler2D",
    "audioFFT": "sampler2D",
}
SAMPLER_TYPES = frozenset({"image", "audio", "audioFFT"})
# Built-in uniforms every ISF shader may use, in declaration order.
BUILTIN_UNIFORMS = (
    ("PASSINDEX", "int"),
    ("RENDERSIZE", "vec2"),
    ("TIME", "float"),
    ("TIMEDELTA", "float"),
    ("DATE", "vec4"),
    ("FRAMEINDEX", "int"),
)
# Halation's audio uniforms: any `hl_*` identifier is a float, except these textures.
HL_SAMPLERS = frozenset({"hl_spectrum", "hl_waveform"})
HL_PATTERN = re.compile(r"\bhl_[A-Za-z0-9_]+\b")
VERTEX_ATTRIBUTE = "VERTEXDATA"
# VVISF's per-image uniforms (_NAME_imgRect etc.), declared only when a shader uses them.
IMAGE_INFO_UNIFORMS = {"imgRect": "vec4", "imgSize": "vec2", "flip": "bool"}

_MACROS = """\
#define IMG_PIXEL(img, coord) texture(img, (coord) / vec2(textureSize(img, 0)))
#define IMG_NORM_PIXEL(img, coord) texture(img, coord)
#define IMG_THIS_PIXEL(img) texture(img, isf_FragNormCoord)
#define IMG_THIS_NORM_PIXEL(img) texture(img, isf_FragNormCoord)
#define IMG_NORM_THIS_PIXEL(img) texture(img, isf_FragNormCoord)
#define IMG_SIZE(img) vec2(textureSize(img, 0))
#define vv_FragNormCoord isf_FragNormCoord
#define vv_vertShaderInit isf_vertShaderInit
"""

_DEFAULT_VERTEX_BODY = "void main()\n{\n\tisf_vertShaderInit();\n}\n"


@dataclass(frozen=True)
class IsfInput:
    """One entry of INPUTS: becomes a uniform and a control in the UI."""

    name: str
    type: str
    default: object = None
    min: object = None
    max: object = None
    identity: object = None
    values: tuple = ()
    labels: tuple = ()
    label: str = ""


@dataclass(frozen=True)
class IsfPass:
    """One rendering pass; `target` None renders straight to the output."""

    target: str | None = None
    persistent: bool = False
    float: bool = False
    width: str | None = None
    height: str | None = None


@dataclass(frozen=True)
class IsfDocument:
    """A parsed, translated ISF file, ready for `IsfProgram`."""

    path: Path
    description: str
    credit: str
    categories: tuple[str, ...]
    version: int
    kind: str
    inputs: tuple[IsfInput, ...]
    passes: tuple[IsfPass, ...]
    imported: dict[str, Path]
    fragment: str
    vertex: str
    vertex_path: Path | None = None  # the custom .vs, so vertex errors name that file
    header_line: int = 1  # line of the JSON header, blamed for errors in generated declarations


PARSED_KEPT = 128  # translated shaders remembered by their text (a show's library cycles through a few dozen)
_PARSED: OrderedDict[tuple[str, str, str | None], IsfDocument] = OrderedDict()


def load_isf(path: Path | str) -> IsfDocument:
    """Read an .fs (and the .vs beside it, if any) and translate it. A file whose text was translated
    before is not translated again: a cue or an autopilot change loads its preset on the render thread,
    and translating its shaders was half of that (1-2 ms of a 14 ms frame). The files are read each time,
    so an edited shader is translated afresh; documents are immutable, so sharing one is safe."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ShaderError(f"cannot read shader: {exc.strerror or exc}", path=path) from None
    vs_path = path.with_suffix(".vs")
    vertex_text = None
    if vs_path.is_file():
        vertex_text = vs_path.read_text(encoding="utf-8", errors="replace")
    key = (str(path), text, vertex_text)
    doc = _PARSED.get(key)
    if doc is None:
        doc = _PARSED[key] = load_isf_source(text, path, vertex_text)
        while len(_PARSED) > PARSED_KEPT:
            _PARSED.popitem(last=False)
    else:
        _PARSED.move_to_end(key)
    return doc


def load_isf_source(text: str, path: Path, vertex_text: str | None = None) -> IsfDocument:
    """Parse the JSON header and translate fragment (and optional vertex) source."""
    path = Path(path)
    text = _normalize(text)
    if vertex_text is not None:
        vertex_text = _normalize(vertex_text)
    header, body, header_line = _split_header(text, path)
    meta = _as_dict(header, path, header_line)
    version = _parse_version(meta.get("ISFVSN"))
    inputs = _parse_inputs(meta.get("INPUTS", []), text, path, header_line)
    passes = _parse_passes(meta, text, path, header_line)
    imported = _parse_imported(meta.get("IMPORTED"), path, header_line)
    for p in passes:  # validate WIDTH/HEIGHT now, so a typo is reported at load with its line
        _compile_size(p.width, text, path, header_line)
        _compile_size(p.height, text, path, header_line)
    names = {i.name for i in inputs}
    if {"startImage", "endImage", "progress"} <= names:
        kind = "transition"
    elif "inputImage" in names:
        kind = "filter"
    else:
        kind = "generator"

    buffers = [p.target for p in passes if p.target] + list(imported)
    frag_body = translate_body(body, stage="fragment")
    vert_body = translate_body(vertex_text, stage="vertex") if vertex_text is not None else None
    hl_names = _hl_names(frag_body, vert_body or "", names)
    decls = _declarations(inputs, buffers, hl_names, frag_body + (vert_body or ""))
    fragment = _assemble(
        decls + "out vec4 isf_FragColor;\nin vec2 isf_FragNormCoord;\n",
        keep_finite(frag_body),
    )
    vertex_decls = decls + (
        f"in vec2 {VERTEX_ATTRIBUTE};\n"
        "out vec2 isf_FragNormCoord;\n"
        "void isf_vertShaderInit(void)\n{\n"
        f"\tgl_Position = vec4({VERTEX_ATTRIBUTE}, 0.0, 1.0);\n"
        f"\tisf_FragNormCoord = {VERTEX_ATTRIBUTE} * 0.5 + 0.5;\n"
        "}\n"
    )
    vertex = _assemble(vertex_decls, vert_body if vert_body is not None else _DEFAULT_VERTEX_BODY)
    return IsfDocument(
        path=path,
        description=str(meta.get("DESCRIPTION", "") or ""),
        credit=str(meta.get("CREDIT", "") or ""),
        categories=tuple(str(c) for c in meta.get("CATEGORIES", []) or ()),
        version=version,
        kind=kind,
        inputs=inputs,
        passes=passes,
        imported=imported,
        fragment=fragment,
        vertex=vertex,
        vertex_path=path.with_suffix(".vs") if vertex_text is not None else None,
        header_line=header_line,
    )


# --- header -----------------------------------------------------------------------------------


def _normalize(text: str) -> str:
    """Drop a BOM and use \n newlines, so line counting agrees with the GLSL compiler's."""
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _split_header(text: str, path: Path) -> tuple[str, str, int]:
    """Return (json text, body with the header blanked out, header line)."""
    start = len(text) - len(text.lstrip())
    if not text.startswith("/*", start):
        raise ShaderError("no ISF header: the file must start with a /*{ JSON }*/ comment", path=path, line=1)
    end = text.find("*/", start + 2)
    if end < 0:
        raise ShaderError("ISF header comment is never closed with */", path=path, line=_line_of(text, start))
    header = text[start + 2 : end]
    # Blank the header but keep its newlines so body lines keep their file line numbers.
    blank = "\n" * text.count("\n", start, end)
    return header, text[:start] + blank + text[end + 2 :], _line_of(text, start)


def _as_dict(header: str, path: Path, header_line: int) -> dict:
    try:
        meta = json.loads(header)
    except json.JSONDecodeError as exc:
        # Tolerate trailing commas, a common hand-editing slip that other hosts accept.
        try:
            meta = json.loads(re.sub(r",(\s*[}\]])", r"\1", header))
        except json.JSONDecodeError:
            raise ShaderError(
                f"bad JSON in ISF header: {exc.msg}", path=path, line=header_line + exc.lineno - 1
            ) from None
    if not isinstance(meta, dict):
        raise ShaderError("ISF header must be a JSON object {...}", path=path, line=header_line)
    return meta


def _parse_version(value: object) -> int:
    if value is None:
        return 1
    m = re.match(r"\s*(\d+)", str(value))
    return int(m.group(1)) if m else 1


def _blame(text: str, needle: str, fallback: int) -> int:
    pos = text.find(needle)
    return _line_of(text, pos) if pos >= 0 else fallback


def _num(value: object, default: float = 0.0) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return default
    return default


def _vec(value: object, n: int, pad: float) -> tuple[float, ...] | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        value = [value] * (n if n == 2 else 3)
    if not isinstance(value, list | tuple):
        return None
    vals = [_num(v) for v in value[:n]]
    while len(vals) < n:
        vals.append(pad)
    return tuple(vals)


def _norm_value(kind: str, value: object) -> object:
    """Coerce a JSON value to the Python value the uniform takes (None stays None)."""
    if value is None:
        return None
    if kind == "float":
        return _num(value)
    if kind == "long":
        return int(_num(value))
    if kind in ("bool", "event"):
        return _truthy(value)
    if kind == "point2D":
        return _vec(value, 2, 0.0)
    if kind == "color":
        return _vec(value, 4, 1.0)
    return value


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


_ZERO = {"float": 0.0, "long": 0, "bool": False, "event": False, "point2D": (0.0, 0.0)}


def _parse_inputs(raw: object, text: str, path: Path, header_line: int) -> tuple[IsfInput, ...]:
    if not isinstance(raw, list):
        raise ShaderError(
            "INPUTS must be a JSON array", path=path, line=_blame(text, '"INPUTS"', header_line)
        )
    out: list[IsfInput] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, dict):
            raise ShaderError("each INPUTS entry must be an object", path=path, line=header_line)
        name = item.get("NAME")
        kind = item.get("TYPE")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            line = _blame(text, f'"{name}"', header_line) if isinstance(name, str) else header_line
            raise ShaderError(f"input NAME {name!r} is not a valid identifier", path=path, line=line)
        line = _blame(text, f'"{name}"', header_line)
        if kind not in INPUT_TYPES:
            raise ShaderError(
                f"input {name!r} has unknown TYPE {kind!r} (expected one of {', '.join(INPUT_TYPES)})",
                path=path,
                line=line,
            )
        if name in seen:
            raise ShaderError(f"input {name!r} is declared twice", path=path, line=line)
        seen.add(name)
        values = tuple(int(_num(v)) for v in item.get("VALUES", []) or ()) if kind == "long" else ()
        labels = tuple(str(v) for v in item.get("LABELS", []) or ())
        default = _norm_value(kind, item.get("DEFAULT"))
        if default is None:
            if kind == "long" and values:
                default = values[0]
            elif kind == "float" and item.get("MIN") is not None:
                default = _num(item.get("MIN"))
            elif kind == "color":
                default = (0.0, 0.0, 0.0, 1.0)
            else:
                default = _ZERO.get(kind)
        out.append(
            IsfInput(
                name=name,
                type=kind,
                default=default,
                min=_norm_value(kind, item.get("MIN")) if kind not in SAMPLER_TYPES else None,
                max=item.get("MAX") if kind in SAMPLER_TYPES else _norm_value(kind, item.get("MAX")),
                identity=_norm_value(kind, item.get("IDENTITY")),
                values=values,
                labels=labels,
                label=str(item.get("LABEL", "") or ""),
            )
        )
    return tuple(out)


def _upper_keys(d: dict) -> dict:
    return {str(k).upper(): v for k, v in d.items()}


def _size_str(value: object) -> str | None:
    if value is None:
        return None
    return str(value)


def _parse_passes(meta: dict, text: str, path: Path, header_line: int) -> tuple[IsfPass, ...]:
    raw = meta.get("PASSES") or []
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise ShaderError(
            "PASSES must be a JSON array", path=path, line=_blame(text, '"PASSES"', header_line)
        )
    # ISF v1: top-level PERSISTENT_BUFFERS (a list of names, or a dict name -> {WIDTH, HEIGHT, FLOAT}).
    v1 = meta.get("PERSISTENT_BUFFERS") or {}
    if isinstance(v1, str):
        v1 = [v1]
    if isinstance(v1, list):
        v1 = {str(n): {} for n in v1}
    passes: list[IsfPass] = []
    for item in raw or [{}]:
        p = _upper_keys(item) if isinstance(item, dict) else {}
        target = p.get("TARGET") or None
        target = str(target) if target is not None else None
        extra = _upper_keys(v1.get(target, {}) or {}) if target and target in v1 else {}
        passes.append(
            IsfPass(
                target=target,
                persistent=_truthy(p.get("PERSISTENT", False)) or (target is not None and target in v1),
                float=_truthy(p.get("FLOAT", extra.get("FLOAT", False))),
                width=_size_str(p.get("WIDTH", extra.get("WIDTH"))),
                height=_size_str(p.get("HEIGHT", extra.get("HEIGHT"))),
            )
        )
    if not passes:
        passes.append(IsfPass())
    return tuple(passes)


def _parse_imported(raw: object, path: Path, header_line: int) -> dict[str, Path]:
    if not raw:
        return {}
    items: list[tuple[str, object]] = []
    if isinstance(raw, dict):
        items = list(raw.items())
    elif isinstance(raw, list):  # v1 style: [{"NAME": ..., "PATH": ...}]
        items = [(d.get("NAME"), d) for d in raw if isinstance(d, dict)]
    out: dict[str, Path] = {}
    for name, spec in items:
        rel = spec.get("PATH") if isinstance(spec, dict) else spec
        if not isinstance(name, str) or not isinstance(rel, str):
            raise ShaderError("IMPORTED entries need a name and a PATH string", path=path, line=header_line)
        out[name] = path.parent / rel
    return out


# --- WIDTH/HEIGHT expressions -------------------------------------------------------------------

_FUNCS: dict[str, Callable[..., float]] = {
    "floor": math.floor,
    "ceil": math.ceil,
    "round": round,
    "abs": abs,
    "sqrt": lambda x: math.sqrt(max(x, 0.0)),
    "pow": lambda a, b: float(a) ** float(b),
    "min": min,
    "max": max,
    "exp": math.exp,
    "log": lambda x: math.log(x) if x > 0 else 0.0,
    "sin": math.sin,
    "cos": math.cos,
    "trunc": math.trunc,
}
_CONSTS = {"pi": math.pi, "PI": math.pi, "e": math.e, "E": math.e}
_TOKEN = re.compile(
    r"\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|(\$?[A-Za-z_][A-Za-z0-9_]*)|(\S))"
)


class _ExprError(ValueError):
    pass


def compile_size_expr(src: str) -> Callable[[Mapping[str, float]], float]:
    """Compile a pass WIDTH/HEIGHT expression into a function of the variables ($WIDTH -> "WIDTH").

    A small recursive-descent parser: + - * / % ^ (power), unary minus, parentheses and a few
    math functions. Never evaluates Python, so a shader file cannot run code.
    """
    tokens: list[tuple[str, str]] = []
    pos = 0
    src = src.strip()
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        num, ident, op = m.groups()
        if num is not None:
            tokens.append(("num", num))
        elif ident is not None:
            tokens.append(("id", ident))
        elif op is not None:
            tokens.append(("op", op))
    tokens.append(("end", ""))
    i = 0

    def peek() -> tuple[str, str]:
        return tokens[i]

    def take() -> tuple[str, str]:
        nonlocal i
        tok = tokens[i]
        i += 1
        return tok

    def expect(op: str) -> None:
        kind, val = take()
        if kind != "op" or val != op:
            raise _ExprError(f"expected {op!r} in {src!r}")

    def expr() -> Callable:
        left = term()
        while peek() in (("op", "+"), ("op", "-")):
            op = take()[1]
            right = term()
            left = (
                (lambda a, b: lambda v: a(v) + b(v))(left, right)
                if op == "+"
                else (lambda a, b: lambda v: a(v) - b(v))(left, right)
            )
        return left

    def term() -> Callable:
        left = unary()
        while peek() in (("op", "*"), ("op", "/"), ("op", "%")):
            op = take()[1]
            right = unary()
            if op == "*":
                left = (lambda a, b: lambda v: a(v) * b(v))(left, right)
            elif op == "/":
                left = (lambda a, b: lambda v: _div(a(v), b(v)))(left, right)
            else:
                left = (lambda a, b: lambda v: math.fmod(a(v), b(v)) if b(v) else 0.0)(left, right)
        return left

    def unary() -> Callable:
        if peek() == ("op", "-"):
            take()
            inner = unary()
            return lambda v: -inner(v)
        if peek() == ("op", "+"):
            take()
            return unary()
        return power()

    def power() -> Callable:
        base = atom()
        if peek() in (("op", "^"),):
            take()
            exp = unary()
            return lambda v: float(base(v)) ** float(exp(v))
        return base

    def atom() -> Callable:
        kind, val = take()
        if kind == "num":
            f = float(val)
            return lambda v: f
        if kind == "op" and val == "(":
            inner = expr()
            expect(")")
            return inner
        if kind == "id":
            if val.startswith("$"):
                name = val[1:]
                return lambda v: float(v.get(name, 0.0))
            if peek() == ("op", "("):
                fn = _FUNCS.get(val)
                if fn is None:
                    raise _ExprError(f"unknown function {val!r} in {src!r}")
                take()
                args = [expr()]
                while peek() == ("op", ","):
                    take()
                    args.append(expr())
                expect(")")
                return lambda v: float(fn(*(a(v) for a in args)))
            if val in _CONSTS:
                c = _CONSTS[val]
                return lambda v: c
            raise _ExprError(f"unknown name {val!r} in {src!r} (inputs are written $name)")
        raise _ExprError(f"unexpected {val or 'end'!r} in {src!r}")

    result = expr()
    if peek()[0] != "end":
        raise _ExprError(f"unexpected {peek()[1]!r} in {src!r}")
    return result


def _div(a: float, b: float) -> float:
    return a / b if b else 0.0


def _compile_size(src: str | None, text: str, path: Path, header_line: int) -> Callable | None:
    if src is None or not src.strip():
        return None
    try:
        return compile_size_expr(src)
    except _ExprError as exc:
        raise ShaderError(
            f"bad pass size expression: {exc}", path=path, line=_blame(text, src, header_line)
        ) from None


# --- GLSL translation ----------------------------------------------------------------------------

_TEXTURE_FUNCS = {
    "texture2D": "texture",
    "texture2DRect": "texture",
    "texture2DProj": "textureProj",
    "texture2DLod": "textureLod",
    "texture2DRectProj": "textureProj",
    "texture2DProjLod": "textureProjLod",
    "textureCube": "texture",
}
_TEXTURE_RE = re.compile(r"\b(" + "|".join(sorted(_TEXTURE_FUNCS, key=len, reverse=True)) + r")\b")
_VERSION_RE = re.compile(r"^[ \t]*#[ \t]*version\b[^\n]*", re.M)


def translate_body(src: str, *, stage: str) -> str:
    """Rewrite GLSL 1.x idioms to 330 core in place, never adding or removing lines."""
    src = _VERSION_RE.sub("", src)
    src = src.replace("gl_FragColor", "isf_FragColor").replace("gl_FragData[0]", "isf_FragColor")
    src = _TEXTURE_RE.sub(lambda m: _TEXTURE_FUNCS[m.group(1)], src)
    if stage == "fragment":
        src = re.sub(r"\bvarying\b", "in", src)
    else:
        src = re.sub(r"\bvarying\b", "out", src)
        src = re.sub(r"\battribute\b", "in", src)
    return src


_MAIN_RE = re.compile(r"\bvoid\s+main\s*\(")
KEEP_FINITE = "isf_keepFinite"  # the uniform that turns the guard on (off by default: warm-up sees NaN)
_FINITE_MAIN = f"""
#line 1 1
uniform bool {KEEP_FINITE};
void main()
{{
    isf_main();
    if ({KEEP_FINITE} && (any(isnan(isf_FragColor)) || any(isinf(isf_FragColor))))
        discard;  // a pixel that is not finite keeps what this layer showed before
}}
"""


def keep_finite(body: str) -> str:
    """The shader's main() wrapped so that, when `isf_keepFinite` is set (live shows), a pixel that comes
    out NaN or infinite (black on an 8-bit output) is discarded and keeps the layer's last picture. The
    user's lines keep their numbers: main is renamed in place and the wrapper comes after, as source 1."""
    if not _MAIN_RE.search(body):
        return body  # no main: the compiler says so with the user's line numbers
    return _MAIN_RE.sub("void isf_main(", body) + _FINITE_MAIN


def discards(fragment: str) -> bool:
    """Whether an assembled fragment shader discards pixels of its own (besides keep_finite's guard)."""
    return bool(re.search(r"\bdiscard\b", fragment.replace(_FINITE_MAIN, "")))


def _hl_names(frag: str, vert: str, input_names: set[str]) -> tuple[str, ...]:
    """The `hl_*` names a shader uses, minus inputs and uniforms it declares itself."""
    found = set(HL_PATTERN.findall(frag)) | set(HL_PATTERN.findall(vert))
    own = set(re.findall(r"\buniform\s+\w+\s+(hl_[A-Za-z0-9_]+)", frag + vert))
    return tuple(sorted(found - input_names - own))


def _declarations(
    inputs: tuple[IsfInput, ...], buffers: list[str], hl_names: tuple[str, ...], src: str
) -> str:
    lines = [f"uniform {t} {n};" for n, t in BUILTIN_UNIFORMS]
    declared = {n for n, _ in BUILTIN_UNIFORMS}
    for inp in inputs:
        if inp.name not in declared:
            lines.append(f"uniform {GLSL_TYPES[inp.type]} {inp.name};")
            declared.add(inp.name)
    for name in buffers:
        if name not in declared:
            lines.append(f"uniform sampler2D {name};")
            declared.add(name)
    for name in hl_names:
        if name not in declared:
            lines.append(f"uniform {'sampler2D' if name in HL_SAMPLERS else 'float'} {name};")
    # VVISF declares per-image uniforms that some published shaders use directly.
    images = [i.name for i in inputs if i.type in SAMPLER_TYPES] + buffers
    for name in images:
        for suffix, glsl in IMAGE_INFO_UNIFORMS.items():
            if f"_{name}_{suffix}" in src:
                lines.append(f"uniform {glsl} _{name}_{suffix};")
    return "\n".join(lines) + "\n"


def _assemble(decls: str, body: str) -> str:
    # Generated lines are source string 1, the user's file source string 0 from line 1, so an
    # error's "0:LINE" is the line in the file and "1:..." means our declarations.
    return "#version 330 core\n#line 2 1\n" + _MACROS + decls + "#line 1 0\n" + body
