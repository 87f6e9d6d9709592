"""The compiler's timing contract, tested on small routines without any audio."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cuecoach.compile import PAUSE_MS, SOUND_SLOT_MS, compile_routine
from cuecoach.errors import InputError
from cuecoach.load import Project, load_routine

CASES = Path(__file__).resolve().parent / "data" / "cases"


def compiled(tmp_path: Path, day: str, library_edit: tuple[str, str] | None = None):
    shutil.copytree(CASES / "routines", tmp_path / "routines")
    if library_edit:
        library = tmp_path / "routines" / "exercises.yaml"
        library.write_text(library.read_text().replace(*library_edit))
    (tmp_path / "routines" / "day.yaml").write_text(day)
    loaded = load_routine(Project.at(tmp_path), "day")
    return compile_routine(loaded.routine, loaded.program), loaded.program


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
    script, _ = compiled(tmp_path, "title: T\nexercises: [{id: hold, work: 25}]\n")
    roles = {e.role for e in script.events}
    assert "halfway" not in roles and "ten-seconds-left" not in roles and "countdown" in roles


def test_nothing_overlaps_and_speech_never_stretches_a_block(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [chatty, bridge, lunge, {id: lunge, sets: 2, rest: 9}]\n")
    for before, after in zip(script.events, script.events[1:]):
        assert before.end_ms + PAUSE_MS <= after.at_ms or (before.kind == "speech" and before.role == "countdown"
                                                            and before.end_ms <= after.at_ms), (before, after)
    for block in script.blocks:
        assert block.end_ms - block.start_ms == block.seconds * 1000
        inside = [e for e in script.events if e.block == block.number]
        assert all(block.start_ms <= e.at_ms and e.end_ms <= block.end_ms + SOUND_SLOT_MS["stop"] for e in inside)


def test_switching_sides_does_not_come_out_of_the_second_side(tmp_path: Path) -> None:
    script, program = compiled(tmp_path, "title: T\nexercises: [lunge]\n")
    first, second = script.blocks
    assert (first.side, second.side) == (1, 2)
    assert first.end_ms - first.start_ms == second.end_ms - second.start_ms == 30_000
    assert second.start_ms - first.end_ms == program.gaps.switch_sides * 1000
    (switch,) = [e for e in script.events if e.role == "switch"]
    assert switch.text == "Switch legs." and first.end_ms < switch.at_ms < second.start_ms


def test_sets_rest_between_them_and_call_the_next_set(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [bridge]\n")
    assert [b.set for b in script.blocks] == [1, 2, 3]
    for done, following in zip(script.blocks, script.blocks[1:]):
        assert following.start_ms - done.end_ms == 8_000
    assert [e.text for e in script.events if e.role == "next-set"] == ["Set two of three.", "Set three of three."]
    assert [e.text for e in script.events if e.role == "rest"] == ["Rest eight seconds."] * 2


def test_per_side_in_sets_does_both_sides_each_set(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [{id: lunge, per_side: 15, sets: 2, rest: 10}]\n")
    assert [(b.set, b.side) for b in script.blocks] == [(1, 1), (1, 2), (2, 1), (2, 2)]


def test_colliding_cues_move_later_in_written_order(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [chatty]\n")
    cues = [e for e in script.events if e.role == "cue"]
    assert [e.text for e in cues] == ["Keep breathing slowly.", "Press the floor away.", "Long neck, soft jaw.",
                                      "Squeeze your glutes gently.", "Ribs down toward your hips."]
    assert all(a.at_ms < b.at_ms for a, b in zip(cues, cues[1:]))
    (ten_left,) = [e for e in script.events if e.role == "ten-seconds-left"]
    block = script.blocks[0]
    aimed = block.start_ms + SOUND_SLOT_MS["start"] + PAUSE_MS + 4 * (40_000 - 3000 - 2 * PAUSE_MS - SOUND_SLOT_MS["start"]) / 5
    assert ten_left.at_ms - PAUSE_MS < aimed + cues[4].slot_ms  # its aim overlaps "ten seconds left"...
    assert cues[4].at_ms == ten_left.end_ms + PAUSE_MS  # ...so it moves to just after it


def test_a_cue_that_cannot_fit_is_an_error_at_its_line(tmp_path: Path) -> None:
    long_cue = "Keep breathing slowly and steadily through your nose, and keep your whole body long and still."
    with pytest.raises(InputError) as caught:
        compiled(tmp_path, "title: T\nexercises: [{id: hold, work: 10}]\n", ("[Breathe.]", f"[{long_cue}]"))
    (where, message), = caught.value.problems
    assert (where.path.endswith("exercises.yaml"), where.line) == (True, 6)
    assert "does not fit in the 10 s block of 'hold'" in message


def test_a_switch_gap_too_short_for_its_phrase_is_an_error(tmp_path: Path) -> None:
    shutil.copytree(CASES / "routines", tmp_path / "routines")
    program = tmp_path / "routines" / "program.yaml"
    program.write_text(program.read_text().replace("switch_sides: 4", "switch_sides: 1.5"))
    (tmp_path / "routines" / "day.yaml").write_text("title: T\nexercises: [lunge]\n")
    loaded = load_routine(Project.at(tmp_path), "day")
    with pytest.raises(InputError, match="gap 'switch_sides' is too short"):
        compile_routine(loaded.routine, loaded.program)


def test_the_compiler_is_deterministic(tmp_path: Path) -> None:
    first, _ = compiled(tmp_path, "title: T\nexercises: [chatty, lunge, bridge]\n")
    loaded = load_routine(Project.at(tmp_path), "day")
    assert compile_routine(loaded.routine, loaded.program) == first


def test_chapters_cover_the_track_one_per_exercise(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [hold, lunge]\n")
    assert [c.title for c in script.chapters] == ["Introduction", "Plank Hold", "Lunge Stretch", "Close"]
    assert script.chapters[0].start_ms == 0 and script.chapters[-1].end_ms == script.duration_ms
    assert all(a.end_ms == b.start_ms for a, b in zip(script.chapters, script.chapters[1:]))


def test_the_length_announced_matches_the_length(tmp_path: Path) -> None:
    script, _ = compiled(tmp_path, "title: T\nexercises: [chatty, hold, lunge]\n")
    (length,) = [e.text for e in script.events if e.role == "length"]
    minutes = round(script.duration_ms / 60_000)
    from cuecoach.spoken import number_words
    assert length == f"About {number_words(minutes)} minutes."
