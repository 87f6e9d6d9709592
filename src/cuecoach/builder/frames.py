"""Build days by joining encoded frames (the default `--encode frames`): the stages across all days at once.

1. Speech: the lines missing from the cache, over all the days to build, are synthesized
   once each: pyttsx3's in forked children, many at once (see synth/clips.py); Piper's split among
   worker processes (one model each).
2. Clusters: each day's sounds, at their level, grouped and keyed by content and phase.
3. Encoding: the clusters missing from the frame cache, over all days, in one streamed
   ffmpeg run per CPU.
4. Joining: each day's frames, the Info frame, the ID3 tag; then its lyrics and JSON.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cuecoach.audio import assemble, encoder, framecache, sound
from cuecoach.audio.render import overrun_error, overruns_by_length, start_of
from cuecoach.builder.export import id3_tag
from cuecoach.builder.job import DayResult, Job, finish_day, speech_error, tones, warning_lines
from cuecoach.errors import BuildError, CueError
from cuecoach.synth.clips import (
    IN_FLIGHT_PER_CPU,
    SpeechCache,
    VoiceSettings,
    ensure_clips,
    made_in_children,
    make_clips,
)

LINES_PER_WORKER = 8  # fewer new lines than this are spoken in the build's own process (a worker costs ~0.5 s)
Day = tuple[Job, list[assemble.Cluster], list[str]]  # a day to join: its job, its clusters and their keys


def _speak(texts: list[str], settings: VoiceSettings, cache_root: Path, at_once: int | None = None,
           on_line: Callable[[str], None] | None = None) -> tuple[list[str], dict[str, str]]:
    """Synthesize and cache `texts`; returns those made and, for each that failed, why. `on_line` hears of
    each line as it is made, when this process makes them in children (a worker cannot call it; a process
    that may not fork has a worker make them, and hears of them when it is done)."""
    made: list[str] = []
    cache = SpeechCache(cache_root)
    if made_in_children(settings):
        def note(text: str, _: bytes) -> None:
            made.append(text)
            if on_line:
                on_line(text)

        return made, make_clips(texts, settings, cache, note, at_once)
    failed = {}
    for text in texts:
        try:
            ensure_clips([text], settings, cache, made.append)
        except BuildError as exc:
            failed[text] = str(exc)
    return made, failed


def _shares(texts: list[str], settings: VoiceSettings, jobs: int) -> list[list[str]]:
    """How the lines of one voice are split: the first share is spoken here, the others in spawned workers.
    An engine whose clips are made in forked children makes them all in one go, from here (see _speak)."""
    if made_in_children(settings):
        return [texts]
    workers = max(1, min(jobs, len(texts) // LINES_PER_WORKER))
    return [texts[i::workers] for i in range(workers)]


def synthesize_missing(todo: list[Job], jobs: int, on_synth: Callable[[str], None] | None
                       ) -> tuple[dict[str, str], dict[str, str]]:
    """Speak every line the days need and the cache lacks. Returns (text -> the first day needing it, for
    the lines made; text -> error, for the lines that failed)."""
    missing: dict[tuple[str, VoiceSettings, Path], str] = {}
    for job in todo:
        cache = SpeechCache(job.cache)
        for text in job.script.speech():
            if (text, job.settings, job.cache) not in missing and not cache.path(job.settings.key(text)).is_file():
                missing[(text, job.settings, job.cache)] = job.script.routine
    if not missing:
        return {}, {}
    groups: dict[tuple[VoiceSettings, Path], list[str]] = {}
    for text, settings, root in missing:
        groups.setdefault((settings, root), []).append(text)
    shares = {group: _shares(texts, group[0], jobs) for group, texts in groups.items()}
    elsewhere = [(share, settings, root) for (settings, root), split in shares.items() for share in split[1:]]
    with contextlib.ExitStack() as scope:
        futures = []
        if elsewhere:
            # spawn, not fork: each worker starts its own speech engine (a Piper model loads once per process)
            pool = scope.enter_context(ProcessPoolExecutor(max_workers=len(elsewhere),
                                                           mp_context=multiprocessing.get_context("spawn")))
            futures = [pool.submit(_speak, *work) for work in elsewhere]
        heard: list[str] = []  # lines the progress display has heard of as they were made

        def note(text: str) -> None:
            heard.append(text)
            if on_synth:
                on_synth(text)

        results = [_speak(split[0], settings, root, IN_FLIGHT_PER_CPU * jobs, note)
                   for (settings, root), split in shares.items() if split[0]]
        results += [future.result() for future in futures]
    made: list[str] = []
    failed: dict[str, str] = {}
    for done, bad in results:
        made += done
        failed.update(bad)
    told = set(heard)
    for text in made:
        if on_synth and text not in told:  # made in a worker, or one at a time here: heard of now
            on_synth(text)
    first_use = {text: routine for (text, _, _), routine in missing.items()}
    return {text: first_use[text] for text in made}, failed


class _Pieces:
    """Every sound of the build by id: its length for all, its PCM (read and leveled) only for those
    that must be encoded. A clip's id is its cache key and its level, so that a build whose pieces are
    all encoded reads each clip once and levels none."""

    def __init__(self, sounds: dict[str, bytes], on_synth: Callable[[str], None] | None) -> None:
        self.sounds = sounds
        self.lengths: dict[str, int] = {}  # id -> samples
        self.speech: dict[str, tuple[str, Job]] = {}  # id -> the text and a job that says it
        self.made: dict[str, str] = {}  # text -> the day it was spoken for, if spoken here
        self.on_synth = on_synth
        self.sound_ids = {name: f"sound:{hashlib.blake2b(pcm, digest_size=12).hexdigest()}"
                          for name, pcm in sounds.items()}
        self.sound_pcm = {self.sound_ids[name]: pcm for name, pcm in sounds.items()}  # id -> PCM
        self.lengths.update((piece, len(pcm) // 2) for piece, pcm in self.sound_pcm.items())
        self.lock = threading.Lock()

    def for_job(self, job: Job) -> dict[str, str]:
        """Each text of the day's script: its piece id."""
        cache = SpeechCache(job.cache)
        ids = {}
        for text in job.script.speech():
            piece = f"speech:{job.settings.key(text)}"  # a cached clip is final: its key names its sound
            if piece not in self.lengths:
                length = cache.length(job.settings.key(text))  # a header: the clip itself is read only to encode it
                self.lengths[piece] = length if length is not None else len(self._clip(text, job, cache)) // 2
                self.speech[piece] = (text, job)
            ids[text] = piece
        return ids

    def _clip(self, text: str, job: Job, cache: SpeechCache) -> bytes:
        # normally read from the cache; spoken here if its entry was found corrupt meanwhile
        return ensure_clips([text], job.settings, cache, lambda said: self._note(said, job))[text]

    def _note(self, text: str, job: Job) -> None:
        self.made.setdefault(text, job.script.routine)
        if self.on_synth:
            self.on_synth(text)

    @functools.lru_cache(maxsize=32)  # noqa: B019 - one instance per build
    def pcm(self, piece: str) -> bytes:
        """The sound's PCM at its level in every track (called from the encoding threads)."""
        if piece in self.sound_pcm:
            return self.sound_pcm[piece]
        text, job = self.speech[piece]
        with self.lock:
            clip = self._clip(text, job, SpeechCache(job.cache))
        return clip


