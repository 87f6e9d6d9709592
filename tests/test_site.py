"""The site for phones, checked over real HTTP: the podcast feed, ranges, refusals, publish, cover, tags."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from conftest import ROOT, STOP_TIMEOUT_S, Served, run_cli, serving
from mutagen.id3 import ID3
from PIL import Image

from cuecoach.site.serve import make_server

DAYS = ["week1-day1", "week1-day2", "week2-day1"]


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def raw_get(url: str, path: str) -> tuple[int, bytes]:
    """A request with the path exactly as written (urllib would tidy away the `..`)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.putrequest("GET", path, skip_accept_encoding=True)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def check_feed(feed_url: str, base: str, files: Path, fetch_base: str | None = None) -> feedparser.FeedParserDict:
    """The feed as a podcast app reads it: every built day in order, each enclosure the file's exact size."""
    status, headers, body = fetch(feed_url)
    assert status == 200 and headers["Content-Type"].startswith("application/rss+xml")
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.itunes_type == "serial"
    assert [e.title for e in feed.entries] == ["Week 1, Day 1", "Week 1, Day 2", "Week 2, Day 1"]
    assert [(int(e.itunes_season), int(e.itunes_episode)) for e in feed.entries] == [(1, 1), (1, 2), (2, 1)]
    for entry, day in zip(feed.entries, DAYS, strict=True):
        (enclosure,) = entry.enclosures
        assert enclosure.href == f"{base}audio/{day}.mp3" and enclosure.type == "audio/mpeg"
        assert int(enclosure.length) == (files / "audio" / f"{day}.mp3").stat().st_size
        _, _, audio = fetch(enclosure.href.replace(base, fetch_base or base))
        assert len(audio) == int(enclosure.length)
        assert entry.itunes_duration.count(":") == 2
        assert "Equipment:" in entry.summary and "Exercises: 1." in entry.summary
    assert feed.feed.image.href == f"{base}cover.jpg"
    return feed


def test_feed_lists_built_days_in_order_with_exact_enclosures(served_series: Served, built_series: Path) -> None:
    check_feed(served_series.feed, served_series.url, built_series / "output" / "site")


def test_feed_links_chapters_and_transcripts_that_match_the_timeline(served_series: Served,
                                                                      built_series: Path) -> None:
    _, _, body = fetch(served_series.feed)
    text = body.decode()
    assert 'xmlns:podcast="https://podcastindex.org/namespace/1.0"' in text
    for day in DAYS:
        assert f'<podcast:chapters url="{served_series.url}chapters/{day}.json" type="application/json+chapters"/>' \
            in text
        assert f'<podcast:transcript url="{served_series.url}transcripts/{day}.vtt" type="text/vtt"' in text
        timeline = json.loads((built_series / "output" / f"{day}.json").read_text())
        status, headers, chapters = fetch(f"{served_series.url}chapters/{day}.json")
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert [(c["title"], c["startTime"]) for c in json.loads(chapters)["chapters"]] == \
            [(c["title"], c["start_ms"] / 1000) for c in timeline["chapters"]]
        status, headers, vtt = fetch(f"{served_series.url}transcripts/{day}.vtt")
        assert headers["Content-Type"].startswith("text/vtt")
        cues = vtt.decode().split("\n\n")[1:]
        spoken = [e for e in timeline["events"] if e["kind"] == "speech"]
        assert vtt.startswith(b"WEBVTT\n") and len([c for c in cues if "-->" in c]) == len(spoken)
        first = cues[0].splitlines()
        start_ms = spoken[0]["at_ms"]
        assert first[1].startswith(f"00:00:{start_ms // 1000:02d}.{start_ms % 1000:03d} --> ")
        assert first[2] == spoken[0]["text"]


