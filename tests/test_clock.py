from engine.clock import LiveClock, OfflineClock


def test_offline_clock_steps_exact_frame_times():
    clock = OfflineClock(30)
    times = [clock.tick() for _ in range(4)]
    assert [t.time for t in times] == [0.0, 1 / 30, 2 / 30, 3 / 30]
    assert [t.index for t in times] == [0, 1, 2, 3]
    assert times[1].delta == 1 / 30
    assert times[0].date == (2000.0, 1.0, 1.0, 0.0)  # offline frames never depend on today's date


class FakeTime:
    """A controllable monotonic clock: the test drives time instead of sleeping."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_live_clock_follows_audio_and_free_runs_when_audio_drops_out():
    mono = FakeTime()
    audio = {"pos": 1.0}
    clock = LiveClock(lambda: audio["pos"], monotonic=mono)
    assert clock.tick().time == 1.0
    audio["pos"] = None  # device gone: keep running from the last audio time
    mono.now += 0.5
    assert abs(clock.tick().time - 1.5) < 1e-9
    audio["pos"] = 1.2  # device back but behind: time never runs backwards
    assert clock.tick().time >= 1.5


def test_frames_lead_the_audio_by_the_projectors_delay():
    """With an A/V offset of 80 ms every frame is drawn for 80 ms after the sound being played now, also
    while the device is away, so a flash drawn on the beat is lit when the beat is heard."""
    mono = FakeTime()
    audio = {"pos": 2.0}
    clock = LiveClock(lambda: audio["pos"], monotonic=mono, lead=0.08)
    assert abs(clock.tick().time - 2.08) < 1e-9
    audio["pos"] = None
    mono.now += 0.5
    assert abs(clock.tick().time - 2.58) < 1e-9