def make_assembled(todo: list[Job], jobs: int, on_start: Callable[[str], None] | None,
                   finish: Callable[[DayResult], None], on_synth: Callable[[str], None] | None) -> None:
    """Build `todo` by joining frames; every day ends in `finish`, built or failed. The silent and Info frames
    are encoded (unless cached) while the lines are spoken."""
    began = time.perf_counter()
    roots: dict[str, Path] = {}  # each bit rate's cache
    for job in todo:
        roots.setdefault(job.bitrate, job.cache)
    encoders = {bitrate: encoder.encoder_id(bitrate, root) for bitrate, root in roots.items()}
    what = f"encoding {', '.join(f'{job.script.routine}.mp3' for job in todo)}"
    with contextlib.ExitStack() as scope:
        stocks = {bitrate: scope.enter_context(encoder.stock_ready(root, bitrate, encoders[bitrate], what))
                  for bitrate, root in roots.items()}
        first_use, failed_lines = synthesize_missing(todo, jobs, on_synth)
        try:
            sounds = tones(todo[0].sound_files, todo[0].settings.loudness)  # every day of a build has the same
        except CueError as exc:
            for job in todo:
                finish(DayResult(job.script.routine, "failed", str(exc), exit_code=exc.exit_code))
            return
        pieces = _Pieces(sounds, on_synth)
        days, wanted = _cluster_days(todo, pieces, encoders, failed_lines, finish)
        first_use.update(pieces.made)
        try:
            ready = {bitrate: stocks[bitrate]() for bitrate in wanted}
            encoded: dict[str, framecache.Encoded] = {}
            for bitrate, clusters in wanted.items():
                encoded.update(assemble.encode_missing(clusters, framecache.FrameCache(roots[bitrate]), bitrate, jobs,
                                                       pieces.pcm, what))
        except CueError as exc:
            for job, _, _ in days:
                finish(DayResult(job.script.routine, "failed", str(exc), exit_code=exc.exit_code))
            return
    for job, day, keys in days:
        if on_start:
            on_start(job.script.routine)
        try:
            _write_day(job, [(c, encoded[k]) for c, k in zip(day, keys, strict=True)], ready[job.bitrate])
        except CueError as exc:
            finish(DayResult(job.script.routine, "failed", str(exc), exit_code=exc.exit_code))
            continue
        made = sum(1 for routine in first_use.values() if routine == job.script.routine)
        finish(DayResult(job.script.routine, "built", synthesized=made, seconds=time.perf_counter() - began,
                         duration_ms=job.script.duration_ms, warnings=warning_lines(job.script)))


