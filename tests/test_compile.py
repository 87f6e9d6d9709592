"""The compiler's timing contract, tested on small routines without any audio."""

from __future__ import annotations

import shutil
from itertools import pairwise
from pathlib import Path

import pytest

from cuecoach.config.load import load_routine
from cuecoach.config.project import Project
from cuecoach.errors import InputError
from cuecoach.script.compile import compile_routine
from cuecoach.script.types import CALLS_MIN_S, LINE_GAP_MS, PAUSE_MS, SOUND_SLOT_MS, Script

CASES = Path(__file__).resolve().parent / "data" / "cases"


def compiled(tmp_path: Path, day: str, library_edit: tuple[str, str] | None = None,
             program_edit: tuple[str, str] | None = None, name: str = "day"):
    if not (tmp_path / "routines").exists():
        shutil.copytree(CASES / "routines", tmp_path / "routines")
    for file, edit in (("exercises.yaml", library_edit), ("program.yaml", program_edit)):
        if edit:
            path = tmp_path / "routines" / file
            assert edit[0] in path.read_text()
            path.write_text(path.read_text().replace(*edit))
    (tmp_path / "routines" / f"{name}.yaml").write_text(day)
    loaded = load_routine(Project.at(tmp_path), name)
    return compile_routine(loaded.routine, loaded.program, loaded.known), loaded.program


def spoken_before(script, at_ms: int) -> list:
    return [e for e in script.events if e.kind == "speech" and e.at_ms < at_ms]


def sounds(script, name):
    return [e for e in script.events if e.kind == "sound" and e.text == name]


