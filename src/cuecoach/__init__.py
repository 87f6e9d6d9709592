"""cuecoach: compile follow-along exercise routines written in YAML into voice-guided MP3s."""

__version__ = "0.1.0"
