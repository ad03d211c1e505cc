"""One module per `halation` subcommand: each has HELP, add_arguments(parser) and run(args) -> exit code.

To add a subcommand, write engine/commands/<name>.py and list it in COMMANDS.
"""

COMMANDS = (
    "demo",
    "perform",
    "rehearse",
    "render",
    "analyze",
    "check",
    "devices",
    "prepare",
    "bench",
    "credits",
    "fixture",
)
