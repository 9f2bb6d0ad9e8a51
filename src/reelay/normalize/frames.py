"""Report entries for models Reelay runs itself: how seconds became frames, and where sound comes from.

A diffusion model renders frame counts on a grid (Wan 4k+1, LTX 8k+1), so the seconds a client asks
for become the nearest valid count at the card's fps; the report shows the count and the length
it really gives. A model without sound gets the procedural ambient bed, and the report says so.
"""

from __future__ import annotations

from reelay.catalog import ModelCard
from reelay.normalize.report import ReportBehaviour, ReportEntry

PROCEDURAL_AUDIO = "the model makes no sound; Reelay adds its procedural ambient bed (engine/audio.py)"
MODEL_AUDIO = "the model's own soundtrack, muxed as AAC"


def engine_entries(card: ModelCard, seconds: float) -> list[ReportEntry]:
    """The ``frames`` and ``audio`` entries for a card with an ``[engine]`` table (else none)."""
    engine = card.engine
    if engine is None:
        return []
    wanted = seconds * card.fps
    frames = engine.frames_for(seconds, card.fps)
    note = (
        f"{seconds:g} s × {card.fps} fps = {wanted:g} frames; {card.id} renders {engine.frame_step}k+1 frames "
        f"(at most {engine.max_frames}): {frames} frames, {frames / card.fps:.2f} s"
    )
    behaviour: ReportBehaviour = "passthrough" if abs(frames - wanted) < 1e-9 else "converted"
    audio = (
        ReportEntry("audio", "passthrough", None, "model", note=MODEL_AUDIO)
        if engine.audio == "model"
        else ReportEntry("audio", "emulated", None, "procedural", note=PROCEDURAL_AUDIO)
    )
    return [ReportEntry("frames", behaviour, round(wanted, 3), frames, note=note, upstream="num_frames"), audio]