def test_range_request_returns_exactly_those_bytes(served_series: Served, built_series: Path) -> None:
    track = (built_series / "output" / "week1-day1.mp3").read_bytes()
    url = f"{served_series.url}audio/week1-day1.mp3"
    status, headers, body = fetch(url, {"Range": "bytes=1000-1999"})
    assert status == 206 and body == track[1000:2000]
    assert headers["Content-Range"] == f"bytes 1000-1999/{len(track)}" and headers["Content-Length"] == "1000"
    assert headers["Content-Type"] == "audio/mpeg" and headers["Accept-Ranges"] == "bytes"
    status, _, body = fetch(url, {"Range": "bytes=-500"})
    assert status == 206 and body == track[-500:]
    status, _, body = fetch(url, {"Range": f"bytes={len(track) - 10}-"})
    assert status == 206 and body == track[-10:]
    status, headers, _ = fetch(url, {"Range": f"bytes={len(track)}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(track)}"
    status, _, body = fetch(url)
    assert status == 200 and body == track


@pytest.mark.parametrize("path", [
    "/../routines/program.yaml", "/%2e%2e/routines/program.yaml", "/%2E%2E/%2e%2e/routines/program.yaml",
    "/audio/..%2f..%2f..%2froutines%2fprogram.yaml", "/..%5c..%5croutines%5cprogram.yaml",
    "/audio/%2e%2e/%2e%2e/%2e%2e/routines/program.yaml", "/%252e%252e/routines/program.yaml",
    "/../week1-day1.json", "/audio/", "/.cache/", "/audio/%00.mp3", "//etc/passwd", "/days/../../week1-day1.lrc",
])
def test_nothing_outside_the_site_is_served(served_series: Served, path: str) -> None:
    status, body = raw_get(served_series.url, path)
    assert status == 404, (path, status)
    assert b"title:" not in body and b"build_key" not in body and b"<a href" not in body


def test_serves_many_listeners_at_once(served_series: Served, built_series: Path) -> None:
    url = f"{served_series.url}audio/week1-day2.mp3"
    size = (built_series / "output" / "week1-day2.mp3").stat().st_size
    stalled = http.client.HTTPConnection("127.0.0.1", urlsplit(url).port, timeout=10)
    stalled.request("GET", "/audio/week1-day2.mp3")  # a client that asks and never reads
    with ThreadPoolExecutor(12) as pool:
        sizes = list(pool.map(lambda _: len(fetch(url)[2]), range(24)))
    stalled.close()
    assert sizes == [size] * 24


def test_ctrl_c_stops_the_server_cleanly(own_series: Path) -> None:
    with serving(own_series) as served:
        assert fetch(served.url)[0] == 200
        assert served.process.stdout is not None
        qr_row = served.process.stdout.readline().strip()
        assert qr_row and set(qr_row) <= set("█▀▄ "), qr_row  # the URL as a QR code, in the terminal
        code, stderr = served.stop()
    assert code == 0 and "stopped" in stderr and "Traceback" not in stderr, stderr
    with serving(own_series) as served:
        served.process.terminate()  # SIGTERM, as a service manager stops it
        assert served.process.wait(timeout=STOP_TIMEOUT_S) == 0


def test_publish_writes_a_site_that_validates_the_same_way(built_series: Path, tmp_path: Path) -> None:
    target = tmp_path / "public"
    done = run_cli("publish", "--base-url", "https://example.org/back", "--to", str(target), cwd=built_series)
    assert done.stdout.strip() == "Feed: https://example.org/back/feed.xml"
    for name in ("index.html", "player.js", "player.css", "sw.js", "site.json", "cover.jpg", "feed.xml"):
        assert (target / name).is_file(), name
    server = make_server(target, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        local = f"http://127.0.0.1:{server.server_address[1]}/"
        check_feed(f"{local}feed.xml", "https://example.org/back/", target, fetch_base=local)
        status, headers, body = fetch(f"{local}audio/week2-day1.mp3", {"Range": "bytes=1000-1999"})
        assert status == 206 and body == (built_series / "output" / "week2-day1.mp3").read_bytes()[1000:2000]
    finally:
        server.shutdown()
        server.server_close()


def test_publish_refuses_an_address_that_is_not_a_url(built_series: Path, tmp_path: Path) -> None:
    done = run_cli("publish", "--base-url", "example.org/back", "--to", str(tmp_path / "x"), cwd=built_series,
                   check=False)
    assert done.returncode == 2 and "is not a web address" in done.stderr
    assert not (tmp_path / "x").exists()


def test_guids_stay_the_same_when_a_day_is_rebuilt(built_series: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(built_series, project, ignore=shutil.ignore_patterns("site", ".cache"))
    run_cli("publish", "--base-url", "https://example.org/", cwd=project)
    before = feedparser.parse((project / "output" / "site" / "feed.xml").read_bytes())
    with open(project / "output" / "week1-day2.mp3", "ab") as track:  # a rebuild: new bytes, new size
        track.write(bytes(1000))
    run_cli("publish", "--base-url", "https://example.org/", cwd=project)
    after = feedparser.parse((project / "output" / "site" / "feed.xml").read_bytes())
    assert [e.id for e in after.entries] == [e.id for e in before.entries]
    assert len({e.id for e in after.entries}) == 3
    assert int(after.entries[1].enclosures[0].length) == int(before.entries[1].enclosures[0].length) + 1000


def test_default_cover_is_a_large_square_in_the_mp3_and_the_site(built_series: Path, served_series: Served) -> None:
    status, headers, cover = fetch(f"{served_series.url}cover.jpg")
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    site_cover = built_series / "output" / "site" / "cover.jpg"
    with Image.open(site_cover) as image:
        assert image.size[0] == image.size[1] >= 1400
    tag = ID3(built_series / "output" / "week1-day1.mp3")
    assert tag.getall("APIC")[0].data == cover
    assert str(tag["TPE1"]) == "Test Coach"  # the series' author, not the tool's name


def test_cover_in_program_yaml_overrides_and_artist_stands_in_for_author(project: Path) -> None:
    program = project / "routines" / "program.yaml"
    Image.new("RGB", (1400, 1400), (200, 30, 30)).save(project / "routines" / "mine.png")
    program.write_text(program.read_text().replace("title: Test Series", "title: Test Series\ncover: mine.png"))
    run_cli("build", "short", cwd=project)
    tag = ID3(project / "output" / "short.mp3")
    assert tag.getall("APIC")[0].data == (project / "routines" / "mine.png").read_bytes()
    assert str(tag["TPE1"]) == "cuecoach tests"  # no author: the artist
    done = run_cli("publish", "--base-url", "http://example.org/", cwd=project)
    assert "warning" not in done.stderr
    with Image.open(project / "output" / "site" / "cover.jpg") as image:  # the page and feed name one file
        assert image.format == "JPEG" and image.size == (1400, 1400)
        assert image.getpixel((700, 700))[0] > 180
    Image.new("RGB", (800, 600)).save(project / "routines" / "mine.png")
    small = run_cli("publish", "--base-url", "http://example.org/", cwd=project)
    assert re.search(r"program.yaml:\d+:\d+: warning: the cover is 800 x 600; podcast apps want a square", small.stderr)


def test_real_program_is_listed_in_full_before_anything_is_built(tmp_path: Path) -> None:
    run_cli("publish", "--base-url", "https://example.org/", "--routines", str(ROOT / "routines"), "--output",
            str(tmp_path / "out"), "--cache", str(tmp_path / "cache"), cwd=tmp_path)
    site = json.loads((tmp_path / "out" / "site" / "site.json").read_text())
    assert len(site["days"]) == 42 and sorted({d["week"] for d in site["days"]}) == [1, 2, 3, 4, 5, 6]
    assert all(d["audio"] is None and d["duration_ms"] > 60_000 and d["exercises"] for d in site["days"])
    assert site["author"] != "cuecoach"
    feed = feedparser.parse((tmp_path / "out" / "site" / "feed.xml").read_bytes())
    assert not feed.bozo and feed.entries == []
    manifest = json.loads((tmp_path / "out" / "site" / "manifest.webmanifest").read_text())
    assert manifest["name"] == site["title"]  # a long title: its first words under the home-screen icon
    assert site["title"].startswith(manifest["short_name"] + " ") and len(manifest["short_name"]) <= 15


def test_publish_will_not_write_into_a_folder_of_other_files(built_series: Path, tmp_path: Path) -> None:
    (tmp_path / "mine" / "audio").mkdir(parents=True)
    (tmp_path / "mine" / "audio" / "song.mp3").write_bytes(b"mine")
    done = run_cli("publish", "--base-url", "https://example.org/", "--to", str(tmp_path / "mine"),
                   cwd=built_series, check=False)
    assert done.returncode == 2 and "not a site cuecoach made" in done.stderr
    assert (tmp_path / "mine" / "audio" / "song.mp3").read_bytes() == b"mine"
    assert sorted(p.name for p in (tmp_path / "mine").rglob("*")) == ["audio", "song.mp3"]


def test_the_installed_web_app_is_named_by_the_series_title(served_series: Served) -> None:
    status, _, body = fetch(served_series.url + "manifest.webmanifest")
    manifest = json.loads(body)
    assert status == 200 and manifest["name"] == manifest["short_name"] == "Test Series"
    assert manifest["start_url"] == "./" and manifest["icons"][0]["src"] == "cover.jpg"


def test_page_and_data_have_the_types_a_browser_expects(served_series: Served) -> None:
    for path, kind in [("", "text/html"), ("index.html", "text/html"), ("player.js", "text/javascript"),
                       ("coach.js", "text/javascript"), ("player.css", "text/css"), ("sw.js", "text/javascript"),
                       ("site.json", "application/json"), ("manifest.webmanifest", "application/manifest+json"),
                       ("days/week1-day1.json", "application/json")]:
        status, headers, _ = fetch(served_series.url + path)
        assert status == 200 and headers["Content-Type"].split(";")[0] == kind, (path, headers["Content-Type"])
    assert raw_get(served_series.url, "/.cuecoach-site")[0] == 404


def test_a_day_built_while_serving_reaches_the_feed(built_series: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(built_series, project, ignore=shutil.ignore_patterns("site"))
    with serving(project) as served:
        assert len(feedparser.parse(fetch(served.feed)[2]).entries) == 3
        (project / "output" / "week2-day1.mp3").unlink()  # as if it were being rebuilt
        deadline = time.monotonic() + 10
        while len(feedparser.parse(fetch(served.feed)[2]).entries) != 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert [e.title for e in feedparser.parse(fetch(served.feed)[2]).entries] == ["Week 1, Day 1", "Week 1, Day 2"]
        assert fetch(served.url + "audio/week2-day1.mp3")[0] == 404
