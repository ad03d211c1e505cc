"""Rehearsal starts at once: the track is decoded from --from on, a few seconds before the first frame and
the rest behind the play position; what the show hears is the track, sample for sample."""

import argparse
import time

import numpy as np
import pytest

from engine.audio.file import audio_duration, load_audio, stream_audio
from engine.audio.synth import drum_loop, write_wav
from engine.commands.rehearse import HEAD_SECONDS, _streamed_section


@pytest.fixture(scope="module")
def track(tmp_path_factory):
    return write_wav(drum_loop(120.0, 20), tmp_path_factory.mktemp("track") / "loop.wav")  # 40 s


def test_the_track_streams_from_any_point_sample_for_sample(track):
    full = load_audio(track).samples
    assert audio_duration(track) == pytest.approx(len(full) / 48000)
    for start in (0.0, 13.37):
        streamed = np.concatenate(list(stream_audio(track, start)))
        i = round(start * 48000)
        assert len(streamed) == len(full) - i
        np.testing.assert_array_equal(streamed, full[i:])


def test_a_section_plays_its_first_seconds_at_once_and_the_rest_fills_in_behind(track):
    args = argparse.Namespace(track=str(track), loop=False, no_sound=True, audio_out=None)
    feed = _streamed_section(args, 5.0, 35.0)
    want = load_audio(track).samples[5 * 48000 : 35 * 48000]
    head = round(HEAD_SECONDS * 48000)
    np.testing.assert_array_equal(feed.audio.samples[:head], want[:head])  # there before the first frame
    deadline = time.monotonic() + 30
    while not np.array_equal(feed.audio.samples[-4800:], want[-4800:]) and time.monotonic() < deadline:
        time.sleep(0.05)
    np.testing.assert_array_equal(feed.audio.samples, want)
