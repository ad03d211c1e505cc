"""The preview's keys and mouse: the show keys (GO, BACK, tap, resync, blackout, freeze, next clip, HUD)
and stage edit mode, where the operator drags an output's corners and mesh points with the mouse or nudges
them with the arrow keys, and saves the stage file (atomically, the previous one kept as .bak).

Corner and mesh point moves travel as `stage.<output>.keystone.<corner>` and `stage.<output>.mesh.<c>.<r>`
parameter messages, exactly as an OSC desk's do, so the desk's feedback follows. L (in stage edit only,
so it cannot happen by accident) steps the flash limit standard -> strict -> off -> standard.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from engine.control.commands import ControlCommand
from engine.output.stage import FLASH_LIMITS, Stage
from engine.output.stage_params import CORNERS, FLASH_LIMIT, mesh_name
from engine.output.warp import apply_homography, keystone_matrix
from engine.params.store import ParamMessage

log = logging.getLogger(__name__)

NUDGE_PX, NUDGE_FAST_PX = 1, 10
PICK_RADIUS = 0.06  # of the output: how near the mouse must be to grab a point


class StageEditor:
    """Which output is being edited and which of its points is selected; turns moves into messages."""

    def __init__(self, stage: Stage, outputs: list, control):
        self.stage = stage
        self.outputs = outputs  # OutputSinks
        self.control = control  # StageControl: saves the stage file, holds the flash limit
        self.editing: str | None = None
        self.point = 0  # 0..3 the keystone corners TL, TR, BR, BL; 4.. the mesh points
        self.messages: list[ParamMessage] = []
        self._corners: list[tuple[float, float]] = []  # the edited output's keystone as edited so far
        self._mesh: list[tuple[float, float]] = []  # and its mesh points (in the picture)
        control.busy = lambda: bool(self.messages)  # a save waits for the moves made before it

    def _output(self):
        return next((o for o in self.outputs if o.spec.name == self.editing), None)

    def toggle(self) -> None:
        """E: edit the first output, then the next, then leave edit mode."""
        names = [o.spec.name for o in self.outputs]
        if self.editing is None:
            self.editing = names[0] if names else None
        else:
            i = names.index(self.editing) + 1
            self.editing = names[i] if i < len(names) else None
        self.point = 0
        out = self._output()
        self._corners = list(out.spec.keystone) if out is not None else []
        self._mesh = list(out.spec.mesh.points) if out is not None and out.spec.mesh is not None else []
        for o in self.outputs:
            edited = o.spec.name == self.editing
            o.compositor.markers = self.markers() if edited else None
            o.compositor.want_picture = edited  # the preview shows it
        log.info("stage edit: %s", self.editing or "off")

    def handles(self) -> list[tuple[float, float]]:
        """The edited output's points in output coordinates (0..1, y down): corners, then mesh points."""
        out = self._output()
        if out is None:
            return []
        points = list(self._corners)
        if self._mesh:
            h = keystone_matrix(replace(out.spec, keystone=tuple(self._corners)))
            points += [tuple(p) for p in apply_homography(h, self._mesh)]
        return points

    def markers(self):
        return (self.handles(), self.point)

    def select(self, i: int) -> None:
        if 0 <= i < len(self.handles()):
            self.point = i
            self._refresh()

    def pick(self, x: float, y: float) -> bool:
        """Select the point nearest (x, y) when it is within reach (a mouse press)."""
        handles = self.handles()
        if not handles:
            return False
        d = [np.hypot(px - x, py - y) for px, py in handles]
        best = int(np.argmin(d))
        if d[best] > PICK_RADIUS:
            return False
        self.select(best)
        return True

    def nudge(self, dx_px: float, dy_px: float) -> None:
        out = self._output()
        if out is None:
            return
        w, h = out.spec.size
        x, y = self.handles()[self.point]
        self.move_to(x + dx_px / w, y + dy_px / h)

    def move_to(self, x: float, y: float) -> None:
        """Put the selected point at (x, y) of the output."""
        out = self._output()
        if out is None:
            return
        x, y = float(np.clip(x, -1.0, 2.0)), float(np.clip(y, -1.0, 2.0))
        if self.point < 4:
            self.messages.append(
                ParamMessage(f"stage.{out.spec.name}.keystone.{CORNERS[self.point]}", (x, y))
            )
            self._corners[self.point] = (x, y)
            self._refresh()
            return
        inverse = np.linalg.inv(keystone_matrix(replace(out.spec, keystone=tuple(self._corners))))
        ((u, v),) = apply_homography(inverse, [(x, y)])
        i = self.point - 4
        self._mesh[i] = (float(u), float(v))
        columns = out.spec.mesh.columns
        self.messages.append(ParamMessage(mesh_name(out.spec.name, i % columns, i // columns), self._mesh[i]))
        self._refresh()

    def step_flash_limit(self) -> None:
        """L in stage edit: the next flash limit (the change is logged and shown on the preview)."""
        mode = FLASH_LIMITS[(FLASH_LIMITS.index(self.control.limit) + 1) % len(FLASH_LIMITS)]
        self.messages.append(ParamMessage(FLASH_LIMIT, float(FLASH_LIMITS.index(mode))))

    def _refresh(self) -> None:
        out = self._output()
        if out is not None:
            out.compositor.markers = self.markers()

    def request_save(self) -> None:
        """S: save once the moves made so far are on the outputs (see StageControl.save_when_done)."""
        self.control.request_save()

    def notices(self) -> list[str]:
        saved = [self.control.saved_note] if self.control.saved_note else []
        if self.editing is None:
            return saved
        what = CORNERS[self.point].upper() if self.point < 4 else f"mesh point {self.point - 4}"
        return [
            f"STAGE EDIT {self.editing}: {what} — drag, arrows nudge (Shift x10), 1-4 corners,"
            f" Tab next point, S save, L flash limit ({self.control.limit}), E next output / done",
            *saved,
        ]


class PreviewControl:
    """The preview window as a control surface: keys become the show's parameter messages and operator
    commands, taken by the loop at the next frame like any desk's."""

    name = "preview keys"

    def __init__(self, window, preview_sink, editor: StageEditor, outputs: list):
        import glfw

        self._glfw = glfw
        self.window = window
        self.preview_sink = preview_sink  # the WindowSink (its `hud`)
        self.editor = editor
        self.outputs = outputs
        self.base: dict = {}
        self._messages: list[ParamMessage] = []
        self._commands: list[ControlCommand] = []
        self._dragging = False
        self._pointer = (0.0, 0.0)
        k = glfw
        self._params = {k.KEY_T: "tempo.tap", k.KEY_R: "tempo.resync"}
        self._toggles = {k.KEY_B: "master.blackout", k.KEY_F: "master.freeze"}
        self._actions = {k.KEY_SPACE: "cue.go", k.KEY_BACKSPACE: "cue.back", k.KEY_N: "transition.fire"}
        glfw.set_mouse_button_callback(window.handle, self._on_button)
        glfw.set_cursor_pos_callback(window.handle, self._on_cursor)

    # --- ControlSurface ---
    def start(self, params) -> None:
        pass

    def drain(self) -> list[ParamMessage]:
        out, self._messages = [*self._messages, *self.editor.messages], []
        self.editor.messages = []
        return out

    def drain_commands(self) -> list[ControlCommand]:
        out, self._commands = self._commands, []
        return out

    def publish(self, state) -> None:
        self.base = dict(state.base if state.base is not None else state.values)

    def stop(self) -> None:
        pass

    # --- keys and mouse ---
    def press(self, key: int) -> None:
        glfw = self._glfw
        if key in self._params:
            self._messages.append(ParamMessage(self._params[key], True))
        elif key in self._toggles:
            name = self._toggles[key]
            self._messages.append(ParamMessage(name, not bool(self.base.get(name, False))))
        elif key in self._actions:
            self._commands.append(ControlCommand(self._actions[key]))
        elif key == glfw.KEY_H:
            self.preview_sink.hud = not self.preview_sink.hud
        elif key == glfw.KEY_E:
            self.editor.toggle()
        elif key == glfw.KEY_M:
            for out in self.outputs:
                if out.lost:
                    out.restore()
        elif self.editor.editing is not None:
            self._edit_key(key)

    def _edit_key(self, key: int) -> None:
        glfw = self._glfw
        fast = glfw.get_key(self.window.handle, glfw.KEY_LEFT_SHIFT) == glfw.PRESS
        step = NUDGE_FAST_PX if fast else NUDGE_PX
        moves = {
            glfw.KEY_LEFT: (-step, 0),
            glfw.KEY_RIGHT: (step, 0),
            glfw.KEY_UP: (0, -step),
            glfw.KEY_DOWN: (0, step),
        }
        if key in moves:
            self.editor.nudge(*moves[key])
        elif glfw.KEY_1 <= key <= glfw.KEY_4:
            self.editor.select(key - glfw.KEY_1)
        elif key == glfw.KEY_TAB:
            self.editor.select((self.editor.point + 1) % max(1, len(self.editor.handles())))
        elif key == glfw.KEY_S:
            self.editor.request_save()
        elif key == glfw.KEY_L:
            self.editor.step_flash_limit()

    def _output_coords(self, x: float, y: float) -> tuple[float, float]:
        from engine.output.window import letterbox

        size = self._glfw.get_window_size(self.window.handle)
        x0, y0, w, h = letterbox(size, self.window.content_size)
        return (x - x0) / w, (y - y0) / h

    def _on_button(self, handle, button, action, _mods) -> None:
        glfw = self._glfw
        if button != glfw.MOUSE_BUTTON_LEFT or self.editor.editing is None:
            return
        if action == glfw.PRESS:  # where the pointer was at this event (X11's query says where it is now)
            self._dragging = self.editor.pick(*self._output_coords(*self._pointer))
        elif action == glfw.RELEASE:
            self._dragging = False

    def _on_cursor(self, _handle, x: float, y: float) -> None:
        self._pointer = (x, y)
        if self._dragging:
            self.editor.move_to(*self._output_coords(x, y))
