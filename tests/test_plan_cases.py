"""Data-driven: each routine in data/cases/routines compiles to the plan saved in data/cases/expected.

A case's saved plan starts with its warnings, if any; a case that cannot compile saves its
error lines instead of a plan. Paths are relative to data/cases.

A change in timing shows up as a readable diff. After an intended change, regenerate with
CUECOACH_UPDATE_PLANS=1 pytest tests/test_plan_cases.py and review the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cuecoach.config.load import load_routine
from cuecoach.config.project import Project, routine_ids
from cuecoach.errors import InputError
from cuecoach.script.compile import compile_routine
from cuecoach.script.timeline import format_plan

CASES = Path(__file__).resolve().parent / "data" / "cases"
PROJECT = Project.at(CASES)


@pytest.mark.parametrize("case", routine_ids(PROJECT))
def test_plan_matches_the_saved_plan(case: str) -> None:
    loaded = load_routine(PROJECT, case)
    try:
        script = compile_routine(loaded.routine, loaded.program, loaded.known)
        plan = "".join(f"{w}: {m}\n" for w, m in script.warnings) + format_plan(script)
    except InputError as exc:
        plan = f"error:\n{exc}\n"
    plan = plan.replace(str(CASES) + os.sep, "").replace(os.path.relpath(CASES) + os.sep, "")
    expected = CASES / "expected" / f"{case}.plan"
    if os.environ.get("CUECOACH_UPDATE_PLANS"):
        expected.write_text(plan)
    assert expected.exists(), f"no saved plan for {case}: run with CUECOACH_UPDATE_PLANS=1 and review it"
    assert plan == expected.read_text()


def test_every_saved_plan_has_its_case() -> None:
    saved = {p.stem for p in (CASES / "expected").glob("*.plan")}
    assert saved == set(routine_ids(PROJECT))
