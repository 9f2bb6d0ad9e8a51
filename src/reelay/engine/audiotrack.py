"""An input video's soundtrack as 48 kHz stereo float32, and tempo changes that keep pitch.

Video-to-video keeps the user's audio: any codec, rate or channel layout PyAV decodes is
resampled to the engine's one format, so mono, 44.1 kHz or 5.1 inputs all come out the same way.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from reelay.engine.spec import AUDIO_RATE
from reelay.errors import InvalidMedia

CHUNK = 4096


def read_audio(path: Path, max_seconds: float) -> np.ndarray:
    """Decode the first audio stream (at most ``max_seconds`` of it) to a (2, n) float32 array."""
    limit = round(max_seconds * AUDIO_RATE)
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
                    total += out.samples
                if total >= limit:
                    break
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
    except av.FFmpegError as exc:
        raise InvalidMedia(f"{path.name}: its audio track could not be decoded; re-export the file") from exc
    if not chunks:
        return np.zeros((2, 0), dtype=np.float32)
    pcm = np.concatenate(chunks, axis=1)[:, :limit]
    return np.ascontiguousarray(pcm, dtype=np.float32)


def change_tempo(pcm: np.ndarray, speed: float) -> np.ndarray:
    """Play ``pcm`` at ``speed`` (0.5..2) without changing pitch, via libavfilter's ``atempo``."""
    if speed == 1.0 or pcm.shape[1] == 0:
        return pcm
    graph = av.filter.Graph()
    source = graph.add_abuffer(
        sample_rate=AUDIO_RATE, format="fltp", layout="stereo", time_base=Fraction(1, AUDIO_RATE)
    )
    tempo = graph.add("atempo", f"{speed}")
    planar = graph.add("aformat", f"sample_fmts=fltp:sample_rates={AUDIO_RATE}:channel_layouts=stereo")
    sink = graph.add("abuffersink")
    graph.link_nodes(source, tempo, planar, sink)
    graph.configure()
    out: list[np.ndarray] = []
    for start in range(0, pcm.shape[1], CHUNK):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(pcm[:, start : start + CHUNK]), format="fltp", layout="stereo"
        )
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        frame.time_base = Fraction(1, AUDIO_RATE)
        graph.push(frame)
        _drain(graph, out)
    graph.push(None)
    _drain(graph, out)
    return np.concatenate(out, axis=1).astype(np.float32) if out else np.zeros((2, 0), np.float32)


def _drain(graph: av.filter.Graph, out: list[np.ndarray]) -> None:
    while True:
        try:
            frame = graph.pull()
        except (av.BlockingIOError, av.EOFError):
            return
        out.append(frame.to_ndarray())
