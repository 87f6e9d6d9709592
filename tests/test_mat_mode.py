"""The day page as a coach for the mat (issue 18), in real headless Chromium at phone sizes, against
`cuecoach serve` and the real built series: what it shows is checked against the phases worked out here
from the track's own timeline (its tones and spoken lines), at moments the audio is sought to."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import Served
from playwright.sync_api import Browser, BrowserContext, Page
from test_web_player import SCREENSHOTS

SIZES = [(320, 568), (360, 640), (390, 844), (844, 390)]
WORDS = {"talk": "Listen", "ready": "Get ready", "work": "Work", "switch": "Switch sides", "rest": "Rest",
         "done": "Done"}
DAY = "week1-day1"  # the test series' day with every phase
AGREE_S = 0.25  # the page and the audio never disagree by more than this
EDGE_S = 0.3  # sampled moments keep this far inside a phase, where its word is not in question
CONTROLS = ("#previous", "#play", "#next")
TAP_MIN_PX = 56  # a control hit with a stretched-out hand

SEEK = """async (t) => {
  const audio = document.getElementById('audio');
  await new Promise((done) => { audio.addEventListener('seeked', done, { once: true }); audio.currentTime = t; });
  await new Promise((done) => requestAnimationFrame(() => done()));
}"""
# what a runner sees: the words, the countdown, where things are, and whether the dock covers them
LOOK = """() => {
  const box = (selector) => {
    const node = document.querySelector(selector);
    if (!node || node.hidden) return null;
    const r = node.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    // a control takes a tap at its middle; nothing shown is under the dock
    const dock = document.getElementById('dock');
    const uncovered = !!hit && (dock.contains(node) ? node.contains(hit) : !dock.contains(hit));
    return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, uncovered };
  };
  const count = document.getElementById('countdown');
  return {
    t: document.getElementById('audio').currentTime,
    word: document.getElementById('phase').innerText, count: count.innerText,
    font_px: parseFloat(getComputedStyle(count).fontSize),
    colour: getComputedStyle(document.getElementById('mat')).backgroundColor,
    boxes: Object.fromEntries(['#phase', '#countdown', '#now-chapter', '#now-next', '#previous', '#play', '#next']
                              .map((s) => [s, box(s)])),
    scroll_width: document.documentElement.scrollWidth,
    dock_top: document.getElementById('dock').getBoundingClientRect().top,
  };
}"""


def expected_phases(timeline: dict) -> list[tuple[str, int, int, int]]:
    """(kind, start_ms, end_ms, until_ms) from the track's events: the lead-in, the tones, the switch line,
    and the chapters. `until_ms` is where the countdown reaches zero: the start tone during get ready, a
    rest or a switch; the stop tone during work; the first exercise in the introduction; the end when done."""
    events = timeline["events"]
    starts = {e["block"]: e["at_ms"] for e in events if e["kind"] == "sound" and e["role"] == "start"}
    stops = {e["block"]: e["at_ms"] for e in events if e["kind"] == "sound" and e["role"] == "stop"}

    def opened(ms: int) -> int:  # the start of the chapter (exercise) playing at ms
        return max(c["start_ms"] for c in timeline["chapters"] if c["start_ms"] <= ms)

    numbers = sorted(starts, key=starts.__getitem__)
    first = opened(starts[numbers[0]])
    phases = [("talk", 0, first, first)]
    for before, number in zip([None, *numbers], numbers, strict=False):
        start, chapter = starts[number], opened(starts[number])
        if before is None:
            phases.append(("ready", chapter, start, start))
        elif chapter <= stops[before]:  # the same exercise: its other side (the switch line), or its next set
            switched = any(e["role"] == "switch" and stops[before] < e["at_ms"] < start for e in events)
            phases.append(("switch" if switched else "rest", stops[before], start, start))
        else:  # the next exercise: a rest while it is named, then getting ready for it
            phases += [("rest", stops[before], chapter, start), ("ready", chapter, start, start)]
        phases.append(("work", start, stops[number], stops[number]))
    end = timeline["duration_ms"]
    return [*phases, ("done", stops[numbers[-1]], end, end)]


def moments(phase: tuple[str, int, int, int]) -> list[float]:
    """Early, middle and late in a phase, in seconds."""
    _, start, end, _ = phase
    return sorted({start / 1000 + EDGE_S, (start + end) / 2000, end / 1000 - EDGE_S})


def phase_at(phases: list[tuple[str, int, int, int]], t: float) -> tuple[str, int, int, int]:
    return next(p for p in phases if p[1] <= t * 1000 < p[2])


def seconds_shown(text: str) -> int:
    minutes, _, seconds = text.rpartition(":")
    return int(minutes or 0) * 60 + int(seconds)


def agrees(shown: str, until_ms: int, t: float) -> bool:
    """The countdown shown is the time left to `until_ms` (whole seconds, rounded up) at a moment within
    AGREE_S of the audio's position `t`."""
    latest = math.ceil((until_ms - (t - AGREE_S) * 1000) / 1000)
    earliest = math.ceil((until_ms - (t + AGREE_S) * 1000) / 1000)
    return max(0, earliest) <= seconds_shown(shown) <= max(0, latest)


