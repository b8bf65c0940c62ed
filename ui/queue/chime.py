"""The call display's chime: a soft two-tone gong when a number is called.

QtMultimedia is not in PySide6-Essentials (and would add tens of MB to the bundle for one
sound), so the gong is a small WAV made here with the standard library (`wave`: two decaying
sine tones, 0.9 s, 22 kHz mono, about 40 KB) and handed to what the system has: `winsound`
on Windows, `paplay` (PulseAudio/PipeWire) or `aplay` (ALSA) on Linux, started without waiting.
Without any of them it falls back to `QApplication.beep()`. The file holds no personal data;
it lives in the data folder's cache and is written once.
"""

from __future__ import annotations

import io
import logging
import math
import shutil
import struct
import subprocess
import sys
import wave
from pathlib import Path

from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

RATE = 22_050
SECONDS = 0.9
TONES = ((659.25, 0.0), (523.25, 0.35))   # E5 then C5, the classic "ding-dong"
PLAYERS = (("paplay",), ("aplay", "-q"))


def gong_wav() -> bytes:
    """The gong as a WAV file's bytes (16-bit mono)."""
    frames = bytearray()
    total = int(RATE * SECONDS)
    for i in range(total):
        t = i / RATE
        value = 0.0
        for frequency, start in TONES:
            if t >= start:
                age = t - start
                value += math.sin(2 * math.pi * frequency * age) * math.exp(-4.0 * age)
        frames += struct.pack("<h", int(max(-1.0, min(1.0, value * 0.4)) * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


class Chime:
    """`ring()` plays the gong without blocking; `enabled=False` keeps the display silent."""

    def __init__(self, cache_dir: Path, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._path = cache_dir / "aufruf-gong.wav"
        self._player: tuple[str, ...] | None = None
        self._ready = False

    def ring(self) -> None:
        if not self.enabled:
            return
        if not self._ready:
            self._prepare()
        try:
            if sys.platform == "win32":
                import winsound

                winsound.PlaySound(str(self._path),
                                   winsound.SND_FILENAME | winsound.SND_ASYNC)
                return
            if self._player is not None:
                subprocess.Popen([*self._player, str(self._path)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                return
        except (OSError, RuntimeError) as exc:   # RuntimeError: winsound's own
            log.warning("chime could not be played (%s); using the system beep", exc)
        QApplication.beep()

    def _prepare(self) -> None:
        self._ready = True
        try:
            if not self._path.exists():
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._path.write_bytes(gong_wav())
        except OSError as exc:
            log.warning("chime file not written (%s); using the system beep", exc)
            return
        for player in PLAYERS:
            found = shutil.which(player[0])
            if found:
                self._player = (found, *player[1:])
                return