def _cluster_days(todo: list[Job], pieces: _Pieces, encoders: dict[str, str], failed_lines: dict[str, str],
                  finish: Callable[[DayResult], None]
                  ) -> tuple[list[Day], dict[str, dict[str, assemble.Cluster]]]:
    """Each day's clusters and their keys, and every cluster wanted, by bit rate; a day whose speech failed,
    or whose lines overrun their slots, fails here."""
    days: list[Day] = []
    wanted: dict[str, dict[str, assemble.Cluster]] = {}
    sound_sizes = {name: len(pcm) for name, pcm in pieces.sounds.items()}
    for job in todo:
        try:
            bad = next((text for text in job.script.speech() if text in failed_lines), None)
            if bad is not None:
                raise speech_error(job.script, bad, failed_lines[bad])
            ids = pieces.for_job(job)
            found = overruns_by_length({t: 2 * pieces.lengths[i] for t, i in ids.items()}, sound_sizes, job.script)
            if found:
                raise overrun_error(job.script, found)
            placed = [(start_of(e), ids[e.text] if e.kind == "speech" else pieces.sound_ids[e.text])
                      for e in job.script.events]
            day = assemble.clusters([(at, piece, pieces.lengths[piece]) for at, piece in placed])
            keys = [cluster.key(encoders[job.bitrate]) for cluster in day]
            wanted.setdefault(job.bitrate, {}).update(zip(keys, day, strict=True))
            days.append((job, day, keys))
        except CueError as exc:
            finish(DayResult(job.script.routine, "failed", str(exc), exit_code=exc.exit_code))
    return days, wanted


def _write_day(job: Job, placed: list[tuple[assemble.Cluster, framecache.Encoded]], stock: encoder.Stock) -> None:
    """A day's MP3 joined from its clusters' frames, then its lyrics and JSON."""
    n_samples = sound.frames(job.script.duration_ms)
    frames, crcs = assemble.join(placed, n_samples, stock)
    assemble.write_track(job.mp3, id3_tag(job.tags, job.script.chapters), frames, crcs, n_samples, stock)
    finish_day(job)
