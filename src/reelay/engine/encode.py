"""The one MP4 writer: H.264 yuv420p + AAC 48 kHz stereo, constant frame rate, faststart.

Every mode funnels frames through ``Mp4Writer`` so the output contract (codec, pixel format,
re-stamped timestamps, audio trimmed/padded to the video) is enforced in one place. Audio is handed
over up front (or a function that makes it), encoded on its own thread as video time advances and
interleaved by the muxer, so the muxer never buffers a whole track.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.reformatter import VideoReformatter
from av.video.stream import VideoStream
from PIL import Image

from reelay.engine.aac import AacTrack, Pcm
from reelay.engine.frames import to_yuv420p
from reelay.engine.spec import AUDIO_RATE

# superfast: measured on the 2-core dev machines as the slowest preset that keeps a 5 s 720p
# text-to-video under 2 s end to end (ultrafast doubles the file size for little gain).
VIDEO_PRESET = "superfast"
VIDEO_CRF = 23
# x264's own threads: frame threads (x264 picks how many from the cores) let an encode call return
# while earlier frames are still being encoded, so the caller's audio and the next frames' drawing
# overlap with x264; slice threads (PyAV's default) made every call wait for its frame.
VIDEO_THREAD_TYPE = "FRAME"
AUDIO_BITRATE = 128_000
# FFmpeg's AAC coder: "fast" (constant quantizer) costs a fifth of the default "twoloop" search
# (0.03 s against 0.13 s of CPU for 5 s of stereo, a tenth of a t2v render) at the same bit rate,
# and on the engine's ambient beds it measured a higher SNR (48 dB against 24 dB).
AUDIO_CODER = "fast"


def add_video_stream(container: OutputContainer, width: int, height: int, fps: int) -> VideoStream:
    """The H.264 stream every output gets (the benchmark's x264 floor uses the same settings)."""
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.options = {"preset": VIDEO_PRESET, "crf": str(VIDEO_CRF)}
    stream.codec_context.thread_type = VIDEO_THREAD_TYPE
    return stream


def add_audio_stream(container: OutputContainer) -> AudioStream:
    """The AAC 48 kHz stereo stream every output with audio gets."""
    stream = container.add_stream("aac", rate=AUDIO_RATE)
    stream.layout = "stereo"
    stream.bit_rate = AUDIO_BITRATE
    stream.options = {"aac_coder": AUDIO_CODER}
    return stream


class Mp4Writer:
    """Encode frames (PIL RGB images or ``av.VideoFrame``) and an optional stereo PCM track.

    ``pcm`` is float32 of shape (2, n) at 48 kHz, or a function that makes it (called on the audio
    thread, so a synthesised bed is made while the video encodes); on ``close`` the track is
    trimmed or zero-padded to exactly the video's duration (frames / fps). AAC is encoded on its
    own thread (``aac``); this one encodes video and muxes both.
    """

    def __init__(self, path: Path, width: int, height: int, fps: int, pcm: Pcm | None = None) -> None:
        self.fps = fps
        self.frames = 0
        self._reformatter = VideoReformatter()
        self._time_base = Fraction(1, fps)
        self._container: OutputContainer = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self._video = add_video_stream(self._container, width, height, fps)
        self._audio: AacTrack | None = None
        if pcm is not None:
            stream = add_audio_stream(self._container)
            # Opens both encoders and writes the header now, so the audio thread never races the
            # first mux for the AAC encoder's set-up.
            self._container.start_encoding()
            self._audio = AacTrack(stream, pcm)

    def add(self, frame: Image.Image | av.VideoFrame) -> None:
        """Append one frame; its timestamp is re-stamped to the constant output rate."""
        vf = frame if isinstance(frame, av.VideoFrame) else to_yuv420p(frame, self._reformatter)
        vf.pts = self.frames
        vf.time_base = self._time_base
        for packet in self._video.encode(vf):
            self._container.mux(packet)
        self.frames += 1
        if self._audio is not None:
            self._audio.advance(self._samples_at(self.frames))
            self._mux(self._audio.take())

    def close(self) -> None:
        """Flush both encoders and finalise the file (moov atom moved to the front)."""
        try:
            for packet in self._video.encode(None):
                self._container.mux(packet)
            if self._audio is not None:
                self._mux(self._audio.finish(self._samples_at(self.frames)))
        except BaseException:
            self.abort()
            raise
        self._container.close()

    def abort(self) -> None:
        """Close the container without caring about its contents (the caller deletes the file)."""
        if self._audio is not None:
            self._audio.stop()
        with contextlib.suppress(Exception):  # best effort on an already failing path
            self._container.close()

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _samples_at(self, frames: int) -> int:
        return frames * AUDIO_RATE // self.fps

    def _mux(self, packets: list[av.Packet[AudioStream]]) -> None:
        for packet in packets:
            self._container.mux(packet)
