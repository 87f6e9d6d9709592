"""A script as people and programs read it: the `plan` text and the JSON timeline beside each MP3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cuecoach.script.types import Script


def clock(ms: int) -> str:
    """12345 ms -> '00:12.3' (tenths are truncated, so the clock never runs ahead)."""
    minutes, rest = divmod(ms, 60_000)
    return f"{minutes:02d}:{rest // 1000:02d}.{rest % 1000 // 100}"


def format_plan(script: Script) -> str:
    """The whole session as a readable timeline: one line per thing heard."""
    gear = ", ".join(script.equipment) or "none"
    steps, blocks_n = len({block.step for block in script.blocks}), len(script.blocks)
    lines = [
        f"{script.routine}: {script.title} ({script.series})",
        f"length {clock(script.duration_ms)}; {steps} exercise{'s' * (steps != 1)}; "
        f"{blocks_n} timed block{'s' * (blocks_n != 1)}; equipment: {gear}",
        "",
    ]
    blocks = {block.number: block for block in script.blocks}
    chapters = list(script.chapters)
    for event in script.events:
        while chapters and chapters[0].start_ms <= event.at_ms:
            lines.append(f"          == {chapters.pop(0).title} ==")
        mark = f"{event.block:>3}" if event.block else "   "
        if event.kind == "sound" and event.role == "start":
            block = blocks[event.block]  # type: ignore[index]  # a start tone always opens a block
            side = f", side {block.side} ({block.side_name})" if block.side else ""
            sets = f", set {block.set} of {block.sets}" if block.sets > 1 else ""
            reps = f"{block.reps} reps at {block.tempo}, " if block.reps is not None else ""
            heard = f"[start tone] {block.name}{side}{sets}: {reps}{block.seconds:g} s"
        elif event.kind == "sound":
            heard = f"[{event.text} tone]" if event.text != "finish" else "[finish sound]"
        else:
            heard = event.text
        lines.append(f"{clock(event.at_ms)} {mark}  {heard}")
    lines.append(f"{clock(script.duration_ms)}      (end)")
    return "\n".join(lines) + "\n"


def timeline_json(script: Script, **extra: Any) -> dict[str, Any]:
    """Every event and timed block with its times in ms, for tools and for `verify`."""
    return {
        "routine": script.routine,
        "title": script.title,
        "series": script.series,
        "week": script.week,
        "day": script.day,
        "duration_ms": script.duration_ms,
        **extra,
        "chapters": [{"title": c.title, "start_ms": c.start_ms, "end_ms": c.end_ms} for c in script.chapters],
        "blocks": [
            {"number": b.number, "exercise": b.exercise, "name": b.name, "side": b.side, "side_name": b.side_name,
             "set": b.set,
             "planned_s": b.seconds, "start_ms": b.start_ms, "end_ms": b.end_ms,
             **({"reps": b.reps, "tempo": b.tempo} if b.reps is not None else {})}  # a block of seconds as before
            for b in script.blocks
        ],
        "events": [
            {"at_ms": e.at_ms, "slot_ms": e.slot_ms, "kind": e.kind, "role": e.role, "text": e.text,
             "block": e.block}
            for e in script.events
        ],
    }


# --- reading a timeline back ----------------------------------------------------------------
# The JSON beside each MP3 is read by the site (feed, chapters, transcript, player). It is read
# here, once, defensively: a field that is missing or of another type gets a default, and roles
# or sides this version does not know are kept as text, so an older or newer build still reads.

@dataclass(frozen=True)
class Line:
    """A spoken line: its words, when it starts, and until when it is the line being heard."""

    at_ms: int
    end_ms: int
    text: str
    role: str
    block: int | None


@dataclass(frozen=True)
class Span:
    """A timed block (work on one side, one set) or a chapter: a title between two times."""

    title: str
    start_ms: int
    end_ms: int
    side: str | None = None
    exercise: str = ""


@dataclass(frozen=True)
class Timeline:
    routine: str
    title: str
    series: str
    week: int
    day: int
    duration_ms: int
    chapters: tuple[Span, ...]
    blocks: tuple[Span, ...]
    lines: tuple[Line, ...]


def _int(value: Any, default: int = 0) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _items(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def read_timeline(data: dict[str, Any]) -> Timeline:
    """A timeline from its JSON (as `timeline_json` writes it), tolerant of missing or new fields."""
    duration = _int(data.get("duration_ms"))
    chapters = tuple(Span(_str(c.get("title")), _int(c.get("start_ms")), _int(c.get("end_ms"), duration))
                     for c in _items(data, "chapters"))
    blocks = tuple(Span(_str(b.get("name"), _str(b.get("exercise"))), _int(b.get("start_ms")), _int(b.get("end_ms")),
                        None if b.get("side") in (None, "") else str(b.get("side")), _str(b.get("exercise")))
                   for b in _items(data, "blocks"))
    speech = sorted((e for e in _items(data, "events") if e.get("kind") == "speech" and _str(e.get("text"))),
                    key=lambda e: _int(e.get("at_ms")))
    lines = []
    for number, event in enumerate(speech):
        at = _int(event.get("at_ms"))
        following = _int(speech[number + 1].get("at_ms"), duration) if number + 1 < len(speech) else duration
        # a line is "being heard" for its slot, and never past the next line's start
        end = min(following, at + _int(event.get("slot_ms"), following - at)) if following > at else at
        block = event.get("block")
        lines.append(Line(at, max(end, at), _str(event.get("text")), _str(event.get("role")),
                          block if isinstance(block, int) and not isinstance(block, bool) else None))
    return Timeline(_str(data.get("routine")), _str(data.get("title")), _str(data.get("series")),
                    _int(data.get("week")), _int(data.get("day")), duration, chapters, blocks, tuple(lines))
