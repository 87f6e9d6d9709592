"""A day's mix with music planned (``audio/mixdown.py``) from its pieces' measures, kept for the whole build.

A ``Mixer`` lives as long as one build: it holds each music's loop (decoded and measured once, not once a
day) and each piece's measures (a clip said on many days is measured once). A piece's measures are also
cached on disk, ``<cache>/measures/ab/<key>.ccm``, keyed by the piece's content and the code that measures
it, so a rebuild after an edit measures only the new line; a damaged entry reads as missing.
Days are mixed in threads side by side: what two threads would both work out is the same, so the
memos need no lock beyond a dict's own.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from cuecoach import system
from cuecoach.builder.job import Job
from cuecoach.builder.music import Music, loop

if TYPE_CHECKING:
    import numpy as np

    from cuecoach.audio.measures import LoopMeasure, Measured
    from cuecoach.audio.mixdown import DayMix


@functools.lru_cache(maxsize=1)
def _measure_code() -> str:
    """The code a piece's measures come from (the measures and the loudness filters)."""
    from cuecoach.audio import loudness, measures

    digest = hashlib.blake2b(digest_size=16)
    for module in (measures, loudness):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


class Mixer:
    """The loops and the pieces' measures of one build (see the module's docstring)."""

    def __init__(self) -> None:
        self.loops: dict[tuple[Music, Path], tuple[np.ndarray, LoopMeasure, str]] = {}
        self.measured: dict[str, Measured] = {}
        self.leveled_tones: dict[tuple[float, tuple[tuple[str, bytes], ...]], dict[str, bytes]] = {}
        self.loop_lock = threading.Lock()  # a loop is decoded and measured once, not by each thread

    def loop(self, music: Music, routines: Path, cache_root: Path) -> tuple[np.ndarray, LoopMeasure, str]:
        """The music's loop in single precision, its measures and its key."""
        import numpy as np

        from cuecoach.audio.measures import measure_loop

        with self.loop_lock:
            found = self.loops.get((music, routines))
            if found is None:
                samples = loop(music, routines, cache_root).astype(np.float32)
                found = samples, measure_loop(samples), hashlib.blake2b(samples.tobytes(), digest_size=16).hexdigest()
                self.loops[(music, routines)] = found
        return found

    def tones(self, job: Job) -> dict[str, bytes]:
        """The day's start, stop and finish sounds at their level: the same for every day of a build."""
        from cuecoach.builder.job import tones

        key = (job.settings.loudness, tuple(sorted(job.sound_files.items())))
        found = self.leveled_tones.get(key)
        if found is None:
            found = self.leveled_tones[key] = tones(job.sound_files, job.settings.loudness)
        return found

    def measure(self, key: str, pcm: bytes, cache_root: Path) -> Measured:
        """A piece's measures: from this build, from the disk cache, or measured (and cached)."""
        from cuecoach.audio import measures

        found = self.measured.get(key)
        if found is not None:
            return found
        entry = hashlib.blake2b(f"{_measure_code()}|{key}".encode(), digest_size=16).hexdigest()
        path = Path(cache_root) / "measures" / entry[:2] / f"{entry}.ccm"
        try:
            found = measures.from_bytes(path.read_bytes())
        except OSError:
            found = None
        if found is None:
            found = measures.measure(pcm)
            system.write_atomic(path, measures.to_bytes(found), sync=False)  # lost: measured again
        self.measured[key] = found
        return found

    def day(self, job: Job, clips: dict[str, bytes], sounds: dict[str, bytes]) -> DayMix:
        """The day's mix, planned (the script's clips and sounds at their levels)."""
        from cuecoach.audio import loudness, mixdown
        from cuecoach.audio.render import pieces
        from cuecoach.audio.sound import frames

        assert job.music is not None and job.routines is not None  # the caller's check, for mypy
        samples, measure, loop_key = self.loop(job.music, job.routines, job.cache)
        placed = []
        for at, pcm in pieces(job.script, clips, sounds):
            key = mixdown.piece_key(pcm)
            placed.append((at, key, pcm, self.measure(key, pcm, job.cache)))
        return mixdown.plan(placed, frames(job.script.duration_ms), samples, loop_key, measure,
                            loudness.clip_lufs(job.settings.loudness), job.music.level, job.music.duck,
                            job.settings.loudness)


def planned(job: Job, mixer: Mixer | None = None) -> DayMix:
    """The day's mix planned, its clips synthesized if missing. Raises InputError if a clip overruns its slot."""
    from cuecoach.audio.render import overrun_error, overruns
    from cuecoach.builder.job import leveled_clips

    mixer = mixer or Mixer()
    clips = leveled_clips(job)
    sounds = mixer.tones(job)
    if found := overruns(job.script, clips, sounds):
        raise overrun_error(job.script, found)
    return mixer.day(job, clips, sounds)