def test_a_block_runs_from_start_tone_onset_to_stop_tone_onset(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [{id: hold, work: 45}]\n")
    (block,) = script.blocks
    (start,), (stop,) = sounds(script, "start"), sounds(script, "stop")
    assert (start.at_ms, stop.at_ms) == (block.start_ms, block.end_ms)
    assert stop.at_ms - start.at_ms == 45_000


def test_fixed_cues_keep_their_times(tmp_path: Path) -> None:
    script, program = compiled(tmp_path, "title: T\nexercises: [{id: hold, work: 40}]\n")
    (block,) = script.blocks
    at = {e.role: e.at_ms - block.start_ms for e in script.events if e.block == 1 and e.role != "countdown"}
    assert at["halfway"] == 20_000 and at["ten-seconds-left"] == 30_000
    countdown = [e.at_ms - block.start_ms for e in script.events if e.role == "countdown"]
    assert countdown == [37_000, 38_000, 39_000]
    assert [e.text for e in script.events if e.role == "countdown"] == ["Three.", "Two.", "One."]


def test_short_blocks_have_no_halfway_or_ten_seconds_left(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, f"title: T\nexercises: [{{id: hold, work: {CALLS_MIN_S - 1}}}]\n")
    roles = {e.role for e in script.events}
    assert "halfway" not in roles and "ten-seconds-left" not in roles and "countdown" in roles


def test_nothing_overlaps_and_speech_never_stretches_a_block(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [chatty, bridge, lunge, {id: lunge, sets: 2, rest: 12}]\n")
    counts = ("countdown", "lead-in")
    for before, after in pairwise(script.events):
        assert before.end_ms + PAUSE_MS <= after.at_ms or (before.role in counts and before.end_ms <= after.at_ms), \
            (before, after)
    for block in script.blocks:
        assert block.end_ms - block.start_ms == block.seconds * 1000
        inside = [e for e in script.events if e.block == block.number]
        assert all(block.start_ms <= e.at_ms and e.end_ms <= block.end_ms + SOUND_SLOT_MS["stop"] for e in inside)


def test_lines_inside_a_block_keep_a_second_and_a_half_apart(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [chatty, {id: hold, work: 60, cues: [A., B., C., D.]}]\n")
    for block in script.blocks:
        lines = [e for e in script.events if e.block == block.number and e.kind == "speech"]
        lines = [e for i, e in enumerate(lines) if e.role != "countdown" or lines[i - 1].role != "countdown"]
        for before, after in pairwise(lines):
            assert after.at_ms - before.end_ms >= LINE_GAP_MS, (before, after)


def test_every_start_has_a_lead_in_after_quiet_time_to_move(tmp_path: Path) -> None:
    script, program = compiled(tmp_path, "title: T\nexercises: [hold, lunge, bridge]\n")
    words = [w.text for w in program.countdown]
    for block in script.blocks:
        lead = [e for e in script.events if e.role == "lead-in" and block.start_ms - 3000 <= e.at_ms < block.start_ms]
        assert [e.text for e in lead] == words and [e.at_ms for e in lead] == [block.start_ms - 3000 + 1000 * i
                                                                              for i in range(3)]
        if block.set == 1:  # a rest between sets is timed from the stop tone; the others wait for the runner
            talk = [e for e in spoken_before(script, lead[0].at_ms) if e.role not in ("lead-in", "countdown")]
            quiet = program.gaps.switch_sides if block.side == 2 else program.gaps.get_ready
            assert lead[0].at_ms - talk[-1].end_ms == quiet * 1000


def test_switch_time_and_setup_time_set_the_quiet_time_per_exercise(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [{id: lunge, switch_time: 10, setup_time: 7}]\n")
    first, second = script.blocks
    for block, quiet in ((first, 7000), (second, 10_000)):
        talk = [e for e in spoken_before(script, block.start_ms - 3000) if e.role != "countdown"]
        assert block.start_ms - 3000 - talk[-1].end_ms == quiet


def test_a_long_switch_line_lengthens_the_gap_instead_of_eating_the_quiet(tmp_path: Path) -> None:
    long_line = "Bring the front foot back, turn around slowly, and step the other foot forward."
    script, program = compiled(tmp_path, f"title: T\nexercises: [{{id: lunge, switch: \"{long_line}\"}}]\n")
    first, second = script.blocks
    (switch,) = [e for e in script.events if e.role == "switch"]
    (side,) = [e for e in script.events if e.role == "side-next"]
    assert first.end_ms < switch.at_ms < side.at_ms
    assert second.start_ms - 3000 - side.end_ms == program.gaps.switch_sides * 1000


def test_sides_are_named_before_each_side(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [{id: lunge, sets: 2, rest: 15}, "
                                   "{id: lunge, sides: [front leg, back leg]}]\n")
    for block in script.blocks:
        named = [e for e in spoken_before(script, block.start_ms) if e.role in ("side-first", "side-next")]
        expected = {1: "Start with your {}.", 2: "Now your {}."}[block.side].format(block.side_name)
        assert named[-1].text == expected
        later = [e for e in spoken_before(script, block.start_ms) if e.at_ms > named[-1].at_ms]
        assert all(e.role in ("lead-in", "next-set", "get-ready") for e in later), later
    assert [b.side_name for b in script.blocks] == ["left side", "right side"] * 2 + ["front leg", "back leg"]


def test_the_second_side_hears_its_own_cues_or_only_the_first(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [{id: lunge, cues: [Tuck., Breathe.]}, "
                                   "{id: lunge, cues: [Tuck., Breathe.], side2_cues: [Other side tuck.]}]\n")
    cues = [[e.text for e in script.events if e.block == b.number and e.role == "cue"] for b in script.blocks]
    assert cues == [["Tuck.", "Breathe."], ["Tuck."], ["Tuck.", "Breathe."], ["Other side tuck."]]


def test_the_name_is_said_once_per_transition(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [hold, lunge]\n")
    for block in script.blocks:
        said = " ".join(e.text for e in script.events if block.start_ms - 60_000 <= e.at_ms < block.start_ms
                        and e.kind == "speech" and e.block is None and e.at_ms > _last_stop(script, block))
        assert said.count("lunge stretch" if block.exercise == "lunge" else "plank") <= 1, said


def _last_stop(script, block) -> int:
    return max([b.end_ms for b in script.blocks if b.end_ms < block.start_ms], default=0)


def test_a_cue_that_cannot_fit_is_left_out_with_a_warning_at_its_line(tmp_path: Path) -> None:
    long_cue = "Keep breathing slowly and steadily through your nose, and keep your whole body long and still."
    script, _ = compiled(tmp_path, "title: T\nexercises: [{id: hold, work: 10}]\n", ("[Breathe.]", f'["{long_cue}"]'))
    assert not [e for e in script.events if e.role == "cue"]
    (where, message), = script.warnings
    assert (where.path.endswith("exercises.yaml"), where.line) == (True, 6)
    assert message.startswith("warning: cue left out of the 10 s block of 'hold' at 170 words a minute")


def test_a_rest_too_short_for_its_calls_names_the_slowest_rate_that_fits(tmp_path: Path) -> None:
    day = "title: T\nexercises:\n  - {id: bridge, rest: 8}\n"
    with pytest.raises(InputError) as caught:
        compiled(tmp_path / "slow", day, program_edit=("rate: 170", "rate: 120"))
    (where, message), = caught.value.problems
    assert where.line == 3 and where.path.endswith("day.yaml")
    assert "the rest of 8 s in 'bridge' is too short" in message and "at 120 words a minute" in message
    rate = int(message.split("it fits at ")[1].split()[0])
    assert 120 < rate <= 170
    compiled(tmp_path / "fits", day, program_edit=("rate: 170", f"rate: {rate}"))
    with pytest.raises(InputError):
        compiled(tmp_path / "just-too-slow", day, program_edit=("rate: 170", f"rate: {rate - 1}"))


def test_a_countdown_word_longer_than_a_second_is_an_error_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="countdown word 'Three, get set.' takes longer than one second"):
        compiled(tmp_path, "title: T\nexercises: [hold]\n",
                 program_edit=('countdown: ["Three.",', 'countdown: ["Three, get set.",'))


def test_an_exercise_met_before_gets_its_reminder_and_a_later_day_a_short_opening(tmp_path: Path) -> None:
    first, _ = compiled(tmp_path, "title: T\nweek: 1\nday: 1\nexercises: [hold, lunge, chatty]\n",
                        name="week1-day1")
    later, _ = compiled(tmp_path, "title: T\nweek: 1\nday: 2\nexercises: [lunge, hold, chatty]\n",
                        name="week1-day2")

    def setup(s: Script, ex: str) -> list[str]:
        return [e.text for e in s.events if e.role == "setup" and
                any(c.title == ex and c.start_ms <= e.at_ms < c.end_ms for c in s.chapters)]

    assert setup(later, "Lunge Stretch") == ["Lunge, back knee down."]
    assert setup(later, "Plank Hold") == ["Forearms down, body long."]  # one line: its first line is the reminder

    def opening(s: Script) -> int:
        return s.chapters[0].end_ms

    assert opening(later) < opening(first)
    short_roles = {e.role for e in later.events if e.at_ms < opening(later)}
    assert short_roles == {"welcome-short", "equipment-short", "safety-short"}
    full, _ = compiled(tmp_path, "title: T\nweek: 1\nday: 3\nexercises: [{id: lunge, instruction: full}]\n",
                       name="week1-day3")
    assert setup(full, "Lunge Stretch") == ["Step one foot forward.", "Back knee down."]
    own, _ = compiled(tmp_path, "title: T\nweek: 1\nday: 4\nexercises: [{id: lunge, setup: [Today kneel.]}]\n",
                      name="week1-day4")
    assert setup(own, "Lunge Stretch") == ["Today kneel."]  # a day's own setup is said, known or not


def test_instruction_full_turns_fading_off(tmp_path: Path) -> None:
    compiled(tmp_path, "title: T\nweek: 1\nday: 1\nexercises: [lunge]\n", name="week1-day1")
    script, _ = compiled(tmp_path, "title: T\nweek: 1\nday: 2\nexercises: [lunge]\n", name="week1-day2",
                         program_edit=("rate: 170", "rate: 170\ninstruction: full"))
    roles = [e.role for e in script.events]
    assert "welcome" in roles and "welcome-short" not in roles and "setup" in roles


def test_pips_lead_in_instead_of_words(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [hold]\n",
                         program_edit=("rate: 170", "rate: 170\nlead_in: pips"))
    (block,) = script.blocks
    pips = [e.at_ms for e in script.events if e.kind == "sound" and e.text == "pip"]
    assert pips == [block.start_ms - 3000, block.start_ms - 2000, block.start_ms - 1000]
    assert not [e for e in script.events if e.role == "lead-in"]


def test_the_compiler_is_deterministic(tmp_path: Path) -> None:
    first, _ = compiled(tmp_path, "title: T\nexercises: [chatty, lunge, bridge]\n")
    loaded = load_routine(Project.at(tmp_path), "day")
    assert compile_routine(loaded.routine, loaded.program) == first


def test_chapters_cover_the_track_one_per_exercise(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [hold, lunge]\n")
    assert [c.title for c in script.chapters] == ["Introduction", "Plank Hold", "Lunge Stretch", "Close"]
    assert script.chapters[0].start_ms == 0 and script.chapters[-1].end_ms == script.duration_ms
    assert all(a.end_ms == b.start_ms for a, b in pairwise(script.chapters))


def test_the_length_announced_matches_the_length(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [chatty, hold, lunge]\n")
    (length,) = [e.text for e in script.events if e.role == "length"]
    minutes = round(script.duration_ms / 60_000)
    from cuecoach.spoken import number_words
    assert length == f"About {number_words(minutes)} minutes."


def test_a_fixed_call_that_cannot_fit_is_an_error_at_its_phrase_naming_the_rate(tmp_path: Path) -> None:
    long_call = "Ten seconds left now, so keep your form, stay long, keep your ribs down, and breathe."
    with pytest.raises(InputError) as caught:
        compiled(tmp_path, "title: T\nexercises: [{id: hold, work: 40}]\n",
                 program_edit=('ten_seconds_left: "Ten seconds left."', f'ten_seconds_left: "{long_call}"'))
    (where, message), = caught.value.problems
    assert (where.path.endswith("program.yaml"), where.line) == (True, 24)
    assert message.startswith("phrase 'ten_seconds_left' does not fit in the 40 s block of 'hold'")
    assert "at 170 words a minute (it fits at " in message


def test_a_phrase_that_says_a_long_value_is_placed_at_the_value_and_names_the_phrase(tmp_path: Path) -> None:
    title = "Lumbar Stabilisation and Hip Mobility for Runners Who Sit All Day"
    script, program = compiled(tmp_path, f"title: {title}\nexercises: [{first_exercise(tmp_path)}]\n")
    welcome = next(e for e in script.events if e.role.startswith("welcome"))

    assert title in welcome.text
    assert welcome.where.path.endswith("routines/day.yaml") and welcome.where.line == 1  # the title's line
    assert welcome.said_in == program.phrases["welcome"][0].where  # and the phrase it is said in
    safety = next(e for e in script.events if e.role.startswith("safety"))
    assert safety.said_in is None and safety.where.path.endswith("program.yaml")  # no value: the phrase's own


def test_a_short_value_leaves_the_line_at_the_phrase(tmp_path: Path) -> None:
    script, program = compiled(tmp_path, f"title: X\nexercises: [{first_exercise(tmp_path)}]\n",
                               program_edit=('"{series}. {title}."', '"Good to have you back, runner. {title}."'))
    welcome = next(e for e in script.events if e.role.startswith("welcome"))

    assert welcome.said_in is None and welcome.where == program.phrases["welcome"][0].where


def first_exercise(tmp_path: Path) -> str:
    if not (tmp_path / "routines").exists():
        shutil.copytree(CASES / "routines", tmp_path / "routines")
    text = (tmp_path / "routines" / "exercises.yaml").read_text()
    return next(line[:-1] for line in text.splitlines() if line and not line[0].isspace() and line.endswith(":")
                and not line.startswith("#"))
