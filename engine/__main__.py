"""`python -m engine` is the `halation` command."""

from engine.cli import main

raise SystemExit(main())
