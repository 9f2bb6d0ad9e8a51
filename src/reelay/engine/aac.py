"""The writer's AAC track, made and encoded on its own thread, never past where the video has got.

The thread that feeds x264 should do nothing else: every moment it spends on the audio bed or on
AAC is a moment x264's frame threads may wait for their next frame. So the PCM (or the function
that makes it, such as the ambient bed) and the AAC encoder run on a thread of their own, and the
writer only muxes the packets it hands over. The thread starts work once the first frame is in, so
the bed does not compete with drawing that first frame while x264 has nothing to do. The track is
encoded in the same 1024-sample frames, to the same sample, as when it was encoded inline: the
output is the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from fractions import Fraction

import av
import numpy as np
from av.audio.stream import AudioStream

from reelay.engine.spec import AUDIO_RATE

AAC_FRAME = 1024
Pcm = np.ndarray | Callable[[], np.ndarray]  # float32 (2, n) at 48 kHz, or what makes it


class AacTrack:
    """Encode a stereo PCM track to ``stream`` on a thread, up to the sample set by ``advance``.

    ``take`` returns the packets made so far (for the caller to mux, on its own thread);
    ``finish`` sets the final length, pads the tail with silence if the PCM is shorter, flushes the
    encoder and returns the last packets. An error on the thread is raised by ``take``/``finish``.
    """

    def __init__(self, stream: AudioStream, pcm: Pcm) -> None:
        self._stream = stream
        self._source = pcm
        self._changed = threading.Condition()
        self._target = 0
        self._final = False
        self._stopped = False
        self._packets: list[av.Packet[AudioStream]] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="reelay-aac", daemon=True)
        self._thread.start()

    def advance(self, samples: int) -> None:
        """The video has reached ``samples``: whole AAC frames up to there may be encoded."""
        with self._changed:
            self._target = samples
            self._changed.notify()

    def take(self) -> list[av.Packet[AudioStream]]:
        """The packets encoded since the last call, in order."""
        with self._changed:
            if self._error is not None:
                raise self._error
            packets, self._packets = self._packets, []
        return packets

    def finish(self, samples: int) -> list[av.Packet[AudioStream]]:
        """Encode exactly ``samples`` in all (the tail padded), flush, and return the last packets."""
        with self._changed:
            self._target, self._final = samples, True
            self._changed.notify()
        self._thread.join()
        return self.take()

    def stop(self) -> None:
        """Abandon the track (the file is being thrown away) and wait for the thread to end."""
        with self._changed:
            self._stopped = True
            self._changed.notify()
        self._thread.join()

    def _run(self) -> None:
        try:
            with self._changed:  # nothing to do before the first frame: leave the CPU to whoever draws it
                while not (self._target or self._final or self._stopped):
                    self._changed.wait()
                if self._stopped:
                    return
            self._encode(self._source() if callable(self._source) else self._source)
        except BaseException as error:  # handed to the writer's thread
            with self._changed:
                self._error = error

    def _encode(self, source: np.ndarray) -> None:
        pcm = np.ascontiguousarray(source, dtype=np.float32)
        written = 0
        while True:
            with self._changed:
                while not self._stopped and not self._final and self._target - written < AAC_FRAME:
                    self._changed.wait()
                if self._stopped:
                    return
                target, final = self._target, self._final
            while written < target:
                size = min(AAC_FRAME, target - written)
                if size < AAC_FRAME and not final:
                    break
                self._add(self._encode_chunk(pcm, written, size))
                written += size
            if final:
                self._add(self._stream.encode(None))
                return

    def _encode_chunk(self, pcm: np.ndarray, start: int, size: int) -> list[av.Packet[AudioStream]]:
        chunk = pcm[:, start : start + size]
        if chunk.shape[1] < size:
            chunk = np.pad(chunk, ((0, 0), (0, size - chunk.shape[1])))
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        frame.time_base = Fraction(1, AUDIO_RATE)
        return self._stream.encode(frame)

    def _add(self, packets: list[av.Packet[AudioStream]]) -> None:
        if packets:
            with self._changed:
                self._packets.extend(packets)