@pytest.fixture(scope="module")
def timeline(built_series: Path) -> dict:
    return json.loads((built_series / "output" / f"{DAY}.json").read_text())


def new_page(browser: Browser, width: int, height: int, scheme: str = "light"
             ) -> tuple[BrowserContext, Page, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1,
                                  is_mobile=True, has_touch=True, color_scheme=scheme)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


def open_day(page: Page, served: Served, day: str = DAY) -> None:
    page.goto(f"{served.url}#{day}")
    page.wait_for_selector("button.chapter")
    page.wait_for_function("document.getElementById('audio').readyState >= 1")


def on_screen(box: dict | None, width: int, height: int) -> bool:
    return box is not None and box["left"] >= 0 and box["top"] >= 0 and box["right"] <= width and \
        box["bottom"] <= height


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_phase_is_readable_from_the_mat_and_the_controls_stay_put(
        browser: Browser, served_series: Served, timeline: dict, width: int, height: int) -> None:
    phases = expected_phases(timeline)
    assert {p[0] for p in phases} == set(WORDS)  # the day has every phase
    context, page, errors = new_page(browser, width, height)
    open_day(page, served_series)
    controls = None
    colours: dict[str, set[str]] = {}
    for phase in phases:
        for t in moments(phase):
            page.evaluate(SEEK, t)
            seen = page.evaluate(LOOK)
            kind, _, _, until = phase_at(phases, seen["t"])
            where = f"{kind} at {seen['t']:.2f} s on {width}x{height}"
            assert seen["word"].strip().lower() == WORDS[kind].lower(), where
            assert agrees(seen["count"], until, seen["t"]), (where, seen["count"], until)
            assert seen["font_px"] >= min(width, height) / 3, where
            for shown in ("#phase", "#countdown", "#now-chapter", "#now-next"):
                box = seen["boxes"][shown]
                if shown == "#now-next" and kind == "done":
                    continue  # the next day is offered instead
                assert on_screen(box, width, seen["dock_top"]) and box["uncovered"], (where, shown, box)
            placed = {name: seen["boxes"][name] for name in CONTROLS}
            for name, box in placed.items():
                assert on_screen(box, width, height) and box["uncovered"], (where, name, box)
                assert box["right"] - box["left"] >= TAP_MIN_PX and box["bottom"] - box["top"] >= TAP_MIN_PX
            controls = controls or placed
            assert placed == controls, where  # the same place at every moment
            assert seen["scroll_width"] <= width, where
            colours.setdefault(kind, set()).add(seen["colour"])
    assert all(len(found) == 1 for found in colours.values()), colours  # one colour a phase...
    assert len({next(iter(found)) for found in colours.values()}) == len(WORDS), colours  # ...each its own
    # one set of controls: the browser's own audio bar is not shown
    assert page.evaluate("getComputedStyle(document.getElementById('audio')).display") == "none"
    context.close()
    assert not errors, errors


WAKE_LOCKS = """window.wakeLocks = [];
const request = WakeLock.prototype.request;
WakeLock.prototype.request = function (type) {
  return request.call(this, type).then((sentinel) => { window.wakeLocks.push(sentinel); return sentinel; });
};"""  # the real API, watched: every lock the page takes, and whether it was released
HIDE = """(state) => {
  Object.defineProperty(document, 'visibilityState', { value: state, configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
}"""  # a phone's screen turned off, and on again; headless Chromium is always visible


