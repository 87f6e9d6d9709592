"""Every output format written for itself: text with `]`, `-->`, `<script>`, line breaks and control characters
keeps the lyrics (LRC), playlists (M3U), transcripts (WebVTT, read by Chromium's own parser), JSON, the feed and
the page whole, and reads back as the text it was. Spoken lines reach the outputs as the compiler words them, so
they are tried on each writer directly; titles, exercise names and the author go through a real build."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from conftest import Served, copy_project, run_cli, serving
from lxml import etree

from cuecoach.builder.export import Tags, lrc, one_line, playlist
from cuecoach.config.load import load_routine
from cuecoach.config.project import Project
from cuecoach.script.compile import compile_routine
from cuecoach.script.timeline import read_timeline
from cuecoach.site.feed import Episode, Show, feed_xml
from cuecoach.site.pages import _json, webvtt

HOSTILE = [
    "Reach ] up [ar:Evil]",
    "[00:59.00]A line of its own",
    "Two\nlines\r\nand\rthree\u2028four",
    "\n\n99\n00:00:00.000 --> 00:00:09.000\nA cue of its own",
    "Bell\x07, NUL\x00, escape\x1b[31m, delete\x7f, C1\x85\x9b",
    "<script>window.pwned = 1</script> & <b>bold</b> &amp; ]]> --> <!-- -->",
    "A lone \ud800 surrogate, a tab\there",
]
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
LRC_TAG = re.compile(r"^\[(ti|al|ar|length):([^\[\]]*)\]$")
LRC_LINE = re.compile(r"^\[\d\d:\d\d\.\d\d\]([^\[\]]*)$")


def expected(text: str) -> str:
    """What a reader of any of these formats should get back: the text on one line, controls left out."""
    return re.sub("[\ud800-\udfff]", "\ufffd", re.sub(r"\r\n|[\n\r\t\u2028\u2029\x85]", " ", text)).translate(
        {code: None for code in [*range(0x20), *range(0x7F, 0xA0)]})


def test_one_line_is_what_readers_get_back() -> None:
    for text in HOSTILE:
        assert one_line(text) == expected(text) and not CONTROL.search(one_line(text))
    assert one_line("Stand tall, breathe in: 4 s.") == "Stand tall, breathe in: 4 s."  # plain text untouched


def test_lyrics_keep_one_line_per_spoken_line_and_their_tags_whole(project: Path) -> None:
    loaded = load_routine(Project.at(project), "short")
    script = compile_routine(loaded.routine, loaded.program, loaded.known)
    spoken = [event for event in script.events if event.kind == "speech"]
    hostile = {id(event): HOSTILE[n % len(HOSTILE)] for n, event in enumerate(spoken)}
    events = [dataclasses.replace(event, text=hostile[id(event)]) if id(event) in hostile else event
              for event in script.events]
    script = dataclasses.replace(script, events=tuple(events))
    tags = Tags(title=HOSTILE[3], album=HOSTILE[1], artist=HOSTILE[0], track="1/1", genre="Fitness")
    lines = lrc(script, tags).splitlines()
    assert len(lines) == 4 + len(spoken)
    heads = [LRC_TAG.match(line) for line in lines[:4]]
    assert all(heads), lines[:4]
    assert [m.group(2) for m in heads[:3]] == [expected(t).replace("[", "(").replace("]", ")")
                                               for t in (HOSTILE[3], HOSTILE[1], HOSTILE[0])]
    texts = [LRC_LINE.match(line) for line in lines[4:]]
    assert all(texts), [line for line, m in zip(lines[4:], texts, strict=True) if not m]
    assert [m.group(1) for m in texts] == [expected(hostile[id(e)]).replace("[", "(").replace("]", ")")
                                           for e in spoken]


def test_playlists_keep_two_lines_a_track() -> None:
    lines = playlist([(text, 61_000, f"day{n}.mp3") for n, text in enumerate(HOSTILE)]).splitlines()
    assert lines[0] == "#EXTM3U" and len(lines) == 1 + 2 * len(HOSTILE)
    assert lines[1::2] == [f"#EXTINF:61,{expected(text)}" for text in HOSTILE]
    assert lines[2::2] == [f"day{n}.mp3" for n in range(len(HOSTILE))]


def hostile_timeline() -> dict:
    return {"routine": "day", "title": HOSTILE[5], "duration_ms": 60_000, "events": [
        {"kind": "speech", "at_ms": 1000 + 5000 * n, "slot_ms": 3000, "text": text} for n, text in enumerate(HOSTILE)]}


def test_json_holds_any_text_and_reads_it_back() -> None:
    data = {"title": HOSTILE[5], "lines": HOSTILE}
    written = _json(data)
    assert written.isascii() and json.loads(written) == data
    written.encode("utf-8")  # a lone surrogate too: escaped, so the file can be written


def test_feed_is_xml_with_every_text_read_back() -> None:
    show = Show(title=HOSTILE[5], author=HOSTILE[0], description=HOSTILE[4], link="https://example.org/",
                feed_url="https://example.org/feed.xml", cover_url="https://example.org/cover.jpg", year=2026,
                updated=datetime(2026, 1, 1, tzinfo=UTC))
    episodes = [Episode(guid=f"cuecoach:{n}", title=text, season=1, number=n + 1, description=HOSTILE[-1 - n],
                        audio_url=f"https://example.org/audio/d{n}.mp3", audio_bytes=1000, duration_ms=60_000,
                        chapters_url="https://example.org/c.json", transcript_url="https://example.org/t.vtt",
                        link="https://example.org/#d") for n, text in enumerate(HOSTILE)]
    xml = feed_xml(show, episodes)
    etree.fromstring(xml)  # well-formed, or this raises
    feed = feedparser.parse(xml)
    assert not feed.bozo, feed.bozo_exception
    no_controls = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # line breaks stay
    assert (feed.feed.title, feed.feed.author) == (expected(HOSTILE[5]).strip(), expected(HOSTILE[0]).strip())
    assert [e.title for e in feed.entries] == [expected(text).strip() for text in HOSTILE]
    # a description is HTML to podcast apps: its text, once read as HTML, is the text written
    written = [no_controls.sub("", re.sub("\r\n?", "\n", HOSTILE[-1 - n])).strip() for n in range(len(HOSTILE))]
    assert [html.unescape(e.summary) for e in feed.entries] == written
    assert b"<script>" not in xml and b"<b>" not in xml


READ_CUES = """async () => {
    const video = document.createElement('video'), track = document.createElement('track');
    track.src = 'transcript.vtt'; track.default = true;
    video.appendChild(track); document.body.appendChild(video); track.track.mode = 'hidden';
    await new Promise((loaded, failed) => { track.onload = loaded; track.onerror = failed; });
    return Array.from(track.track.cues).map(c => [c.id, c.startTime, c.endTime, c.getCueAsHTML().textContent]);
}"""


def test_transcript_cues_read_back_in_chromium_as_the_lines_spoken(browser) -> None:
    timeline = read_timeline(hostile_timeline())
    vtt = webvtt(timeline)
    page = browser.new_page()
    try:
        page.route("http://cuecoach.test/", lambda route: route.fulfill(body="<!doctype html><p>transcript</p>",
                                                                        content_type="text/html"))
        page.route("http://cuecoach.test/transcript.vtt", lambda route: route.fulfill(body=vtt.encode(),
                                                                                      content_type="text/vtt"))
        page.goto("http://cuecoach.test/")
        cues = page.evaluate(READ_CUES)
        assert page.evaluate("window.pwned") is None
    finally:
        page.close()
    assert [cue[0] for cue in cues] == [str(n) for n in range(1, len(HOSTILE) + 1)]
    assert [cue[1] for cue in cues] == [line.at_ms / 1000 for line in timeline.lines]
    assert [cue[3] for cue in cues] == [expected(text) for text in HOSTILE]
    assert sum("-->" in line for line in vtt.splitlines()) == len(HOSTILE)  # the timings' own, and no other


# --- through a real build: titles, exercise names and the author are not spoken, and may hold anything ---

AUTHOR = "Coach ] [ar:Evil] <b>&amp;</b> \"q\""
TITLE = 'Day <img src=x onerror="window.pwned=1"> & ]]> -->'
EXERCISE = 'Side <script>window.pwned=2</script> Reach ]]> --> & "x" = ; # \\ \\n'  # ffmpeg's metadata escapes too


def yaml_quoted(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


@pytest.fixture(scope="module")
def hostile_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Served]]:
    folder = copy_project("project", tmp_path_factory.mktemp("hostile") / "project")
    routines = folder / "routines"
    program = (routines / "program.yaml").read_text()
    program = program.replace("artist: cuecoach tests", f"artist: cuecoach tests\nauthor: {yaml_quoted(AUTHOR)}")
    (routines / "program.yaml").write_text(program.replace('welcome: "{series}. {title}."', 'welcome: "{series}."'))
    library = (routines / "exercises.yaml").read_text()
    (routines / "exercises.yaml").write_text(library.replace("name: Side Reach", f"name: {yaml_quoted(EXERCISE)}"))
    day = (routines / "short.yaml").read_text()
    (routines / "short.yaml").write_text(day.replace("title: Test Day", f"title: {yaml_quoted(TITLE)}"))
    run_cli("build", "short", cwd=folder)
    with serving(folder) as served:
        yield folder, served


def test_a_hostile_day_keeps_its_lyrics_json_and_feed_whole(hostile_project: tuple[Path, Served]) -> None:
    folder, _ = hostile_project
    output = folder / "output"
    heads = [LRC_TAG.match(line) for line in (output / "short.lrc").read_text().splitlines()[:4]]
    assert [m.group(2) if m else None for m in heads[:3]] == [
        TITLE.replace("]", ")"), "Test Series", AUTHOR.replace("[", "(").replace("]", ")")]
    site = json.loads((output / "site" / "site.json").read_text())
    assert (site["author"], site["days"][0]["title"]) == (AUTHOR, TITLE) and EXERCISE in site["days"][0]["exercises"]
    chapters = json.loads((output / "site" / "chapters" / "short.json").read_text())["chapters"]
    assert EXERCISE in [chapter["title"] for chapter in chapters]
    feed = feedparser.parse((output / "site" / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    (entry,) = feed.entries
    assert (entry.title, feed.feed.author) == (TITLE, AUTHOR), (entry.title, feed.feed.author)
    assert EXERCISE in html.unescape(entry.summary) and "<script" not in entry.summary
    assert run_cli("verify", "short", cwd=folder).stdout.startswith("ok")  # the chapters read back too


def test_a_hostile_day_shows_its_text_on_the_page_and_runs_none_of_it(browser, hostile_project) -> None:
    _, served = hostile_project
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(served.url)
        page.wait_for_selector('a.day[data-id="short"]')
        page.locator('a.day[data-id="short"]').click()
        page.wait_for_selector("button.chapter")
        assert page.locator("h1").inner_text() == TITLE
        assert any(text.endswith(EXERCISE) for text in page.locator("button.chapter").all_inner_texts())
        assert page.evaluate("window.pwned") is None and page.locator('img[src="x"]').count() == 0
    finally:
        page.close()
    assert errors == []
