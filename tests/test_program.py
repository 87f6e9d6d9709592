"""The 6-week program in routines/: all 42 days check, last 10 to 20 minutes, and progress."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from statistics import mean

import pytest

from conftest import ROOT, run_cli
from cuecoach.compile import compile_routine
from cuecoach.load import Project, load_series_or_raise, load_day, routine_ids

PROJECT = Project.at(ROOT)


@pytest.fixture(scope="module")
def days():
    series = load_series_or_raise(PROJECT)
    return {rid: compile_routine(load_day(PROJECT, series, rid), series.program) for rid in routine_ids(PROJECT)}


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
        (line,) = [e.text for e in script.events if e.role == "equipment"] or [""]
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
