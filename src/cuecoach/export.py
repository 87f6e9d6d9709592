"""Write a rendered track as an MP3 (CBR, mono, 44.1 kHz, ID3v2.3 tags and chapters) and its JSON timeline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import system
from .audio import CHANNELS, FRAME_RATE
from .compile import Chapter


@dataclass(frozen=True)
class Tags:
    title: str
    album: str
    artist: str
    track: str  # "3" or "3/42"
    comment: str = ""
    genre: str = "Fitness"


def _escape(value: str) -> str:
    """Escape a value for ffmpeg's metadata file format."""
    for char in "\\=;#\n":
        value = value.replace(char, "\\" + char)
    return value


def ffmetadata(tags: Tags, chapters: tuple[Chapter, ...]) -> str:
    lines = [";FFMETADATA1"]
    for key, value in (("title", tags.title), ("album", tags.album), ("artist", tags.artist),
                       ("track", tags.track), ("genre", tags.genre), ("comment", tags.comment)):
        if value:
            lines.append(f"{key}={_escape(value)}")
    for chapter in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={chapter.start_ms}", f"END={chapter.end_ms}",
                  f"title={_escape(chapter.title)}"]
    return "\n".join(lines) + "\n"


def encode_mp3(pcm: bytearray, target: Path, tags: Tags, chapters: tuple[Chapter, ...], bitrate: str,
               what: str) -> None:
    """Encode PCM to `target` atomically; ffmpeg writes the ID3v2.3 tag with CHAP and CTOC frames."""
    with system.scratch_file(ffmetadata(tags, chapters)) as meta, system.atomic_path(target) as temp:
        system.run([
            system.ffmpeg(), "-v", "error", "-nostdin", "-y",
            "-f", "s16le", "-ar", str(FRAME_RATE), "-ac", str(CHANNELS), "-i", "pipe:0",
            "-i", str(meta), "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1",
            "-c:a", "libmp3lame", "-b:a", bitrate, "-id3v2_version", "3", "-write_xing", "1",
            "-f", "mp3", str(temp),
        ], f"encoding {what}", input=memoryview(pcm))


def write_json(target: Path, data: dict) -> None:
    system.write_atomic(target, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None
