"""A script as people and programs read it: the `plan` text and the JSON timeline beside each MP3."""

from __future__ import annotations

from typing import Any

from .compile import Script


def clock(ms: int) -> str:
    """12345 ms -> '00:12.3' (tenths are truncated, so the clock never runs ahead)."""
    minutes, rest = divmod(ms, 60_000)
    return f"{minutes:02d}:{rest // 1000:02d}.{rest % 1000 // 100}"


def format_plan(script: Script) -> str:
    """The whole session as a readable timeline: one line per thing heard."""
    gear = ", ".join(script.equipment) or "none"
    lines = [
        f"{script.routine}: {script.title} ({script.series})",
        f"length {clock(script.duration_ms)}; {len(script.chapters) - 2} exercises; "
        f"{len(script.blocks)} timed blocks; equipment: {gear}",
        "",
    ]
    blocks = {block.number: block for block in script.blocks}
    chapters = list(script.chapters)
    for event in script.events:
        while chapters and chapters[0].start_ms <= event.at_ms:
            lines.append(f"          == {chapters.pop(0).title} ==")
        mark = f"{event.block:>3}" if event.block else "   "
        if event.kind == "sound" and event.role == "start":
            block = blocks[event.block]  # type: ignore[index]
            side = f", side {block.side}" if block.side else ""
            sets = f", set {block.set} of {block.sets}" if block.sets > 1 else ""
            heard = f"[start tone] {block.name}{side}{sets}: {block.seconds:g} s"
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
            {"number": b.number, "exercise": b.exercise, "name": b.name, "side": b.side, "set": b.set,
             "planned_s": b.seconds, "start_ms": b.start_ms, "end_ms": b.end_ms}
            for b in script.blocks
        ],
        "events": [
            {"at_ms": e.at_ms, "slot_ms": e.slot_ms, "kind": e.kind, "role": e.role, "text": e.text,
             "block": e.block}
            for e in script.events
        ],
    }
