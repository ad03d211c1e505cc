"""What keeps a show running whatever happens in the room: guarded frame stages and the watchdog."""
