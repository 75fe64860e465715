"""kocall: the command line and the one settings object shared by every stage."""

__version__ = "0.1.0"
