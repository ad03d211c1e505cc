"""The command line of the booth (perform): --link, --send-features, --midi-clock-out, --ndi, --follow."""

from __future__ import annotations

import argparse
import logging

from engine.output.features_out import parse_target

log = logging.getLogger(__name__)
LINK_MODES = ("follow", "lead", "auto")


def _target(text: str) -> tuple[str, int]:
    try:
        return parse_target(text)
    except Exception as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_sync_arguments(p) -> None:
    p.add_argument(
        "--link",
        choices=LINK_MODES,
        help="join the Ableton Link session: follow its tempo and phase, lead it from what is heard, or "
        "auto (lead while music is heard, follow a peer that sets the tempo); switch with /hl/link/mode",
    )
    p.add_argument(
        "--send-features",
        type=_target,
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="stream the analysis as OSC bundles (NTP timetags) to HOST:PORT; repeat for more",
    )
    p.add_argument(
        "--midi-clock-out",
        metavar="PORT",
        help="send MIDI clock (24 ppqn, start/stop, song position) from the show's tempo to this MIDI "
        "output (part of its name, or 'virtual' for a port named 'Halation clock'; --midi-api: the system)",
    )
    p.add_argument(
        "--ndi",
        metavar="NAME",
        help="send the program as the NDI source NAME (for media servers, LED processors, OBS)",
    )
    p.add_argument(
        "--follow",
        type=_target,
        metavar="HOST:PORT",
        help="render node: no audio input; draw from the feature stream of the Halation at HOST "
        "(or a multicast group) arriving on PORT",
    )


def build_sync(args, feed, size: tuple[int, int] | None = None) -> tuple[list, list]:
    """(Features stages, sinks) for what the command line asks; nothing for commands without the flags. If
    one cannot start (a port in use, a host that does not resolve), those already made are let go."""
    stages: list = []
    sinks: list = []
    try:
        _build(args, feed, size, stages, sinks)
    except BaseException:
        for stage in stages:
            stage.close()
        for sink in sinks:
            sink.release()
        raise
    return stages, sinks


def _build(args, feed, size, stages: list, sinks: list) -> None:
    targets = getattr(args, "send_features", None) or []
    stream = None
    if targets:
        from engine.output.features_out import FeatureStream

        stream = FeatureStream(targets, feed.position)
        stream.grid_heard = lambda: all(getattr(stage, "grid_heard", True) for stage in stages)
        sinks.append(stream)
    clock_out = getattr(args, "midi_clock_out", None)
    if clock_out:
        from engine.control.midi_clock import MidiClockOut, open_midi_out

        port, name = open_midi_out(clock_out, getattr(args, "midi_api", None))
        log.info("MIDI clock out on '%s'", name)
        sinks.append(MidiClockOut(port.send_message, feed.position, port))
    ndi = getattr(args, "ndi", None)
    if ndi and size is not None:
        from engine.output.ndi import NdiSink

        sinks.append(NdiSink(ndi, size, getattr(args, "fps", None) or 60.0))
    follow = getattr(args, "follow", None)
    node = None
    if follow:
        from engine.sync.follow import FollowStage, StreamReceiver

        node = FollowStage(StreamReceiver(*follow), feed.position)
        stages.append(node)
    link = getattr(args, "link", None)
    if link:  # late: it joins the session, which other peers see at once
        from engine.sync.link import LinkPeer, LinkSync

        sync = LinkSync(LinkPeer(), link, feed.position)
        stages.append(sync)
        if node is not None:  # the stream's grid is the leader's own; Link carries the leader's clock
            node.link, sync.defer = sync, lambda: node.connected
        if stream is not None:
            stream.link_beat = sync.link_beat
    if stream is not None:
        _schedule(stream, node, stages)


def _schedule(stream, node, stages: list) -> None:
    """A show that streams moves its beat a moment after saying so (engine.sync.schedule); a render node
    passes on its leader's word instead (its grid already moves when the leader's does)."""
    if node is not None:
        stream.pending = node.pending
        return
    from engine.sync.schedule import GridSchedule

    schedule = GridSchedule()
    stages.append(schedule)  # last: it schedules the grid the frame would be drawn with
    stream.pending = schedule.pending
