"""Sync with the other machines of the booth: Ableton Link (tempo and phase) and render nodes."""
