"""Measure every distinct line of the program with one engine: clip length against spoken.estimate_ms,
and the engine's words a minute. The figures behind spoken.LENGTH_LOW, the estimate's margin and
piper_engine.NATIVE_WPM.

    .venv/bin/python tests/calibrate_speech.py pyttsx3|piper [rate] [--raw]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from cuecoach import audio, spoken  # noqa: E402
from cuecoach.compile import compile_routine  # noqa: E402
from cuecoach.load import Project, load_routine, routine_ids  # noqa: E402
from cuecoach.synth import ENGINES  # noqa: E402


def program_lines(root: Path) -> list[str]:
    project = Project.at(root)
    texts: dict[str, None] = {}
    for routine in routine_ids(project):
        loaded = load_routine(project, routine)
        texts.update(dict.fromkeys(compile_routine(loaded.routine, loaded.program).speech()))
    return list(texts)


def main() -> None:
    engine_name = sys.argv[1]
    rate = int(sys.argv[2]) if len(sys.argv) > 2 else 160
    texts = program_lines(Path(__file__).resolve().parent.parent)
    began = time.perf_counter()
    engine = ENGINES[engine_name].Engine("en-us" if engine_name == "pyttsx3" else None, rate)
    ratios, words, seconds = [], 0, 0.0
    for text in texts:
        clip = audio.trim(audio.decode(engine.speak(text), text))
        ms = len(clip.raw_data) / 2 * 1000 / audio.FRAME_RATE
        ratios.append(ms / spoken.estimate_ms(text, rate, engine_name))
        words += len(spoken.spoken(text).split())
        seconds += ms / 1000
    ratios.sort()
    print(f"{engine_name} at {rate}: {len(texts)} lines in {time.perf_counter() - began:.1f} s; clip/estimate "
          f"min {ratios[0]:.3f} p1 {ratios[len(ratios) // 100]:.3f} median {statistics.median(ratios):.3f} "
          f"p99 {ratios[-len(ratios) // 100]:.3f} max {ratios[-1]:.3f}; {words / seconds * 60:.0f} words a minute "
          "(pauses included)")


if __name__ == "__main__":
    main()
