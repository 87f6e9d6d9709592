"""The MP3 encoder: ffmpeg's arguments for our frames, its identity, and the frames every track needs from it.

Frames are encoded by ffmpeg's libmp3lame at constant bit rate with the bit reservoir off
(``encode_args``), so that each frame holds its own data. What shapes those frames is the
encoder's identity (``encoder_id``: ffmpeg and the libraries it encodes with, by path, size and
time, and the settings); it is part of every cached cluster's key, so an upgraded LAME never
meets frames of the old one. Its *stock* (``stock_ready``) is what every track needs besides its
sounds: the two silent frames and an Info frame to fill in, from an encode of a few seconds of
silence, kept in the cache under the encoder's identity. Both its entries (the stock, and the libraries ffmpeg
loads) end in a digest of their data (``checked``), verified when read: a damaged entry is made again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cuecoach import system
from cuecoach.audio import mp3
from cuecoach.errors import BuildError

CALIBRATION_SECONDS = 3  # of silence encoded for the stock: many frames, padded and unpadded
# what shapes ffmpeg's MP3 frames besides its binary: LAME, and ffmpeg's own libraries (its LAME wrapper, the
# sample conversion); the other ~200 it loads (video codecs, devices, network) take no part in an encode
ENCODER_LIBRARIES = ("libmp3lame.", "libavcodec.", "libavfilter.", "libavformat.", "libavutil.", "libswresample.")
# what else decides which files the loader picks: its cache (ldconfig rewrites it whenever a library is
# installed or upgraded), its preload list, and the environment
LOADER_FILES = ("/etc/ld.so.cache", "/etc/ld.so.preload")
LOADER_ENV = ("LD_LIBRARY_PATH", "LD_PRELOAD")
# An entry of this module (the stock's MP3, the libraries' JSON): its data, then this mark and a digest of the
# data (a changed byte reads as missing, and it is made again). Bump the format when an entry changes: names hold it.
ENTRY_FORMAT = "2"
ENTRY_MARK = b"CCCHECK"
DIGEST_SIZE = 16


def _digest(data: bytes | memoryview) -> bytes:
    return hashlib.blake2b(data, digest_size=DIGEST_SIZE).digest()


def checked(data: bytes) -> bytes:
    """A cache entry's bytes: `data`, then the mark and its digest."""
    return data + ENTRY_MARK + _digest(data)


def unchecked(entry: bytes) -> bytes | None:
    """The data of an entry made by `checked`, or None if any byte of it is not as written."""
    tail = len(ENTRY_MARK) + DIGEST_SIZE
    data, mark, digest = entry[:-tail], entry[-tail:-DIGEST_SIZE], entry[-DIGEST_SIZE:]
    return data if len(entry) > tail and mark == ENTRY_MARK and _digest(data) == digest else None


def _stamp(path: str) -> str:
    """A file's size and time: what changes when a package replaces it."""
    try:
        stat = os.stat(path)
    except OSError:
        return "?"
    return f"{stat.st_size}-{stat.st_mtime_ns}"


def encoder_libraries(binary: str, cache_root: Path) -> list[str]:
    """The shared objects ffmpeg encodes with (ENCODER_LIBRARIES), as the loader resolves them; none for a static
    ffmpeg. Asking the loader starts a process (about 10 ms), so its answer is kept in the cache, under what
    decides it: the binary, the loader's files and the environment's library paths."""
    decides = json.dumps([binary, _stamp(binary), *map(_stamp, LOADER_FILES), *map(os.environ.get, LOADER_ENV)])
    name = hashlib.blake2b(decides.encode(), digest_size=8).hexdigest()
    path = Path(cache_root) / "frames" / f"libraries-{ENTRY_FORMAT}-{name}.json"
    try:
        kept = json.loads(unchecked(path.read_bytes()) or b"null")
        if isinstance(kept, list) and all(isinstance(library, str) for library in kept):
            return kept
    except (OSError, ValueError):
        pass  # not asked yet, or a damaged entry: ask again
    found = [library for library in system.linked_libraries(binary)
             if os.path.basename(library).startswith(ENCODER_LIBRARIES)]
    system.write_atomic(path, checked(json.dumps(found).encode()), sync=False)
    return found


