"""The whole-encode path (`--encode whole`, the reference): each day rendered to PCM and encoded whole.

With more than one worker, each day is made in a spawned worker process (each starts its own
speech engine); with one, in this process.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from cuecoach.builder.job import DayResult, Job, finish_day, leveled_clips, tones, warning_lines
from cuecoach.errors import CueError


def make(job: Job, on_synth: Callable[[str], None] | None = None) -> DayResult:
    """Synthesize what is missing, render and encode one whole day (`--encode whole`). Runs in a worker."""
    from cuecoach.audio.render import render
    from cuecoach.builder.export import encode_mp3

    began = time.perf_counter()
    synthesized: list[str] = []

    def heard(text: str) -> None:
        synthesized.append(text)
        if on_synth:
            on_synth(text)

    clips = leveled_clips(job, heard)
    sounds = tones(job.sound_files, job.settings.loudness)
    track = render(job.script, clips, sounds)
    spans = None
    if job.music is not None:
        track, spans = with_music(job)
    encode_mp3(track, job.mp3, job.tags, job.script.chapters, job.bitrate, job.script.routine)
    finish_day(job, spans)
    return DayResult(job.script.routine, "built", synthesized=len(synthesized),
                     seconds=time.perf_counter() - began, duration_ms=job.script.duration_ms,
                     warnings=warning_lines(job.script))


def with_music(job: Job) -> tuple[bytearray, list[tuple[int, int]]]:
    """The day's track with its music under it, rendered whole, and the spans (samples) the bed is ducked under."""
    from cuecoach.builder.mixing import planned

    mix = planned(job)
    return bytearray(mix.render(0, mix.n)), mix.spans()


def _make_day_in_worker(job: Job) -> DayResult:
    try:
        return make(job)
    except CueError as exc:
        return DayResult(job.script.routine, "failed", str(exc), exit_code=exc.exit_code)


def make_in_pool(todo: list[Job], workers: int, on_start: Callable[[str], None] | None,
                 finish: Callable[[DayResult], None]) -> None:
    """`--encode whole` with more than one worker: each day made whole in a worker process."""
    # spawn, not fork: each worker starts its own speech engine (pyttsx3 keeps one per process)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: dict[Future[DayResult], Job] = {}
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < workers:
                job = queue.pop(0)
                if on_start:
                    on_start(job.script.routine)
                pending[pool.submit(_make_day_in_worker, job)] = job
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                try:
                    finish(future.result())
                except Exception as exc:  # noqa: BLE001 - a crashed worker fails its day, not the batch
                    finish(DayResult(job.script.routine, "failed", f"worker crashed: {exc}", exit_code=1))
