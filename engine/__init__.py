"""Halation: a real-time, audio-reactive live visuals engine."""

__version__ = "0.1.0"