def test_the_screen_stays_awake_while_playing_and_the_countdown_follows_the_audio(
        browser: Browser, served_series: Served, timeline: dict) -> None:
    phases = expected_phases(timeline)
    context, page, errors = new_page(browser, 390, 844)
    page.add_init_script(WAKE_LOCKS)
    open_day(page, served_series)
    held = "wakeLocks.length === {n} && !wakeLocks[{n} - 1].released"
    assert page.evaluate("wakeLocks.length") == 0  # nothing taken before play
    page.locator("#play").tap()
    page.wait_for_function(held.format(n=1))  # headless Chromium grants it: no stub needed
    for _ in range(5):  # while it plays, each frame drawn from the audio's position
        page.wait_for_timeout(200)
        seen = page.evaluate("new Promise((done) => requestAnimationFrame(() => done({t: "
                             "document.getElementById('audio').currentTime, "
                             "count: document.getElementById('countdown').innerText})))")
        kind, start, end, until = phase_at(phases, seen["t"])
        if start / 1000 + AGREE_S < seen["t"] < end / 1000 - AGREE_S:
            assert agrees(seen["count"], until, seen["t"]), (kind, seen)
    page.locator("#play").tap()  # pause
    page.wait_for_function("wakeLocks[0].released")
    page.locator("#play").tap()
    page.wait_for_function(held.format(n=2))
    page.evaluate(HIDE, "hidden")
    page.wait_for_function("wakeLocks[1].released")
    page.evaluate(HIDE, "visible")  # back, still playing: taken again
    page.wait_for_function(held.format(n=3))
    page.locator("#play").tap()
    page.wait_for_function("wakeLocks[2].released")
    context.close()
    assert not errors, errors


def test_the_lock_screen_names_the_exercise_and_side_now(
        browser: Browser, served_series: Served, timeline: dict) -> None:
    context, page, errors = new_page(browser, 390, 844)
    open_day(page, served_series)
    for block in timeline["blocks"]:
        page.evaluate(SEEK, (block["start_ms"] + block["end_ms"]) / 2000)  # mid-day, in the block's work
        title = page.evaluate("navigator.mediaSession.metadata.title")
        assert block["name"] in title, title
        assert (f"Side {block['side']}" in title) == bool(block["side"]), title
        assert page.evaluate("navigator.mediaSession.metadata.artist") == timeline["title"]
        assert page.evaluate("navigator.mediaSession.metadata.artwork[0].src") == f"{served_series.url}cover.jpg"
    context.close()
    assert not errors, errors


def test_a_tapped_exercise_brings_the_coach_into_view(browser: Browser, served_series: Served) -> None:
    context, page, errors = new_page(browser, 390, 844)
    open_day(page, served_series)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert page.evaluate("document.getElementById('mat').getBoundingClientRect().top") < 0  # scrolled away
    chosen = page.locator("button.chapter").nth(2)
    chosen.tap()
    seen = page.evaluate(LOOK)
    for shown in ("#phase", "#countdown", "#now-chapter"):
        assert on_screen(seen["boxes"][shown], 390, 844) and seen["boxes"][shown]["uncovered"], shown
    page.evaluate("document.getElementById('audio').pause()")
    assert page.locator("#now-chapter").inner_text() == chosen.locator(".name").inner_text()
    context.close()
    assert not errors, errors


def test_the_end_of_a_day_offers_the_next_day(browser: Browser, served_series: Served, timeline: dict) -> None:
    context, page, errors = new_page(browser, 390, 844)
    open_day(page, served_series)
    page.evaluate(SEEK, 1.0)
    assert page.locator("#next-day").is_hidden()  # not while the day goes on
    page.evaluate("const a = document.getElementById('audio'); a.currentTime = a.duration - 1; a.play()")
    page.wait_for_function("document.getElementById('audio').ended", timeout=15_000)
    offered = page.locator("#next-day")
    assert offered.is_visible() and "Week 1, Day 2" in offered.inner_text()
    offered.tap()
    page.wait_for_function("location.hash === '#week1-day2'")
    page.wait_for_selector("button.chapter")
    assert page.locator("h1").inner_text() == "Week 1, Day 2"
    open_day(page, served_series, "week2-day1")  # the last day: back to the series
    page.evaluate(SEEK, timeline["duration_ms"] / 1000)  # past its end is its end
    assert page.locator("#next-day").get_attribute("href") == "#"
    context.close()
    assert not errors, errors


