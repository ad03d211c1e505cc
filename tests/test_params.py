import pytest

from engine.errors import HalationError
from engine.params.modulation import Modulation, Modulator
from engine.params.store import Param, ParamMessage, ParamStore


def store():
    return ParamStore([Param("shader.zoom", "float", 0.2, 0.0, 2.0), Param("shader.strobe", "bool", False)])


def test_modulation_adds_amount_of_range_and_clamps():
    m = Modulator(store(), (Modulation("shader.zoom", "bass.hits", amount=0.5),))
    assert m.evaluate({"bass.hits": 0.0}, 1 / 60)["shader.zoom"] == pytest.approx(0.2)
    assert m.evaluate({"bass.hits": 1.0}, 1 / 60)["shader.zoom"] == pytest.approx(0.2 + 0.5 * 2.0)
    big = Modulator(store(), (Modulation("shader.zoom", "bass.hits", amount=5.0),))
    assert big.evaluate({"bass.hits": 1.0}, 1 / 60)["shader.zoom"] == 2.0


def test_range_and_curve_map_the_source():
    mod = Modulation("shader.zoom", "loudness", range=(-40.0, -10.0), curve="step")
    assert mod.shape(-30.0) == 0.0
    assert mod.shape(-20.0) == 1.0
    assert Modulation("a", "b", curve="exp").shape(0.5) == 0.25


def test_smoothing_follows_gradually():
    m = Modulator(store(), (Modulation("shader.zoom", "bass.level", amount=0.5, smooth=0.5),))
    first = m.evaluate({"bass.level": 1.0}, 0.1)["shader.zoom"]
    assert 0.2 < first < 0.5
    for _ in range(100):
        last = m.evaluate({"bass.level": 1.0}, 0.1)["shader.zoom"]
    assert last == pytest.approx(1.2, abs=1e-3)


def test_bool_target_switches_on_above_half():
    m = Modulator(store(), (Modulation("shader.strobe", "onset"),))
    assert m.evaluate({"onset": 0.2}, 0.01)["shader.strobe"] is False
    assert m.evaluate({"onset": 0.9}, 0.01)["shader.strobe"] is True


def test_messages_set_base_values_and_unknown_names_are_refused():
    s = store()
    s.apply([ParamMessage("shader.zoom", 9.0)])
    assert s.base()["shader.zoom"] == 2.0
    with pytest.raises(HalationError, match=r"unknown parameter 'shader\.nope'"):
        s.set("shader.nope", 1.0)


def test_events_fire_for_one_frame_only():
    s = ParamStore([Param("tempo.tap", "event")])
    s.apply([ParamMessage("tempo.tap", True), ParamMessage("not.in.this.show", 1.0)])
    assert s.base()["tempo.tap"] is True
    s.reset_events()
    assert s.base()["tempo.tap"] is False


def test_tempo_params_become_clock_commands():
    from engine.params.tempo import tempo_commands

    before = {"tempo.tap": False, "tempo.bpm": 0.0, "tempo.lock": False, "tempo.nudge": 0.0}
    after = {**before, "tempo.tap": True, "tempo.bpm": 128.0, "tempo.nudge": -0.1}
    kinds = {(c.kind, c.value, c.at) for c in tempo_commands(before, after, 12.5)}
    assert kinds == {("tap", 0.0, 12.5), ("bpm", 128.0, None), ("nudge", -0.1, None)}
    assert tempo_commands(after, {**after, "tempo.tap": False, "tempo.nudge": 0.0}, 13.0) == []
