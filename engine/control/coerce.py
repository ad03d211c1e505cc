"""OSC arguments → what a target wants: a parameter value or a command, with desk-friendly rules.

Ints, floats, doubles, T/F and numeric strings all set a number; the source's profile says what range its
levels are in. Buttons read the same from every desk: triggers fire on no argument, T, or a number >= 0.5,
and a release (0, F) does not fire again; a bool without an argument toggles, with one it is on from 0.5.
Resolume's modifiers lead a number with a string: "+" and "-" move a level by that share of its range, "*"
multiplies it (a tempo: the BPM), "a" sets it as a plain number would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.control.address import Target
from engine.control.commands import ControlCommand
from engine.control.profiles import UNIT_PARAMS, fraction
from engine.params.store import ParamValue


class ArgError(ValueError):
    """Arguments a target cannot use; `reason` is the counter it is filed under."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _number(arg: Any) -> tuple[float, bool]:
    """(value, was written as a whole number)."""
    if isinstance(arg, bool):
        return float(arg), True
    if isinstance(arg, int):
        return float(arg), True
    if isinstance(arg, float):
        if arg != arg or arg in (float("inf"), float("-inf")):
            raise ArgError("bad-argument")
        return float(f"{arg:.7g}"), False  # OSC floats are 32-bit: 0.3 arrives as 0.30000001192…
    if isinstance(arg, str):
        text = arg.strip()
        try:
            value = float(text)
        except ValueError:
            raise ArgError("bad-argument") from None
        if value != value or abs(value) == float("inf"):
            raise ArgError("bad-argument")
        return value, text.lstrip("+-").isdigit()
    raise ArgError("bad-argument")


def level(arg: Any, profile: str, lo: float, hi: float) -> float:
    """A number in [lo, hi] terms: T/F are full and zero; other numbers go through the profile."""
    if isinstance(arg, bool):
        return hi if arg else lo
    value, whole = _number(arg)
    share = fraction(value, profile, whole)
    return value if share is None else lo + share * (hi - lo)


def fires(args: Sequence[Any]) -> bool:
    """Trigger semantics: no argument, nil, T, or a number >= 0.5 fires, whatever the profile: desk buttons
    send 1.0/0.0 (Eos), 100/0 (grandMA3) or T/F, and a percent desk's button must not read as 1 %."""
    if not args or args[0] is None:
        return True
    return _number(args[0])[0] >= 0.5


def _color(args: Sequence[Any], profile: str) -> tuple[float, ...]:
    if len(args) == 1 and isinstance(args[0], int) and not isinstance(args[0], bool):
        packed = args[0] & 0xFFFFFFFF  # an OSC 'r' RGBA colour, 8 bits a channel
        return tuple(((packed >> shift) & 0xFF) / 255.0 for shift in (24, 16, 8, 0))
    if len(args) not in (3, 4):
        raise ArgError("bad-argument-count")
    rgba = [min(max(level(a, profile, 0.0, 1.0), 0.0), 1.0) for a in args]
    return tuple(rgba + [1.0] * (4 - len(rgba)))


MODIFIERS = ("a", "+", "-", "*")  # Resolume: absolute, add, subtract, multiply (then the number)


def modifier(args: Sequence[Any]) -> tuple[str, Sequence[Any]]:
    """Resolume's leading modifier string, if any, and the arguments after it."""
    if len(args) >= 2 and isinstance(args[0], str) and args[0].strip() in MODIFIERS:
        return args[0].strip(), args[1:]
    return "", args


def _scalar(target: Target, arg: Any, profile: str) -> float:
    """A number for a float or long target, in the parameter's units."""
    param = target.param
    assert param is not None
    if target.read is not None:
        return target.read(_number(arg)[0])
    if target.span is not None:
        return level(arg, profile, *target.span)
    if param.name in UNIT_PARAMS:
        return _number(arg)[0]
    return level(arg, profile, param.min, param.max)


def _relative(how: str, target: Target, arg: Any, profile: str, current: ParamValue | None) -> float:
    """`current` moved by a Resolume modifier: + and - by a share of the range (in the source's
    profile), * times the number (a share of the range, or a BPM for the tempo)."""
    param = target.param
    assert param is not None
    by, whole = _number(arg)
    now = float(current) if isinstance(current, int | float) else float(param.default)  # type: ignore[arg-type]
    lo, hi = target.span or (param.min, param.max)
    if how == "*":
        if target.read is not None or param.name in UNIT_PARAMS:
            return now * by
        return lo + (now - lo) * by
    now = min(max(now, min(lo, hi)), max(lo, hi))
    share = fraction(by, profile, whole)
    step = by if share is None or (param.name in UNIT_PARAMS and target.span is None) else share * (hi - lo)
    return now + step if how == "+" else now - step


def param_value(
    target: Target, args: Sequence[Any], profile: str, current: ParamValue | None
) -> ParamValue | None:
    """The value to set, or None when there is nothing to do (a trigger's release)."""
    param = target.param
    assert param is not None
    profile = target.profile or profile
    kind = param.kind
    if target.value is not None:  # a button that sets a value (Resolume's crossfader sides)
        return target.value if fires(args) else None
    how, args = modifier(args)
    if kind == "event":
        return True if fires(args) else None
    if kind == "bool":
        if not args or args[0] is None:
            return not bool(current)
        return fires(args)
    if kind in ("float", "long"):
        if not args or args[0] is None:
            raise ArgError("missing-value")
        if how in ("+", "-", "*"):
            return _relative(how, target, args[0], profile, current)
        return _scalar(target, args[0], profile)
    if kind == "color":
        return _color(args, profile)
    if kind == "point2D":
        if len(args) != 2:
            raise ArgError("bad-argument-count")
        return tuple(level(a, profile, param.min, param.max) for a in args)
    raise ArgError("unsupported")


def _name_or_number(arg: Any) -> str | float:
    if isinstance(arg, str):
        text = arg.strip()
        try:
            return float(text)
        except ValueError:
            if not text:
                raise ArgError("missing-value") from None
            return text
    if arg is None or isinstance(arg, bool):
        raise ArgError("missing-value")
    return _number(arg)[0]


def command(target: Target, args: Sequence[Any], profile: str) -> ControlCommand | None:
    """The command an action's address asks for, or None for a trigger's release."""
    spec = target.action
    assert spec is not None
    profile = target.profile or profile
    args = modifier(args)[1]
    if spec.arg == "s" and args and isinstance(args[0], str):
        return ControlCommand(spec.action, (*spec.fixed, _name_or_number(args[0])))
    if spec.is_trigger:
        return ControlCommand(spec.action, spec.fixed) if fires(args) else None
    if not args:
        raise ArgError("missing-value")
    if spec.arg == "f":
        return ControlCommand(spec.action, (*spec.fixed, _number(args[0])[0]))
    return ControlCommand(spec.action, (*spec.fixed, _name_or_number(args[0])))
