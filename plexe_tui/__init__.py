"""plexe-tui: build machine-learning models through the Plexe Platform API."""

__version__ = "0.1.0"
