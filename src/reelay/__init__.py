"""Reelay: a self-hostable, OpenAI-compatible video-generation gateway."""

__version__ = "0.1.0"
