"""The 6-week program in routines/: all 42 days check, last 10 to 20 minutes, and progress."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from statistics import mean

import pytest
from conftest import ROOT, run_cli

from cuecoach.config.load import Days, load_series_or_raise
from cuecoach.config.project import Project, routine_ids
from cuecoach.script.compile import compile_routine
from cuecoach.script.types import LINE_GAP_MS

PROJECT = Project.at(ROOT)
SLOWEST, FASTEST = 120, 220  # every rate in between builds
TALK = ("lead-in", "countdown")


def compile_all(rate: int | None = None):
    series = load_series_or_raise(PROJECT)
    program = replace(series.program, rate=rate) if rate else series.program
    days = Days(PROJECT, series)
    routines = {rid: days.day(rid) for rid in routine_ids(PROJECT)}
    return {rid: compile_routine(r, program, days.known(r)) for rid, r in routines.items()}


@pytest.fixture(scope="module")
def days():
    return compile_all()


@pytest.fixture(scope="module")
def series():
    return load_series_or_raise(PROJECT)


def talk_before(script, at_ms: int) -> list:
    """Spoken lines before a moment, but the counts."""
    return [e for e in script.events if e.kind == "speech" and e.at_ms < at_ms and e.role not in TALK]


def lead_in_at(script, block) -> int:
    return block.start_ms - 3000


def test_there_are_42_days_six_weeks_of_seven() -> None:
    assert routine_ids(PROJECT) == [f"week{w}-day{d}" for w in range(1, 7) for d in range(1, 8)]


def test_check_passes_on_the_program() -> None:
    done = run_cli("check", cwd=ROOT)
    assert "ok: 42 routines" in done.stderr


def test_check_fails_with_line_numbers_on_a_broken_copy(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "routines", tmp_path / "routines")
    day = tmp_path / "routines" / "week3-day2.yaml"
    lines = day.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("  - "))
    lines[index] = lines[index].replace("  - ", "  - nonexistent-", 1)
    day.write_text("\n".join(lines) + "\n")
    done = run_cli("check", cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert re.search(rf"routines/week3-day2\.yaml:{index + 1}:\d+: unknown exercise", done.stderr), done.stderr


def test_week1_day1_is_the_seeds_day(days) -> None:
    script = days["week1-day1"]
    assert [b.exercise for b in script.blocks if b.side in (None, 1) and b.set == 1] == [
        "ninety-degree-squats", "single-leg-deadlifts", "high-lunge-stretch", "forward-fold",
        "bridge-adductor-squeeze", "cat-cow", "dynamic-neck-stretch", "side-lying-quad-stretch", "upper-back-roll"]
    assert [b.seconds for b in script.blocks] == [60, 30, 30, 45, 45, 30, 30, 20, 20, 60, 30, 60, 60, 45]
    assert script.equipment == ("a mat", "a block", "a foam roller")


def test_every_day_lasts_10_to_20_minutes(days) -> None:
    lengths = {rid: s.duration_ms / 60_000 for rid, s in days.items()}
    assert all(10 <= minutes <= 20 for minutes in lengths.values()), lengths


def test_each_day_announces_exactly_the_equipment_it_uses(days) -> None:
    for rid, script in days.items():
        (line,) = [e.text for e in script.events if e.role in ("equipment", "equipment-short")] or [""]
        for gear in ("a mat", "a block", "a foam roller"):
            assert (gear in line) == (gear in script.equipment), (rid, line)


def test_days_within_a_week_differ_and_every_week_has_lighter_days(days) -> None:
    for week in range(1, 7):
        week_days = [days[f"week{week}-day{d}"] for d in range(1, 8)]
        orders = {tuple(b.exercise for b in s.blocks) for s in week_days}
        assert len(orders) == 7, week
        lengths = sorted(s.duration_ms for s in week_days)
        assert lengths[0] < 0.85 * lengths[-1], week  # recovery days are clearly shorter


def test_the_weeks_progress(days) -> None:
    def week_mean(week: int, what) -> float:
        return mean(what(days[f"week{week}-day{d}"]) for d in range(1, 8))

    work = [week_mean(w, lambda s: sum(b.seconds for b in s.blocks)) for w in range(1, 7)]
    assert work[-1] > work[0] * 1.2, work  # more time under work by week six
    hold = [week_mean(w, lambda s: mean(b.seconds for b in s.blocks)) for w in range(1, 7)]
    assert hold[-1] > hold[0], hold  # holds lengthen
    hard = {"dead-bug-leg-extension", "single-leg-bridge", "side-plank", "forearm-plank", "bird-dog-crunch"}
    assert not any(b.exercise in hard for d in range(1, 8) for b in days[f"week1-day{d}"].blocks)
    assert any(b.exercise in hard for d in range(1, 8) for b in days[f"week6-day{d}"].blocks)


def test_the_program_checks_without_warnings_at_its_own_rate(days) -> None:
    assert {rid: s.warnings for rid, s in days.items() if s.warnings} == {}


@pytest.mark.parametrize("rate", [SLOWEST, 140, 185, FASTEST])
def test_every_day_compiles_at_any_rate_from_120_to_220(rate: int) -> None:
    scripts = compile_all(rate)  # raises on any fixed line that cannot fit
    assert len(scripts) == 42
    assert all(s.blocks for s in scripts.values())


def test_time_to_move_before_every_lead_in_after_talk(days, series) -> None:
    for rid, script in days.items():
        for block in script.blocks:
            if block.set > 1:
                continue  # a rest between sets is timed from the stop tone
            ex = series.library[block.exercise]
            default = series.program.gaps.switch_sides if block.side == 2 else series.program.gaps.get_ready
            own = ex.switch_time if block.side == 2 else ex.setup_time
            quiet = lead_in_at(script, block) - talk_before(script, lead_in_at(script, block))[-1].end_ms
            assert quiet >= 5000, (rid, block)
            assert quiet == 1000 * (own if own is not None else default), (rid, block)


def test_big_moves_get_more_time(series) -> None:
    rolls = [ex for ex in series.library.values() if ex.switch and "roll over" in ex.switch.text.lower()]
    assert rolls and all((ex.switch_time or 0) >= 8 for ex in rolls)
    assert series.library["open-book"].switch_time >= 10


def test_no_exercise_name_twice_in_the_minute_before_its_first_block(days, series) -> None:
    for rid, script in days.items():
        for block in script.blocks:
            if (block.side or 1) > 1 or block.set > 1:
                continue
            name = series.library[block.exercise].say.text.lower()
            said = " ".join(e.text.lower() for e in script.events
                            if e.kind == "speech" and block.start_ms - 60_000 <= e.at_ms < block.start_ms)
            assert said.count(name) == 1, (rid, name, said)


def test_lines_inside_blocks_are_a_second_and_a_half_apart(days) -> None:
    for rid, script in days.items():
        lines = [e for e in script.events if e.kind == "speech" and e.block]
        for before, after in pairwise(lines):
            if before.block == after.block and not (before.role == after.role == "countdown"):
                assert after.at_ms - before.end_ms >= LINE_GAP_MS, (rid, before, after)


def test_halfway_and_ten_seconds_left_only_in_blocks_of_40_s_or_more(days) -> None:
    for script in days.values():
        for block in script.blocks:
            roles = {e.role for e in script.events if e.block == block.number}
            long = block.seconds >= 40
            assert ("halfway" in roles, "ten-seconds-left" in roles) == (long, long)


def test_every_per_side_block_is_preceded_by_its_side(days) -> None:
    for rid, script in days.items():
        for block in script.blocks:
            if block.side is None:
                continue
            talk = [e for e in talk_before(script, block.start_ms) if e.role not in ("get-ready", "next-set")]
            assert talk[-1].role in ("side-first", "side-next") and block.side_name in talk[-1].text, (rid, block)


def test_later_days_of_a_week_open_in_half_the_time(days) -> None:
    for week in range(1, 7):
        first = days[f"week{week}-day1"].chapters[0].end_ms
        for day in range(2, 8):
            assert days[f"week{week}-day{day}"].chapters[0].end_ms <= first / 2, (week, day)


def test_a_known_exercise_is_set_up_faster_than_the_first_time(days) -> None:
    def setup_ms(script, chapter) -> int:
        return sum(e.slot_ms for e in script.events
                   if e.role == "setup" and chapter.start_ms <= e.at_ms < chapter.end_ms)

    first: dict[str, int] = {}
    for rid, script in days.items():  # in week and day order
        for chapter in script.chapters[1:-1]:
            took = setup_ms(script, chapter)
            if chapter.title not in first:
                first[chapter.title] = took
            else:
                assert took < first[chapter.title], (rid, chapter.title, took, first[chapter.title])
    assert len(first) > 40