def encoder_id(bitrate: str, cache_root: Path) -> str:
    """What shapes the encoded frames: the ffmpeg binary and the libraries it encodes with, each by its resolved
    path, size and time (an upgraded libmp3lame under the same binary is another encoder), and the settings."""
    binary = system.ffmpeg()
    files = [f"{os.path.realpath(path)}|{_stamp(path)}" for path in [binary, *encoder_libraries(binary, cache_root)]]
    return "|".join([*files, "libmp3lame", bitrate, "cbr", "no-reservoir"])


def encode_args(bitrate: str, xing: bool, source: Sequence[str] = ()) -> list[str]:
    """ffmpeg encoding our PCM from its stdin (or `source`, its input options) to MP3 frames on its stdout."""
    source = source or ["-f", "s16le", "-ar", str(mp3.SAMPLE_RATE), "-ac", "1", "-i", "pipe:0"]
    # -flush_packets 0: to a pipe ffmpeg otherwise writes every frame on its own, and the reader wakes for each
    # (a 15-minute day: 36,000 writes; 0.65 s of CPU between the two processes, measured; the same bytes)
    return [system.ffmpeg(), "-v", "error", "-nostdin", *source, "-c:a", "libmp3lame", "-b:a", bitrate,
            "-reservoir", "0", "-id3v2_version", "0", "-write_xing", "1" if xing else "0", "-flush_packets", "0",
            "-f", "mp3", "pipe:1"]


@dataclass(frozen=True)
class Stock:
    """What every track needs besides its clusters: the two silent frames (208 and 209 bytes) and an Info
    frame the encoder wrote, as the template of a track's own."""

    silent: tuple[bytes, bytes]  # unpadded, padded
    info_template: bytes
    bytes_per_frame: float

    @functools.cached_property
    def silent_crcs(self) -> tuple[int, int]:
        unpadded, padded = mp3.frame_crcs(list(self.silent))
        return unpadded, padded


@contextmanager
def stock_ready(cache_root: Path, bitrate: str, encoder: str, what: str) -> Iterator[Callable[[], Stock]]:
    """The silent frames and the Info template of `encoder` (its encoder_id), as a function to call when they
    are needed: from the cache, or from an encode of a few seconds of silence started here, which runs while
    the caller goes on (a build speaks its lines meanwhile) and is waited for on the first call, then cached."""
    name = hashlib.blake2b(encoder.encode(), digest_size=8).hexdigest()
    path = Path(cache_root) / "frames" / f"stock-{ENTRY_FORMAT}-{name}.mp3"
    try:
        frames = mp3.split(unchecked(path.read_bytes()) or b"")
    except (OSError, mp3.FrameError):
        frames = []
    if len(frames) >= 3 and frames[0][mp3.XING_AT:mp3.XING_AT + 4] == b"Info":
        kept = _stock_of(frames, path)
        yield lambda: kept
        return
    silence = ["-f", "lavfi", "-i", f"anullsrc=r={mp3.SAMPLE_RATE}:cl=mono", "-t", str(CALIBRATION_SECONDS)]
    # to a file: ffmpeg fills in its Info frame at the end, which it cannot do on a pipe
    with system.scratch_file(b"", beside=path) as temp, \
            system.started([*encode_args(bitrate, xing=True, source=silence)[:-1], "-y", str(temp)],
                           what) as running:
        made: list[Stock] = []

        def ready() -> Stock:
            if not made:
                running.finish()
                data = temp.read_bytes()
                made.append(_stock_of(mp3.split(data), path))
                system.write_atomic(path, checked(data), sync=False)
            return made[0]

        yield ready  # never called (the build failed first): the encode is stopped, and nothing is kept


def _stock_of(frames: list[bytes], path: Path) -> Stock:
    audio = frames[1:]
    by_size = Counter(f for f in audio if mp3.is_silent(f))
    silent = {mp3.header(f).padded: f for f, _ in sorted(by_size.items(), key=lambda item: item[1])}
    if set(silent) != {False, True}:
        raise BuildError(f"encoding silence: ffmpeg gave no padded and unpadded silent frames ({path})")
    head = mp3.header(frames[0])
    return Stock((silent[False], silent[True]), frames[0], 144_000 * head.bitrate / mp3.SAMPLE_RATE)

