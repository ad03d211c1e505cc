"""Control: lighting desks, controllers and networks drive the show without ever touching a frame.

Every input (OSC over UDP/TCP/WebSocket, MIDI, sACN) runs in its own receive thread, decodes and checks what
arrives, and leaves parameter values and commands in one `Inbox`. The render thread collects them with
`ControlHub.drain()` at the start of a frame and publishes what it showed back with `publish()`, which feeds
OSC feedback and OSCQuery. Nothing here imports GL.

Modules, one job each (python-osc style):
  commands         ControlCommand (cue go, preset recall…) and the catalogue of actions
  guard            check an OSC message's layout before python-osc parses it
  codec            OSC packets → timed messages (bundle framing, depth limit); feedback encoding
  framing          TCP stream → packets (OSC 1.0 length prefix or SLIP, detected per connection)
  pattern          OSC address patterns (`? * [] [!] {} //`) → regular expressions
  address          the address space generated from the live parameters, plus the Resolume aliases
  aliases          a desk's own addresses mapped onto targets (--osc-alias)
  targets          a parameter or action by name, for MIDI maps and fixture files
  profiles         level profiles per source (native, 0–1, 0–100, 0–255, auto)
  coerce           OSC arguments → a parameter value (ints, floats, T/F, numeric strings, triggers)
  security         allowlist of source networks and a per-source rate limit
  stats            counters of packets, messages and rejections by reason
  inbox            coalescing hand-off to the render thread; bundles held until their show time
  router           one packet from one source → inbox, replies and feedback registrations
  udp, tcp         the transports: one receive thread each, no thread per packet
  feedback         value echoes, BPM, beat and cue sent to registered clients
  oscquery         the OSCQuery namespace as JSON
  oscquery_server  its HTTP + WebSocket server (one asyncio thread)
  advertise        zeroconf: _oscjson._tcp and _osc._udp
  midi_map, midi_clock, midi   MIDI in: CC/note maps, learn, MIDI clock as tempo
  fixture, dmx     sACN (E1.31) in with a fixture channel list
  hub              the ControlSurface that the live loop drives
  options          the `perform` command-line options and building the hub from them
"""
