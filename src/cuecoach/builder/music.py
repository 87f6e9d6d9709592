"""A day's music: which it is (``--music``, then the day's own, then program.yaml's), its files found and
decoded, and its loop at the track's format, cached by content.

A coach's files are decoded by ffmpeg (any format and rate it reads, mono or stereo: mixed down to the
track's 44.1 kHz mono), each kept in ``<cache>/music/ab/<key>.wav`` under its content's hash; cuecoach's
own bed (``audio/bed.py``) is kept under the hash of its generator's code. A file that is missing, or that
ffmpeg cannot decode, is a located problem: `check` lists it, and `build` fails the day with it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cuecoach import system
from cuecoach.config.project import Project, shown
from cuecoach.config.schema import Program, Routine
from cuecoach.errors import BuildError, InputError, Where

if TYPE_CHECKING:
    import numpy as np

MUSIC_FORMAT = "music-2"  # part of every cached loop's key: bump when decoding or the entry's format changes
# (2: a checked WAV, its digest verified when read: a damaged entry is decoded or made again)
DEFAULT = "default"  # cuecoach's own bed
MIN_PIECE_S = 1.0  # shorter is not music to loop: a click, or a file cut short


@dataclass(frozen=True)
class Music:
    """A day's music, as its build key holds it: each source's name and the hash of its content."""

    sources: tuple[tuple[str, str], ...]  # (name in the routines folder, or "default"; sha256 of its bytes)
    level: int  # LU under the speech between lines
    duck: int  # LU under the speech under a line or tone
    where: str  # where it is written (file:line:col), for a located error

    @property
    def seamless(self) -> bool:
        return self.sources == ((DEFAULT, _bed_hash()),)


def _bed_hash() -> str:
    from cuecoach.audio import bed

    return hashlib.sha256(Path(bed.__file__).read_bytes()).hexdigest()


def chosen(program: Program, routine: Routine, override: str | None) -> tuple[str | tuple[str, ...], Where]:
    """The day's music as written (or as --music gave it) and where."""
    if override is not None:
        return override, Where("--music")
    if routine.music is not None:
        return routine.music, routine.music_where or routine.where
    return program.music, program.where.get("music") or Where("routines/program.yaml")


def resolve(project: Project, program: Program, routine: Routine, override: str | None = None) -> Music | None:
    """The day's music, its files read and hashed; None for none. Raises InputError for a missing file."""
    value, where = chosen(program, routine, override)
    if value == "none":
        return None
    if value == DEFAULT:
        return Music(((DEFAULT, _bed_hash()),), program.music_level, program.music_duck, str(where))
    sources = []
    for name in value:
        path = project.routines / name
        try:
            sources.append((name, hashlib.sha256(path.read_bytes()).hexdigest()))
        except OSError:
            raise InputError((where, f"'music' names {name}, which is not in {shown(project.routines)}; put the "
                                     "file there, or fix its name")) from None
    return Music(tuple(sources), program.music_level, program.music_duck, str(where))


def _decoded(path: Path, digest: str, cache_root: Path, where: str) -> bytes:
    """A coach's file as the track's PCM, from the cache or decoded by ffmpeg (and cached)."""
    from cuecoach.audio import sound

    key = hashlib.blake2b(f"{MUSIC_FORMAT}|{digest}".encode(), digest_size=16).hexdigest()
    kept = Path(cache_root) / "music" / key[:2] / f"{key}.wav"
    pcm = sound.read_checked_wav(kept)
    if pcm is not None:
        return pcm
    try:
        pcm = system.run([system.ffmpeg(), "-v", "error", "-nostdin", "-i", str(path), "-vn", "-f", "s16le", "-ac",
                          "1", "-ar", str(sound.FRAME_RATE), "-"], f"decoding {path.name}")
    except BuildError as exc:
        why = str(exc).splitlines()[-1].rsplit(": ", 1)[-1][:200]  # ffmpeg's reason, without the path
        raise InputError((_where(where), f"'music' names {path.name}, which ffmpeg cannot decode ({why}); give "
                                         "an audio file such as an OGG, FLAC, MP3 or WAV")) from None
    if len(pcm) < 2 * MIN_PIECE_S * sound.FRAME_RATE:
        raise InputError((_where(where), f"'music' names {path.name}, which holds under {MIN_PIECE_S:g} s of "
                                         "audio; give a longer piece"))
    system.write_atomic(kept, sound.checked_wav_bytes(pcm), sync=False)
    return pcm


def _where(text: str) -> Where:
    """A Where back from its text (file:line:col), as a Job carries it."""
    parts = text.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return Where(parts[0], int(parts[1]), int(parts[2]))
    return Where(text)


def loop(music: Music, routines: Path, cache_root: Path) -> np.ndarray:
    """The music's loop at the track's format (floats), its pieces crossfaded into one another."""
    from cuecoach.audio import bed, loudness
    from cuecoach.audio.music import cycle

    pieces = []
    for name, digest in music.sources:
        if name == DEFAULT:
            pieces.append(loudness.samples(_default_bed(digest, cache_root, bed.bed_pcm)))
        else:
            pieces.append(loudness.samples(_decoded(routines / name, digest, cache_root, music.where)))
    return cycle(pieces, seamless=music.seamless)


def _default_bed(digest: str, cache_root: Path, make) -> bytes:
    from cuecoach.audio import sound

    key = hashlib.blake2b(f"{MUSIC_FORMAT}|bed|{digest}".encode(), digest_size=16).hexdigest()
    kept = Path(cache_root) / "music" / key[:2] / f"{key}.wav"
    pcm = sound.read_checked_wav(kept)
    if pcm is None:
        pcm = make()
        system.write_atomic(kept, sound.checked_wav_bytes(pcm), sync=False)
    return pcm


def problems(project: Project, program: Program, routine: Routine, cache_root: Path) -> list[tuple[Where, str]]:
    """`check`'s view of a day's music: every file there and decodable, or the located problem."""
    try:
        music = resolve(project, program, routine)
        if music is not None and not music.seamless:
            loop(music, project.routines, cache_root)
    except InputError as exc:
        return list(exc.problems)
    return []