def test_the_timeline_has_a_legend_of_its_colours(browser: Browser, served_series: Served, timeline: dict) -> None:
    context, page, errors = new_page(browser, 390, 844)
    open_day(page, served_series)
    colours = page.evaluate("[...document.querySelectorAll('.timeline .block')]"
                            ".map((b) => getComputedStyle(b).backgroundColor)")
    by_kind: dict[str, set[str]] = {}
    for block, colour in zip(timeline["blocks"], colours, strict=True):
        by_kind.setdefault(f"Side {block['side']}" if block["side"] else "Work", set()).add(colour)
    keys = page.evaluate("[...document.querySelectorAll('#legend .key')].map((k) => [k.innerText.trim(), "
                         "getComputedStyle(k.querySelector('.swatch')).backgroundColor])")
    assert sorted(label for label, _ in keys) == sorted(by_kind)  # one key for each kind on the timeline
    for label, swatch in keys:
        assert by_kind[label] == {swatch}, (label, by_kind, swatch)
    assert len({swatch for _, swatch in keys}) == len(keys)  # sides no longer share one colour
    context.close()
    assert not errors, errors


def serious(page: Page) -> list[str]:
    """What axe-core finds serious or critical on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}" for v in found
            if v["impact"] in ("serious", "critical")]


def test_light_and_dark_follow_the_system_and_pass_the_accessibility_audit(
        browser: Browser, served_series: Served, timeline: dict) -> None:
    one_of_each = {}
    for phase in expected_phases(timeline):
        one_of_each.setdefault(phase[0], (phase[1] + phase[2]) / 2000)  # the middle of each kind's first
    shots: dict[str, dict[str, bytes]] = {}
    for scheme in ("light", "dark"):
        context, page, errors = new_page(browser, 390, 844, scheme)
        page.goto(served_series.url)
        page.wait_for_selector("a.day")
        assert serious(page) == [], (scheme, "series page")
        open_day(page, served_series)
        for kind, t in one_of_each.items():
            page.evaluate(SEEK, t)
            shots.setdefault(kind, {})[scheme] = page.screenshot()
            if SCREENSHOTS:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                name = f"mat-{list(WORDS).index(kind) + 1}-{kind}-{scheme}.png"
                (SCREENSHOTS / name).write_bytes(shots[kind][scheme])
            assert serious(page) == [], (scheme, kind)
        context.close()
        assert not errors, errors
    for kind, taken in shots.items():
        assert taken["light"] != taken["dark"], kind


def test_controls_are_named_and_the_spoken_line_is_read_once(browser: Browser, served_series: Served) -> None:
    context, page, errors = new_page(browser, 390, 844)
    open_day(page, served_series)
    for name in ("Previous exercise", "Play", "Next exercise"):
        assert page.get_by_role("button", name=name, exact=True).count() == 1, name
    slider = page.get_by_role("slider", name="Position in the session")
    page.evaluate(SEEK, 2.0)
    slider.focus()
    slider.press("ArrowRight")  # the timeline seeks from the keyboard too
    page.wait_for_function("Math.abs(document.getElementById('audio').currentTime - 7) < 0.3")
    assert slider.get_attribute("aria-valuenow") == "7"
    page.evaluate(SEEK, 2.0)
    line = page.locator("#now-line").inner_text()
    assert line and line != "Press play"
    tree = page.locator("body").aria_snapshot()
    assert tree.count(line) == 1, tree  # one copy for a screen reader...
    live = page.evaluate("(() => { const n = document.getElementById('now-line').closest("
                         "'[aria-live], [role=status], [role=log], [role=alert]'); "
                         "return n ? n.outerHTML.slice(0, 80) : null; })()")
    assert live is None, live  # ...and none it would say over the voice of the track
    context.close()
    assert not errors, errors
