"""The web player in a real headless Chromium at a phone's size, against `cuecoach serve`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import ROOT, Served, serving

PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(os.environ.get("CUECOACH_SCREENSHOTS", "")) if os.environ.get("CUECOACH_SCREENSHOTS") else None


@pytest.fixture
def phone(browser):
    """A fresh phone-sized page: its own storage, cache and service workers."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def current_time(page) -> float:
    return float(page.evaluate("document.getElementById('audio').currentTime"))


def wait_playing_past(page, seconds: float) -> None:
    page.wait_for_function(f"document.getElementById('audio').currentTime > {seconds}", timeout=15_000)


def open_day(page, served: Served, day: str) -> None:
    page.goto(served.url)
    page.locator(f'a.day[data-id="{day}"]').tap()
    page.wait_for_selector("button.chapter")
    assert page.url.endswith(f"#{day}")


def test_series_page_lists_every_day_by_week_and_points_at_the_first(phone, served_series: Served) -> None:
    phone.goto(served_series.url)
    phone.wait_for_selector("a.day")
    assert phone.locator("section.week h2").all_inner_texts() == ["WEEK 1", "WEEK 2"] or \
        [t.lower() for t in phone.locator("section.week h2").all_inner_texts()] == ["week 1", "week 2"]
    assert phone.locator("a.day").count() == 3
    assert phone.locator("a.day.next").get_attribute("data-id") == "week1-day1"
    assert "1 min" in phone.locator('a.day[data-id="week1-day2"] .meta').inner_text()
    assert "block" in phone.locator('a.day[data-id="week1-day2"] .meta').inner_text()
    assert phone.locator("#feed-url").inner_text() == served_series.feed
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing runs off the side
    shot(phone, "series")


def test_real_program_page_lists_six_weeks_and_42_days(phone, tmp_path: Path) -> None:
    with serving(tmp_path, "--routines", str(ROOT / "routines"), "--output", str(tmp_path / "out"),
                 "--cache", str(tmp_path / "cache")) as served:
        phone.goto(served.url)
        phone.wait_for_selector("a.day")
        assert phone.locator("a.day").count() == 42
        assert phone.locator("section.week").count() == 6
        assert phone.locator("h1").inner_text() == "Low Back Reset for Runners"
        meta = phone.locator('a.day[data-id="week3-day4"] .meta').inner_text()
        assert " min · " in meta and "mat" in meta
        phone.locator('a.day[data-id="week3-day4"]').tap()
        phone.wait_for_selector(".notice")
        assert "cuecoach build week3-day4" in phone.locator(".notice").inner_text()


def test_a_day_plays_jumps_to_a_tapped_chapter_and_shows_the_line_spoken(phone, served_series: Served,
                                                                         built_series: Path) -> None:
    open_day(phone, served_series, "week1-day2")
    data = json.loads((built_series / "output" / "site" / "days" / "week1-day2.json").read_text())
    phone.locator("#play").tap()
    wait_playing_past(phone, 1.0)
    chapter = data["chapters"][2]
    phone.locator("button.chapter").nth(2).tap()
    assert abs(current_time(phone) - chapter["start_ms"] / 1000) < 0.3
    wait_playing_past(phone, chapter["start_ms"] / 1000 + 1.5)  # still playing after the jump
    phone.evaluate("document.getElementById('audio').pause()")
    at_ms = current_time(phone) * 1000
    spoken = [line["text"] for line in data["lines"] if line["at_ms"] <= at_ms + 50][-1]
    assert phone.locator("#now-line").inner_text() == spoken
    assert phone.locator("#now-chapter").inner_text() == chapter["title"]
    assert phone.locator("button.chapter.current").inner_text().endswith(chapter["title"])
    left = float(phone.evaluate("parseFloat(document.querySelector('.playhead').style.left)"))
    assert abs(left - 100 * at_ms / data["duration_ms"]) < 1.0  # the playhead is where the audio is
    assert phone.locator(".timeline .block").count() == len(data["blocks"])
    # the lock screen names the exercise now (issue 18), and the day
    assert phone.evaluate("navigator.mediaSession.metadata.title") == chapter["title"]
    assert phone.evaluate("navigator.mediaSession.metadata.artist") == "Week 1, Day 2"
    assert phone.evaluate("navigator.mediaSession.metadata.artwork[0].src") == f"{served_series.url}cover.jpg"
    shot(phone, "day")


def test_next_and_previous_move_between_exercises(phone, served_series: Served, built_series: Path) -> None:
    open_day(phone, served_series, "week1-day1")
    starts = [c["start_ms"] / 1000 for c in
              json.loads((built_series / "output" / "site" / "days" / "week1-day1.json").read_text())["chapters"]]
    phone.wait_for_function("document.getElementById('audio').readyState >= 1")
    phone.locator("#next").tap()
    phone.locator("#next").tap()
    assert abs(current_time(phone) - starts[2]) < 0.3
    phone.locator("#previous").tap()
    assert abs(current_time(phone) - starts[1]) < 0.3


def test_position_is_remembered_and_a_finished_day_is_marked_played(phone, served_series: Served) -> None:
    open_day(phone, served_series, "week2-day1")
    phone.wait_for_function("document.getElementById('audio').readyState >= 1")
    phone.evaluate("document.getElementById('audio').currentTime = 20")
    phone.locator("#play").tap()
    wait_playing_past(phone, 21)
    phone.locator("#play").tap()  # pause: the position is written down
    phone.wait_for_function("document.getElementById('audio').paused")
    kept = current_time(phone)
    phone.reload()
    phone.wait_for_selector("#audio", state="attached")
    phone.wait_for_function(f"document.getElementById('audio').currentTime > {kept - 0.5}", timeout=10_000)
    assert abs(current_time(phone) - kept) < 0.5
    phone.evaluate("const a = document.getElementById('audio'); a.currentTime = a.duration - 1.5; a.play()")
    phone.wait_for_function("document.getElementById('audio').ended", timeout=15_000)
    phone.locator("a.back").tap()
    phone.wait_for_selector('a.day[data-id="week2-day1"].played')
    assert phone.locator("a.next-up .name").inner_text() == "Week 1, Day 1"


def test_a_day_opened_once_plays_offline(phone, own_series: Path) -> None:
    with serving(own_series) as served:
        open_day(phone, served, "week1-day1")
        phone.wait_for_selector("#offline-status.saved", timeout=20_000)
        phone.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)
        code, _ = served.stop()
        assert code == 0
    phone.reload()
    phone.wait_for_selector("button.chapter", timeout=15_000)
    assert phone.locator("h1").inner_text() == "Week 1, Day 1"
    phone.locator("#play").tap()
    wait_playing_past(phone, 1.0)
    phone.locator("button.chapter").nth(2).tap()  # seeking works offline too: ranges from the saved track
    start = current_time(phone)
    wait_playing_past(phone, start + 1.0)
    phone.locator("a.back").tap()
    phone.wait_for_selector("a.day")
    assert phone.locator("a.day").count() == 3
