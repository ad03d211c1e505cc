"""Actions that are not parameter values: go to a cue, recall a preset, pick a clip, fire a transition.

A `ControlCommand` travels beside `ParamMessage`s: inputs leave it in the inbox, the render thread collects it
with `ControlHub.drain_commands()` and applies it between frames, like a parameter change.
"""

from __future__ import annotations

from dataclasses import dataclass

CommandArg = str | float


@dataclass(frozen=True, slots=True)
class ControlCommand:
    """`action` names what to do (see ACTIONS); `args` its arguments (cue number or name, clip, seconds)."""

    action: str
    args: tuple[CommandArg, ...] = ()


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """An action's place in the address space: `path` under the root prefix, argument types, and help."""

    action: str
    path: str  # e.g. "cue/go"; the address is prefix + "/" + path
    arg: str = ""  # "" = trigger (no argument, T, or a level >= 0.5); "s" = name or number; "f" = seconds
    description: str = ""
    fixed: tuple[CommandArg, ...] = ()  # arguments implied by the address (e.g. the deck of deck/a/clip)
    optional: bool = False  # the argument may be left out (the action then fires with no argument)

    @property
    def is_trigger(self) -> bool:
        return self.arg == "" or self.optional


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "cue.go", "cue/go", "s", 'Go: run the next cue (a time, e.g. "4 bars", morphs over it)', optional=True
    ),
    ActionSpec("cue.back", "cue/back", description="Back: return to the previous cue"),
    ActionSpec("cue.goto", "cue/goto", "s", "Go to a cue by number (1-based) or by name"),
    ActionSpec("preset.recall", "preset/recall", "s", "Recall a preset by name (or number in the setlist)"),
    ActionSpec("snapshot.save", "snapshot/save", "s", "Save the current look as a snapshot", optional=True),
    ActionSpec("deck.select", "deck/a/clip", "s", "Load a clip on deck A by name (or 1-based index)", ("a",)),
    ActionSpec("deck.select", "deck/b/clip", "s", "Load a clip on deck B by name (or 1-based index)", ("b",)),
    ActionSpec("transition.fire", "transition/fire", description="Crossfade to the other deck"),
    ActionSpec("transition.duration", "transition/duration", "f", "Crossfade duration in seconds"),
)
