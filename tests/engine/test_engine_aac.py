"""The writer's AAC track on its own thread: the same packets as inline encoding, errors surfaced."""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from reelay.engine.encode import Mp4Writer, add_audio_stream
from reelay.engine.spec import AUDIO_RATE


def frame(i: int) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 7 % 256, np.uint8), format="rgb24")


def write(path: Path, frames: int, pcm: object) -> None:
    with Mp4Writer(path, 64, 48, 24, pcm) as writer:  # type: ignore[arg-type]
        for i in range(frames):
            writer.add(frame(i))


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


def inline_packets(tmp_path: Path, pcm: np.ndarray, samples: int) -> list[bytes]:
    """The track encoded on the caller's thread: 1024-sample frames up to ``samples``, padded with silence."""
    track = np.pad(pcm, ((0, 0), (0, max(0, samples - pcm.shape[1]))))[:, :samples].astype(np.float32)
    path = tmp_path / "inline.mp4"
    with av.open(str(path), "w", format="mp4") as container:
        stream = add_audio_stream(container)
        for start in range(0, samples, 1024):
            chunk = np.ascontiguousarray(track[:, start : start + 1024])
            af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            af.sample_rate, af.pts, af.time_base = AUDIO_RATE, start, Fraction(1, AUDIO_RATE)
            for packet in stream.encode(af):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return audio_packets(path)


@pytest.mark.parametrize(("frames", "pcm_samples"), [(30, 50_000), (20, 90_000), (24, 48_000)])
def test_the_threaded_track_is_the_inline_encoding_trimmed_or_padded_to_the_video(
    tmp_path: Path, frames: int, pcm_samples: int
) -> None:
    pcm = (np.random.default_rng(frames).standard_normal((2, pcm_samples)) * 0.1).astype(np.float32)
    out = tmp_path / "out.mp4"
    write(out, frames, pcm)
    assert audio_packets(out) == inline_packets(tmp_path, pcm, frames * AUDIO_RATE // 24)


def test_a_pcm_function_is_called_on_the_audio_thread(tmp_path: Path) -> None:
    seen: list[str] = []

    def bed() -> np.ndarray:
        seen.append(threading.current_thread().name)
        return np.zeros((2, 48_000), np.float32)

    write(tmp_path / "out.mp4", 24, bed)
    assert seen == ["reelay-aac"]


def test_the_pcm_is_made_once_the_first_frame_is_in(tmp_path: Path) -> None:
    """Not while the first frame is still being drawn (x264 has nothing to do until it arrives)."""
    frames_when_made: list[int] = []
    with Mp4Writer(tmp_path / "out.mp4", 64, 48, 24, lambda: made(frames_when_made, writer.frames)) as writer:
        for i in range(24):
            writer.add(frame(i))
    assert len(frames_when_made) == 1 and frames_when_made[0] >= 1


def made(log: list[int], frames: int) -> np.ndarray:
    log.append(frames)
    return np.zeros((2, 48_000), np.float32)


def test_an_error_making_the_pcm_is_raised_by_the_writer(tmp_path: Path) -> None:
    def bed() -> np.ndarray:
        raise ValueError("no bed today")

    with pytest.raises(ValueError, match="no bed today"):
        write(tmp_path / "out.mp4", 24, bed)
    assert not any(t.name == "reelay-aac" for t in threading.enumerate())


def test_aborting_stops_the_audio_thread(tmp_path: Path) -> None:
    started = threading.Event()

    def bed() -> np.ndarray:
        started.set()
        return np.zeros((2, 96_000), np.float32)

    with pytest.raises(RuntimeError, match="cancelled"), Mp4Writer(tmp_path / "out.mp4", 64, 48, 24, bed) as writer:
        writer.add(frame(0))
        started.wait()
        raise RuntimeError("cancelled")
    assert not any(t.name == "reelay-aac" for t in threading.enumerate())
