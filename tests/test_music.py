"""Music under the voice: the bed, its ducking on the timeline, coach's own files, and their faults.

Built with the real engine and ffmpeg; the levels are measured on the decoded MP3, with the bed rendered
alone through the same envelope (cuecoach.audio.music.ducked) to tell the music from the speech.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import copy_project, run_cli
from listen import RATE, decode, find_onsets, read_wav

from cuecoach.audio import bed, loudness, measures, mixdown, music

LINE_UNDER_LU = 15  # the music under every spoken line, at least
BETWEEN_LU = (6, 12)  # the music between lines, under the speech's loudness
TONE_OVER_LU = 6  # every tone over the music around it


def _k_energy(x: np.ndarray) -> float:
    """Mean K-weighted energy (BS.1770's weighting, no gating) in dB: a level to compare parts by."""
    weighted = loudness.k_weighted(x)[: len(x)]
    return 10 * np.log10(max(float(np.mean(np.square(weighted))), 1e-20))


@pytest.fixture(scope="module")
def with_bed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = copy_project("project", tmp_path_factory.mktemp("music") / "project")
    run_cli("build", "short", "--music", "default", cwd=folder)
    timeline = json.loads((folder / "output" / "short.json").read_text())
    signal = decode(folder / "output" / "short.mp3")
    spans = [(s * RATE // 1000, e * RATE // 1000) for s, e in timeline["music"]["ducked_ms"]]
    loop = loudness.samples(bed.bed_pcm())
    alone = music.ducked(loop, len(signal), spans, loudness.clip_lufs(-19), timeline["music"]["level"],
                         timeline["music"]["duck"])
    quiet = _between_lines(spans, len(signal))
    both = np.concatenate([alone[a:b] for a, b in quiet])
    heard = np.concatenate([signal[a:b] for a, b in quiet])
    gain = float(np.dot(both, heard) / np.dot(both, both))  # the track's one gain, from where only music plays
    return {"folder": folder, "timeline": timeline, "signal": signal, "spans": spans, "music": alone * gain,
            "quiet": quiet}


def _between_lines(spans: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """Stretches where the bed is up: gaps it does not stay down across, away from its ramps."""
    edges = [(0, 0), *sorted(spans), (n - int(music.END_FADE_S * RATE), n)]
    after, before = int((music.RELEASE_S + 0.2) * RATE), int((music.LEAD_S + 0.2) * RATE)
    return [(a + after, b - before) for (_, a), (b, _) in zip(edges, edges[1:], strict=False)
            if b - a - music.LEAD_S * RATE >= music.STAY_DOWN_S * RATE and b - before - (a + after) > RATE // 2]


def test_a_build_with_the_default_bed_verifies_and_keeps_its_tones_on_time(with_bed: dict) -> None:
    done = run_cli("verify", "short", cwd=with_bed["folder"])
    assert "ok" in done.stdout + done.stderr
    onsets = find_onsets(with_bed["signal"], read_wav(with_bed["folder"] / "sounds" / "start.wav"))
    planned = [e["at_ms"] / 1000 for e in with_bed["timeline"]["events"] if e["text"] == "start"]
    assert len(onsets) == len(planned)
    assert all(abs(a - b) < 0.020 for a, b in zip(onsets, planned, strict=True)), (onsets, planned)


def test_verify_hears_music_that_is_not_where_its_setting_puts_it(with_bed: dict, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(with_bed["folder"], folder, ignore=shutil.ignore_patterns(".cache"))
    timeline = folder / "output" / "short.json"
    data = json.loads(timeline.read_text())
    data["music"]["level"] = 2  # the bed as built sits about 9 LU under the speech, not 2
    timeline.write_text(json.dumps(data))
    done = run_cli("verify", "short", cwd=folder, check=False)
    assert done.returncode != 0 and "LU under the speech between lines, set to 2" in done.stdout + done.stderr


def test_the_music_is_ducked_under_every_line_and_sits_below_the_speech_between_them(with_bed: dict) -> None:
    signal, bed_part = with_bed["signal"], with_bed["music"]
    events = with_bed["timeline"]["events"]
    speech_levels = []
    for event, (a, b) in zip(events, with_bed["spans"], strict=True):
        if event["kind"] != "speech":
            continue
        voice, under = _k_energy(signal[a:b] - bed_part[a:b]), _k_energy(bed_part[a:b])
        speech_levels.append(voice)
        assert voice - under >= LINE_UNDER_LU, (event["text"], voice - under)
    speech = 10 * np.log10(np.mean(np.power(10, np.array(speech_levels) / 10)))
    for a, b in with_bed["quiet"]:
        below = speech - _k_energy(signal[a:b])
        assert BETWEEN_LU[0] <= below <= BETWEEN_LU[1], (a / RATE, below)


def test_every_tone_is_heard_clearly_over_the_music(with_bed: dict) -> None:
    signal, bed_part = with_bed["signal"], with_bed["music"]
    for event, (a, b) in zip(with_bed["timeline"]["events"], with_bed["spans"], strict=True):
        if event["kind"] == "sound":
            around = bed_part[max(0, a - RATE // 2):b + RATE // 2]
            assert _k_energy(signal[a:b] - bed_part[a:b]) - _k_energy(around) >= TONE_OVER_LU, event


def test_no_click_in_the_decoded_music(with_bed: dict) -> None:
    """Between lines the decoded track moves from sample to sample no more than the bed itself does."""
    signal, bed_part = with_bed["signal"], with_bed["music"]
    for a, b in with_bed["quiet"]:
        own = np.abs(np.diff(bed_part[a:b])).max()
        assert np.abs(np.diff(signal[a:b])).max() <= 1.2 * own + 2e-3, a / RATE


def test_pieces_loop_without_a_seam() -> None:
    t = np.arange(4 * RATE) / RATE
    pieces = [0.3 * np.sin(2 * np.pi * 220 * t), 0.2 * np.sin(2 * np.pi * 330 * t[: 3 * RATE] + 1)]
    loop = music.cycle(pieces)
    twice = music.looped(loop, 2 * len(loop) + 100)
    own = max(np.abs(np.diff(piece)).max() for piece in pieces)
    assert np.abs(np.diff(twice)).max() <= own * 1.01
    seamless = loudness.samples(bed.bed_pcm())
    again = np.concatenate([seamless[-RATE:], seamless[:RATE]])
    assert np.abs(np.diff(again)).max() <= np.abs(np.diff(seamless)).max()


def test_the_envelope_goes_down_before_a_line_and_stays_down_across_a_short_gap() -> None:
    n = 20 * RATE
    gain = music.envelope([(5 * RATE, 6 * RATE), (7 * RATE, 8 * RATE), (14 * RATE, 15 * RATE)], n, 9, 18)
    assert gain[4 * RATE] == pytest.approx(-9)
    assert gain[5 * RATE] == pytest.approx(-18)  # down when the line starts: it began LEAD_S before
    assert gain[int((5 - music.LEAD_S) * RATE) + 10] > -10
    assert gain[int(6.5 * RATE)] == pytest.approx(-18)  # a one-second gap: stays down
    assert gain[int(8 * RATE + music.RELEASE_S * RATE) + 10] == pytest.approx(-9)
    assert gain[int(8.5 * RATE)] > -18


def _stereo(path: Path, rate: int, freq: int) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"aevalsrc=0.2*sin({freq}*2*PI*t)|0.2*sin({freq * 1.5}*2*PI*t):s={rate}:d=5", "-ac", "2",
                    str(path)], check=True)


def test_a_coachs_own_music_ogg_flac_and_mp3_at_other_rates_in_stereo(tmp_path: Path) -> None:
    folder = copy_project("project", tmp_path / "project")
    for name, rate, freq in (("a.ogg", 48_000, 220), ("b.flac", 22_050, 247), ("c.mp3", 32_000, 262)):
        _stereo(folder / "routines" / name, rate, freq)
    program = folder / "routines" / "program.yaml"
    program.write_text(program.read_text() + "music: [a.ogg, b.flac, c.mp3]\n")
    run_cli("check", cwd=folder)
    run_cli("build", "short", cwd=folder)
    assert "ok" in run_cli("verify", "short", cwd=folder).stdout
    timeline = json.loads((folder / "output" / "short.json").read_text())
    assert timeline["music"]["sources"] == ["a.ogg", "b.flac", "c.mp3"]
    signal = decode(folder / "output" / "short.mp3")
    spans = [(s * RATE // 1000, e * RATE // 1000) for s, e in timeline["music"]["ducked_ms"]]
    a, b = _between_lines(spans, len(signal))[0]
    assert _k_energy(signal[a:b]) > -45  # music is heard between lines
    (folder / "routines" / "c.mp3").write_bytes(b"not audio at all")
    done = run_cli("build", "short", cwd=folder, check=False)
    assert done.returncode == 2 and "program.yaml:" in done.stderr and "c.mp3" in done.stderr, done.stderr


@pytest.mark.parametrize(("line", "says"), [
    ("music: [gone.ogg]", "'music' names gone.ogg, which is not in routines"),
    ("music: broken.ogg", "'music' names broken.ogg, which ffmpeg cannot decode"),
    ("music: [../outside.ogg]", "outside the routines folder"),
    ("music: 5", "'music' must be none, default, or audio files"),
    ("music_duck: 6", "'music_duck' is 6"),
    ("music_level: 20", "'music_level' is 20"),
    ("music_level: 12\nmusic_duck: 11", "less than music_level (12)"),
])
def test_bad_music_is_a_located_error_from_check(tmp_path: Path, line: str, says: str) -> None:
    folder = copy_project("project", tmp_path / "project")
    (folder / "routines" / "broken.ogg").write_text("OggS, or so it claims")
    program = folder / "routines" / "program.yaml"
    program.write_text(program.read_text() + line + "\n")
    done = run_cli("check", cwd=folder, check=False)
    assert done.returncode == 2, done.stderr
    located = [row for row in done.stderr.splitlines() if says in row]
    assert located and located[0].startswith("routines/program.yaml:"), done.stderr
    assert "Traceback" not in done.stderr


def test_a_days_own_music_overrides_the_programs_and_none_turns_it_off(tmp_path: Path) -> None:
    folder = copy_project("project", tmp_path / "project")
    program = folder / "routines" / "program.yaml"
    program.write_text(program.read_text() + "music: default\n")
    day = folder / "routines" / "short.yaml"
    day.write_text(day.read_text() + "music: none\n")
    run_cli("build", "short", cwd=folder)
    assert "music" not in json.loads((folder / "output" / "short.json").read_text())
    run_cli("build", "short", "--music", "default", cwd=folder)
    assert json.loads((folder / "output" / "short.json").read_text())["music"]["sources"] == ["default"]


def _peaky_voice(n: int) -> tuple[list[tuple[int, bytes]], np.ndarray]:
    """A quiet, peaky voice (clicks of noise over a murmur) in one-second lines every 4 s, silent between them:
    the lines (first sample, PCM), and the track they make."""
    rng = np.random.default_rng(7)
    voice = np.zeros(n)
    lines = []
    for start in range(RATE, n - 2 * RATE, 4 * RATE):
        line = 0.02 * rng.standard_normal(RATE) + 0.25 * rng.standard_normal(RATE) * (rng.random(RATE) > 0.99)
        lines.append((start, loudness.to_pcm(line)))
        voice[start:start + RATE] = loudness.samples(lines[-1][1])
    return lines, voice


def test_the_parts_measures_give_the_mixs_loudness_and_bound_its_peaks() -> None:
    """The loudness worked out from the pieces' and the loop's measures is the rendered mix's (within 0.05 LU,
    the cross term left out), and no block of the mix peaks over the peak worked out for it."""
    n = 60 * RATE
    lines, voice = _peaky_voice(n)
    loop = loudness.samples(bed.bed_pcm())
    spans = [(at, at + len(pcm) // 2) for at, pcm in lines]
    loop_measure = measures.measure_loop(loop)
    gain = music.bed_gain(loop_measure.lufs, -18.4)
    n_blocks = -(-(n + loudness.K_TAIL) // loudness.SUB_BLOCK) * (loudness.SUB_BLOCK // measures.BLOCK)
    points = music.evened(music.corners(spans, n, 9, 18), loop_measure, 9)
    edges = music.gains_at(points, np.arange(n_blocks + 1, dtype=np.float64) * measures.BLOCK, n, music.fade_len(n))
    parts = measures.track_measures([(at, measures.measure(pcm)) for at, pcm in lines], loop_measure, points, edges, n)
    energy, peaks = parts.mixed(gain)
    mixed = voice.astype(np.float32) + music.ducked(loop, n, spans, -18.4, 9, 18)
    per_sub = loudness.SUB_BLOCK // measures.BLOCK
    assert abs(loudness.integrated(energy.reshape(-1, per_sub).sum(axis=1)) - loudness.loudness(mixed)) < 0.05
    heard = loudness.true_peaks(mixed, measures.BLOCK)
    # within 0.01 dB: the measures are single precision, and the bed starts from silence at the track's first
    # sample, an edge its measure round the loop does not have
    over = heard / np.maximum(peaks[: len(heard)], 1e-9)
    assert np.all(over <= 1 + 1e-3), (np.argmax(over), over.max())
    assert np.median(peaks[: len(heard)] / np.maximum(heard, 1e-9)) < 1.2  # a bound, not a wild guess


def test_the_mix_measures_its_target_where_its_limiter_takes_loudness() -> None:
    """The gain pushes the peaky voice's peaks far over the ceiling, the limiter takes loudness back, and the
    mix rendered from its plan still measures the target, its true peaks at the ceiling."""
    n = 120 * RATE
    lines, _ = _peaky_voice(n)
    loop = loudness.samples(bed.bed_pcm())
    placed = [(at, mixdown.piece_key(pcm), pcm, measures.measure(pcm)) for at, pcm in lines]
    mix = mixdown.plan(placed, n, loop, "bed", measures.measure_loop(loop), -18.4, 9, 18, -19.0)
    assert np.max(mix.factors) > np.min(mix.factors) * 1.5  # the limiter worked
    mixed = loudness.samples(mix.render(0, n))
    # the mix aims a little over the target: its MP3 measures that much under it (music.MIX_ABOVE_TARGET_LU)
    assert abs(loudness.loudness(mixed) - (-19.0 + music.MIX_ABOVE_TARGET_LU)) <= music.GAIN_STEP_DB / 2 + 0.1
    peak = 20 * np.log10(loudness.true_peaks(mixed, loudness.LIMIT_STEP).max())
    assert peak <= music.MIX_CEILING_DBTP + 0.1
