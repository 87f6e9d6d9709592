"""Build days with music by joining encoded stretches (the default `--encode frames` for a day with music).

1. Speech: the lines missing from the cache, over all the days, spoken once each (as `frames.py` does).
2. Each day, `jobs` at a time in threads (numpy and ffmpeg work outside the GIL): its mix planned from
   its pieces' measures (`mixing.planned`), cut into stretches that follow its script
   (`audio.stretches.cuts`), each keyed by what its audio is made of (`audio.mixdown.Recipe`); the
   stretches the cache lacks are rendered and encoded in one ffmpeg run; the frames joined behind the ID3
   tag and the Info frame; then its lyrics and JSON.
A day is byte for byte what the stretches make it whatever else is built with it; `--encode whole`
stays the reference.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cuecoach.audio import encoder
from cuecoach.builder.export import id3_tag
from cuecoach.builder.frames import synthesize_missing
from cuecoach.builder.job import DayResult, Job, finish_day, speech_error, warning_lines
from cuecoach.builder.mixing import Mixer, planned
from cuecoach.errors import CueError


def make_with_music(todo: list[Job], jobs: int, on_start: Callable[[str], None] | None,
                    finish: Callable[[DayResult], None], on_synth: Callable[[str], None] | None) -> None:
    """Build `todo` (days with music) from encoded stretches; every day ends in `finish`, built or failed."""
    began = time.perf_counter()
    roots: dict[str, Path] = {}
    for job in todo:
        roots.setdefault(job.bitrate, job.cache)
    encoders = {bitrate: encoder.encoder_id(bitrate, root) for bitrate, root in roots.items()}
    with contextlib.ExitStack() as scope:
        stocks = {bitrate: scope.enter_context(encoder.stock_ready(root, bitrate, encoders[bitrate],
                                                                   f"encoding silence at {bitrate}"))
                  for bitrate, root in roots.items()}
        first_use, failed_lines = synthesize_missing(todo, jobs, on_synth)
        try:  # here, once: waiting for the stock's encode is not for two threads at once
            ready = {bitrate: stock() for bitrate, stock in stocks.items()}
        except CueError as exc:
            for job in todo:
                finish(DayResult(job.script.routine, "failed", str(exc), exit_code=exc.exit_code))
            return

        mixer = Mixer()

        def make(job: Job) -> DayResult:
            if on_start:
                on_start(job.script.routine)
            try:
                bad = next((text for text in job.script.speech() if text in failed_lines), None)
                if bad is not None:
                    raise speech_error(job.script, bad, failed_lines[bad])
                _write_day(job, encoders[job.bitrate], ready[job.bitrate], mixer)
            except CueError as exc:
                return DayResult(job.script.routine, "failed", str(exc), exit_code=exc.exit_code)
            made = sum(1 for routine in first_use.values() if routine == job.script.routine)
            return DayResult(job.script.routine, "built", synthesized=made, seconds=time.perf_counter() - began,
                             duration_ms=job.script.duration_ms, warnings=warning_lines(job.script))

        with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(todo)))) as pool:
            for result in pool.map(make, todo):
                finish(result)


def _write_day(job: Job, encoder_key: str, stock: encoder.Stock, mixer: Mixer) -> int:
    """A day's MP3 from its stretches, then its lyrics and JSON; returns how many stretches were encoded."""
    from cuecoach.audio import mp3, music, stretches
    from cuecoach.audio.assemble import write_track
    from cuecoach.audio.framecache import FrameCache

    mix = planned(job, mixer)
    spans = mix.spans()
    starts = stretches.cuts(spans, mix.n, int(music.LEAD_S * mp3.SAMPLE_RATE), int(music.RELEASE_S * mp3.SAMPLE_RATE))
    track = stretches.stretches(starts, mp3.frame_count(mix.n), lambda begin, stop: mix.recipe(begin, stop).key(),
                                encoder_key, job.bitrate)
    frames, crcs, encoded = stretches.frames_of(track, mix.render, FrameCache(job.cache), job.bitrate,
                                                f"encoding {job.script.routine}.mp3")
    write_track(job.mp3, id3_tag(job.tags, job.script.chapters), frames, crcs, mix.n, stock)
    finish_day(job, spans)
    return encoded
