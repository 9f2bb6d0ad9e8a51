"""Reelay's diffusers engine: open video models (Wan, LTX-Video, CogVideoX) on this machine's GPU.

``task`` holds the typed data that crosses into the engine process and imports nothing heavy; the
modules that import torch and diffusers (``pipelines``, ``runner``, ``tiny``) are only imported
inside that process, so a base install (no ``reelay[diffusers]``) never touches them.
"""
