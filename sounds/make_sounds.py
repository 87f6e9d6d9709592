"""Generate cuecoach's cue sounds: start.wav, stop.wav, pip.wav and finish.wav.

Regenerate (standard library only, output is byte-identical on every run):

    python sounds/make_sounds.py            # write missing files, update old defaults
    python sounds/make_sounds.py --force    # overwrite all of them
    python sounds/make_sounds.py --out DIR  # write into another folder

Without --force, a file you dropped in yourself is left alone (any WAV under the
same name: any sample rate, mono or stereo; cuecoach converts it). A file that is
byte for byte a default sound of an earlier version (its SHA-256 is listed in
OLD_DEFAULTS) is replaced by today's default, so `make` brings an existing
checkout up to date without clobbering a coach's own sound.

The start and stop tones differ in pitch, direction and length: start rises high
and bright (E6 to B6), stop falls low (B5 to E5, longer), a pip (the lead-in, with
`lead_in: pips`) is one short A5. cuecoach sets each tone's level to the voice's
when it builds (loudness.TONE_BELOW_VOICE_LU), so the shape here is what counts:
notes that ring for most of the sound keep their loudness close to the speech's
without a high peak.

Format: PCM 16-bit mono 44100 Hz. Each sound starts at sample 0 with a 4 ms
attack (a sharp onset that cross-correlation can locate to the millisecond),
peaks at about -6 dBFS, rings out with an exponential decay and ends on
exact zeros. Timbre: a few sine partials with bell/marimba-like decay.
"""

import argparse
import hashlib
import io
import math
import os
import struct
import sys
import tempfile
import wave
from pathlib import Path

RATE = 44100
PEAK = 10 ** (-6 / 20)  # -6 dBFS
ATTACK = 0.004  # seconds
TAIL = 0.015  # final raised-cosine taper to exact zero, seconds
END_DB = -24.0  # level each note has decayed to at the end of the sound: a ring, not a click, so it is heard
PARTIALS = ((1, 1.0), (2, 0.25), (4, 0.08))  # (harmonic, amplitude)

D5, FS5, A5, D6 = 587.33, 739.99, 880.00, 1174.66
E5, B5, E6, B6 = 659.26, 987.77, 1318.51, 1975.53

# name -> (total seconds, [(frequency Hz, onset seconds, relative level)])
SOUNDS = {
    "start": (0.45, [(E6, 0.0, 0.8), (B6, 0.12, 1.0)]),
    "stop": (0.6, [(B5, 0.0, 1.0), (E5, 0.2, 1.0)]),
    "pip": (0.12, [(A5, 0.0, 1.0)]),
    # finish uses other pitches (D major) so it cannot be mistaken for start/stop
    "finish": (1.7, [(D5, 0.0, 0.8), (FS5, 0.11, 0.8), (A5, 0.22, 0.9), (D6, 0.33, 1.0)]),
}


def render(total: float, notes: list[tuple[float, float, float]]) -> list[int]:
    """Mix the notes into int16 samples: sample 0 is the onset, last sample 0."""
    n = round(total * RATE)
    mix = [0.0] * n
    for freq, onset, level in notes:
        start = round(onset * RATE)
        # decay so that the note reaches END_DB exactly at the end of the sound
        tau = (n - start) / RATE / (-END_DB / 20 * math.log(10))
        for i in range(n - start):
            t = i / RATE
            attack = min(1.0, t / ATTACK)
            s = sum(a * math.exp(-t * k / tau) * math.sin(2 * math.pi * freq * k * t)
                    for k, a in PARTIALS)
            mix[start + i] += level * attack * s
    taper = round(TAIL * RATE)
    for i in range(taper):  # raised cosine: 1 -> 0, last sample exactly 0
        mix[n - taper + i] *= 0.5 + 0.5 * math.cos(math.pi * (i + 1) / taper)
    scale = PEAK * 32767 / max(abs(x) for x in mix)
    return [round(x * scale) for x in mix]


def wav_bytes(samples: list[int]) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return out.getvalue()


def write_file(path: Path, data: bytes) -> None:
    """Write atomically: temp file in the same folder, then os.replace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# SHA-256 of the default sounds earlier versions wrote: such a file is replaced by today's default
OLD_DEFAULTS = {
    "start": {"05c119596f63f485b3ea502dfdcdc1b4e36057cdea1c3c1ad80fa1417aafd1bb"},
    "stop": {"b44589c7f796f3e89bd03412ad7a928f225c488704f80aa903428745a6b5308a"},
    "finish": {"9869bc59190057d485529ff4cab82775f83ace0d35ba62b6bfc78c500de9c036"},
}


def is_old_default(path: Path, name: str) -> bool:
    return hashlib.sha256(path.read_bytes()).hexdigest() in OLD_DEFAULTS.get(name, ())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="output folder (default: this script's folder)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite existing files (e.g. ones you replaced by hand)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (total, notes) in SOUNDS.items():
        path = args.out / f"{name}.wav"
        data = wav_bytes(render(total, notes))
        if path.exists() and not args.force:
            current = path.read_bytes()
            if current == data:
                continue  # today's default already
            if not is_old_default(path, name):
                print(f"kept {path} (your own sound; --force replaces it with the default)", file=sys.stderr)
                continue
        write_file(path, data)
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
