"""Write a rendered track as an MP3 (CBR, mono, 44.1 kHz, ID3v2.3 tags and chapters) and its JSON timeline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import system
from .audio import CHANNELS, FRAME_RATE
from .compile import Chapter, Script


@dataclass(frozen=True)
class Tags:
    title: str
    album: str
    artist: str
    track: str  # "3" or "3/42"
    comment: str = ""
    genre: str = "Fitness"
    year: int | None = None
    cover: str | None = None  # path of a JPEG or PNG to attach as the front cover


def _escape(value: str) -> str:
    """Escape a value for ffmpeg's metadata file format."""
    for char in "\\=;#\n":
        value = value.replace(char, "\\" + char)
    return value


def ffmetadata(tags: Tags, chapters: tuple[Chapter, ...]) -> str:
    lines = [";FFMETADATA1"]
    for key, value in (("title", tags.title), ("album", tags.album), ("artist", tags.artist),
                       ("track", tags.track), ("genre", tags.genre), ("comment", tags.comment),
                       ("TYER", str(tags.year) if tags.year else "")):  # the v2.3 year frame, written as is
        if value:
            lines.append(f"{key}={_escape(value)}")
    for chapter in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={chapter.start_ms}", f"END={chapter.end_ms}",
                  f"title={_escape(chapter.title)}"]
    return "\n".join(lines) + "\n"


def encode_mp3(pcm: bytearray, target: Path, tags: Tags, chapters: tuple[Chapter, ...], bitrate: str,
               what: str) -> None:
    """Encode PCM to `target` atomically; ffmpeg writes the ID3v2.3 tag with CHAP and CTOC frames."""
    cover = ["-i", tags.cover, "-map", "2:v", "-c:v", "copy", "-disposition:v", "attached_pic",
             "-metadata:s:v", "title=Cover", "-metadata:s:v", "comment=Cover (front)"] if tags.cover else []
    # The PCM goes through a temp file, not a pipe: with a second input (the chapters), ffmpeg 5
    # reads a pipe so poorly that two encodes at once took 2.4 times as long (measured).
    with system.scratch_file(ffmetadata(tags, chapters)) as meta, system.scratch_file(pcm, beside=target) as raw, \
            system.atomic_path(target) as temp:
        system.run([
            system.ffmpeg(), "-v", "error", "-nostdin", "-y",
            "-f", "s16le", "-ar", str(FRAME_RATE), "-ac", str(CHANNELS), "-i", str(raw),
            "-i", str(meta), *cover[:2], "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1", *cover[2:],
            "-c:a", "libmp3lame", "-b:a", bitrate, "-id3v2_version", "3", "-write_xing", "1",
            "-f", "mp3", str(temp),
        ], f"encoding {what}.mp3")


def lrc(script: Script, tags: Tags) -> str:
    """Synchronized lyrics: every spoken line at its time, for players that show them."""
    def stamp(ms: int) -> str:
        minutes, rest = divmod(ms, 60_000)
        return f"[{minutes:02d}:{rest // 1000:02d}.{rest % 1000 // 10:02d}]"

    lines = [f"[ti:{tags.title}]", f"[al:{tags.album}]", f"[ar:{tags.artist}]",
             f"[length:{stamp(script.duration_ms)[1:6]}]"]
    lines += [f"{stamp(e.at_ms)}{e.text}" for e in script.events if e.kind == "speech"]
    return "\n".join(lines) + "\n"


def playlist(entries: list[tuple[str, int, str]]) -> str:
    """An extended M3U playlist of (title, duration ms, path relative to the playlist)."""
    lines = ["#EXTM3U"]
    for title, duration_ms, path in entries:
        lines += [f"#EXTINF:{round(duration_ms / 1000)},{title}", path]
    return "\n".join(lines) + "\n"


def write_text_if_changed(target: Path, text: str) -> None:
    try:
        if target.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    system.write_atomic(target, text)


def write_json(target: Path, data: dict) -> None:
    system.write_atomic(target, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None
