// cuecoach's web player: the series page and one page per day (#week1-day1), from site.json; a day's
// page is a coach for the mat, drawn from what coach.js reads in the day's timeline.
// Under `cuecoach serve --watch` (site.json says "watch": true) the page polls site.json and redraws
// when a track's address (its version) changes: a day being played resumes where it was, playing.
// Plain JavaScript, no library: it runs as shipped, offline, on any phone browser.
"use strict";
(() => {
  const app = document.getElementById("app");
  const SAVE_EVERY_MS = 2000;      // how often the playback position is written down
  const RESUME_MIN_S = 5;          // a position this close to either end is not worth resuming
  const PLAYED_SHARE = 0.95;       // a day heard this far is marked played
  const RESTART_CHAPTER_S = 3;     // "previous" within this much of a chapter's start goes to the one before
  const SEEK_KEY_S = 5;            // an arrow key on the timeline moves this far
  const DAYS_CACHE = "cuecoach-days-v1";
  const WATCH_POLL_MS = 1000;      // under --watch: how often site.json is asked for (a rebuild takes about a second)
  const storeKey = "cuecoach:" + new URL(".", location.href).pathname + ":";
  let site = null;
  let leave = () => {};            // undoes what the current page set up
  let resumePlaying = false;       // the day was playing when its rebuilt track replaced it: play the new one

  // --- small helpers ------------------------------------------------------------------------
  function recall(key, fallback) {
    try {
      const value = localStorage.getItem(storeKey + key);
      return value === null ? fallback : JSON.parse(value);
    } catch (error) { return fallback; }
  }
  function remember(key, value) {
    try { localStorage.setItem(storeKey + key, JSON.stringify(value)); } catch (error) { /* private mode */ }
  }
  const playedDays = () => new Set(recall("played", []));
  function markPlayed(id) {
    const played = playedDays();
    if (!played.has(id)) { played.add(id); remember("played", [...played]); }
  }
  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }
  const minutes = (ms) => `${Math.max(1, Math.round(ms / 60000))} min`;
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }
  // icons as SVG paths: a phone without a symbol font still draws them
  const ICONS = {
    play: "M8 5v14l11-7z",
    pause: "M6 5h4v14H6zM14 5h4v14h-4z",
    previous: "M6 6h2v12H6zM9.5 12 18 18V6z",
    next: "M16 6h2v12h-2zM6 18l8.5-6L6 6z",
  };
  function icon(name) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }
  function render(...nodes) {
    app.replaceChildren(...nodes.flat().filter((node) => node !== null && node !== undefined && node !== false));
  }
  async function getJSON(url) {
    const response = await fetch(url, { cache: "no-cache" });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  }
  const dayName = (day) => day.title || day.id;
  const gear = (day) => (day.equipment.length ? day.equipment.join(", ") : "no equipment");
  function nextDay() {
    const played = playedDays();
    return site.days.find((d) => d.audio && !played.has(d.id)) || null;
  }

  // --- the series page ----------------------------------------------------------------------
  function seriesPage() {
    document.title = site.title;
    const played = playedDays();
    const next = nextDay();
    const weeks = new Map();
    for (const day of site.days) {
      if (!weeks.has(day.week)) weeks.set(day.week, []);
      weeks.get(day.week).push(day);
    }
    const feedUrl = new URL(site.feed, location.href).href;
    const heardCount = site.days.filter((d) => played.has(d.id)).length;
    render(
      el("header", { class: "series" },
        el("img", { class: "cover", src: site.cover, alt: "", width: "88", height: "88" }),
        el("div", {},
          el("h1", {}, site.title),
          el("p", { class: "author" }, site.author),
          el("p", { class: "progress" }, `${heardCount} of ${site.days.length} days played`))),
      next ? el("a", { class: "next-up", href: `#${next.id}` },
        el("span", { class: "label" }, heardCount ? "Next up" : "Start here"),
        el("span", { class: "name" }, dayName(next)),
        el("span", { class: "meta" }, `${minutes(next.duration_ms)} · ${gear(next)}`)) : null,
      [...weeks].map(([week, days]) => el("section", { class: "week" },
        el("h2", {}, week ? `Week ${week}` : "Other days"),
        el("ol", { class: "days" }, days.map((day) => el("li", {},
          el("a", {
            class: ["day", played.has(day.id) ? "played" : "", next && next.id === day.id ? "next" : "",
                    day.audio ? "" : "unbuilt"].join(" ").trim(),
            href: `#${day.id}`, "data-id": day.id,
          },
          el("span", { class: "title" }, week && day.day ? `Day ${day.day}` : dayName(day)),
          el("span", { class: "meta" }, `${minutes(day.duration_ms)} · ${gear(day)}`),
          el("span", { class: "mark", "aria-label": played.has(day.id) ? "played" : null },
            played.has(day.id) ? "✓" : next && next.id === day.id ? "Next" : day.audio ? "" : "not built"))))))),
      el("footer", {},
        el("h2", {}, "Subscribe in a podcast app"),
        el("p", {}, "Add this feed by its address (in Apple Podcasts: Library, then Follow a Show by URL):"),
        el("p", { class: "feed" }, el("a", { href: site.feed, id: "feed-url" }, feedUrl)),
        el("button", { class: "copy", type: "button", onclick: (event) => {
          navigator.clipboard.writeText(feedUrl).then(() => { event.target.textContent = "Copied"; }, () => {});
        } }, "Copy the feed's address")));
    window.scrollTo(0, recall("scroll", 0));
    const onScroll = () => remember("scroll", window.scrollY);
    window.addEventListener("scroll", onScroll, { passive: true });
    return () => window.removeEventListener("scroll", onScroll);
  }

  // --- a day's page -------------------------------------------------------------------------
  // The first screen is the coach, readable from the mat: the phase by colour and word, its countdown,
  // the exercise and side, what comes next. The controls are docked at the bottom, always in one place.
  function dayPage(day) {
    document.title = `${dayName(day)} · ${site.title}`;
    const header = el("header", { class: "day-head" },
      el("a", { class: "back", href: "#" }, "‹ All days"),
      el("h1", {}, dayName(day)));
    const about = [el("p", { class: "meta" }, `${minutes(day.duration_ms)} · ${gear(day)}`),
                   day.focus ? el("p", { class: "focus" }, day.focus) : null];
    if (!day.audio) {
      render(header, about, el("p", { class: "notice" },
        `This day is not built yet. Run “cuecoach build ${day.id}”, then reload this page.`));
      return () => {};
    }
    render(header, el("p", { class: "loading" }, "Loading…"));
    let alive = true;
    let undo = () => {};
    getJSON(`days/${day.id}.json`).then((data) => { if (alive) undo = playerFor(day, data, header, about); })
      .catch((error) => {
        if (alive) render(header, el("p", { class: "notice" }, `Could not load this day (${error.message}).`));
      });
    return () => { alive = false; undo(); };
  }

  // the coach's panel: update(phase, ms) draws a phase and returns what is being done now
  function matView(day, data) {
    const coach = cuecoachCoach;
    const index = site.days.findIndex((d) => d.id === day.id);
    const following = site.days[index + 1] || null;
    const word = el("p", { class: "phase", id: "phase" }, "");
    const count = el("span", { id: "countdown" }, "");
    // the number is shown, not announced: the voice in the track counts down already (a timer is never live)
    const timer = el("p", { class: "count", role: "timer" }, count, el("span", { class: "sr-only" }, " seconds left"));
    const name = el("p", { class: "now-chapter", id: "now-chapter" }, "");
    const detail = el("p", { class: "now-side", id: "now-side" }, "");
    const next = el("p", { class: "now-next", id: "now-next" }, "");
    const nextDayLink = el("a", { class: "next-day", id: "next-day", href: following ? `#${following.id}` : "#", hidden: true },
      following ? `Next day: ${dayName(following)} ›` : "The last day: back to all days ›");
    // the line being spoken, as a caption; no aria-live: a screen reader would say it over the voice
    const line = el("p", { class: "now-line", id: "now-line" }, "Press play");
    const section = el("section", { class: "mat", id: "mat", "aria-label": "Now" },
      el("div", { class: "clock" }, word, timer),
      el("div", { class: "what" }, name, detail, next, nextDayLink, line));
    function update(phase, ms) {
      section.dataset.phase = phase.kind;
      word.textContent = coach.WORDS[phase.kind];
      const left = coach.secondsLeft(phase, ms);
      count.textContent = left < 100 ? String(left) : clock(left);
      timer.classList.toggle("long", left >= 100);
      const now = coach.now(phase, { ...data, title: dayName(day) });
      name.textContent = now.name;
      detail.textContent = now.detail;
      next.textContent = coach.next(phase);
      next.hidden = phase.kind === "done";
      nextDayLink.hidden = phase.kind !== "done";
      return now;
    }
    return { section, line, update };
  }

  // the timeline (a slider: tap or arrow keys to seek), its legend, and the times
  function timelineView(data, seek) {
    const kindOf = (b) => (!b.side ? "whole" : String(b.side) === "1" ? "side-1" : "side-2");
    const LABELS = { whole: "Work", "side-1": "Side 1", "side-2": "Side 2" };
    const playhead = el("div", { class: "playhead" });
    const bar = el("div", { class: "timeline", id: "timeline", role: "slider", "aria-label": "Position in the session",
                            "aria-valuemin": "0", "aria-valuemax": String(Math.round(data.duration_ms / 1000)),
                            "aria-valuenow": "0", "aria-valuetext": "0:00", tabindex: "0" },
      data.blocks.map((b) => el("div", {
        class: `block ${kindOf(b)}`,
        style: `left:${(100 * b.start_ms) / data.duration_ms}%;width:${(100 * (b.end_ms - b.start_ms)) / data.duration_ms}%`,
      })),
      data.chapters.slice(1).map((c) => el("div", { class: "tick", style: `left:${(100 * c.start_ms) / data.duration_ms}%` })),
      playhead);
    const kinds = Object.keys(LABELS).filter((k) => data.blocks.some((b) => kindOf(b) === k));
    const legend = el("p", { class: "legend", id: "legend" },
      el("span", { class: "sr-only" }, "Timeline colours: "),
      kinds.map((k) => el("span", { class: "key", "data-kind": k }, el("span", { class: `swatch ${k}` }), LABELS[k])));
    const elapsed = el("span", { id: "elapsed" }, "0:00");
    const remaining = el("span", { id: "remaining" }, `-${clock(data.duration_ms / 1000)}`);
    bar.addEventListener("click", (event) => {
      const box = bar.getBoundingClientRect();
      seek(((event.clientX - box.left) / box.width) * (data.duration_ms / 1000), false);
    });
    bar.addEventListener("keydown", (event) => {
      const step = { ArrowLeft: -SEEK_KEY_S, ArrowDown: -SEEK_KEY_S, ArrowRight: SEEK_KEY_S, ArrowUp: SEEK_KEY_S }[event.key];
      if (step !== undefined) seek(shownAt + step, false);
      else if (event.key === "Home") seek(0, false);
      else if (event.key === "End") seek(data.duration_ms / 1000, false);
      else return;
      event.preventDefault();
    });
    let shownAt = 0;
    function set(t, duration) {
      shownAt = t;
      playhead.style.left = `${Math.min(100, (100 * t) / duration)}%`;
      bar.setAttribute("aria-valuenow", String(Math.round(t)));
      bar.setAttribute("aria-valuetext", `${clock(t)} of ${clock(duration)}`);
      elapsed.textContent = clock(t);
      remaining.textContent = `-${clock(duration - t)}`;
    }
    return { node: el("div", { class: "seek" }, bar, el("div", { class: "times" }, elapsed, legend, remaining)), set };
  }

  // the screen stays on while the day plays: released on pause and while hidden, taken again on return
  function keepAwake(audio) {
    let lock = null;
    let asking = false;  // one request at a time
    async function take() {
      if (!("wakeLock" in navigator) || lock || asking || audio.paused || document.visibilityState !== "visible") return;
      asking = true;
      try {
        const sentinel = await navigator.wakeLock.request("screen");
        if (audio.paused || document.visibilityState !== "visible") {  // paused or hidden while it was asked for
          sentinel.release().catch(() => {});
          return;
        }
        lock = sentinel;
        sentinel.addEventListener("release", () => { if (lock === sentinel) lock = null; });
      } catch (error) {
        /* refused (battery saver, no permission): the day plays on */
      } finally {
        asking = false;
      }
    }
    function drop() {
      if (lock) { lock.release().catch(() => {}); lock = null; }
    }
    const onVisibility = () => (document.visibilityState === "visible" ? take() : drop());
    audio.addEventListener("play", take);
    audio.addEventListener("pause", drop);
    audio.addEventListener("ended", drop);
    document.addEventListener("visibilitychange", onVisibility);
    return () => { document.removeEventListener("visibilitychange", onVisibility); drop(); };
  }

  // the lock screen: the exercise and side now, the day, the cover; previous/next move between exercises
  function lockScreen(day, audio, actions) {
    if (!("mediaSession" in navigator)) return { name: () => {}, position: () => {} };
    const cover = new URL(site.cover, location.href).href;
    const artwork = [{ src: cover, sizes: "1400x1400", type: site.cover.endsWith(".png") ? "image/png" : "image/jpeg" }];
    let named = null;
    function name(title) {
      if (title === named) return;
      named = title;
      navigator.mediaSession.metadata = new MediaMetadata({ title, artist: dayName(day), album: site.title, artwork });
    }
    function position() {
      if (!navigator.mediaSession.setPositionState || !audio.duration) return;
      try {
        navigator.mediaSession.setPositionState({ duration: audio.duration, playbackRate: audio.playbackRate,
                                                  position: Math.min(audio.currentTime, audio.duration) });
      } catch (error) { /* an old browser */ }
    }
    for (const [action, handler] of Object.entries(actions)) {
      try { navigator.mediaSession.setActionHandler(action, handler); } catch (error) { /* not offered */ }
    }
    return { name, position };
  }

  function playerFor(day, data, header, about) {
    const durationS = data.duration_ms / 1000;
    const phases = cuecoachCoach.phases(data);
    // crossorigin, even on the same origin: Chromium plays a range that a service worker cut from
    // its cache only for a CORS-mode request. No controls: the page's own are the only ones.
    const audio = el("audio", { id: "audio", preload: "metadata", crossorigin: "anonymous", src: day.audio });
    const length = () => audio.duration || durationS;
    const chapterOf = (t) => {
      let found = 0;
      data.chapters.forEach((c, i) => { if (c.start_ms / 1000 <= t + 0.05) found = i; });
      return found;
    };
    const mat = matView(day, data);
    const coach = el("div", { class: "coach", id: "coach" }, header, mat.section);
    const track = timelineView(data, jump);
    const playButton = el("button", { class: "play", type: "button", id: "play", "aria-label": "Play" }, icon("play"));
    const previous = el("button", { class: "skip", type: "button", id: "previous", "aria-label": "Previous exercise" },
                        icon("previous"));
    const next = el("button", { class: "skip", type: "button", id: "next", "aria-label": "Next exercise" }, icon("next"));
    const offline = el("p", { class: "offline", id: "offline-status" }, "");
    const chapterButtons = data.chapters.map((c, i) => el("li", {},
      el("button", { class: "chapter", type: "button", "data-index": String(i), "data-start": String(c.start_ms / 1000),
                     onclick: () => { jump(c.start_ms / 1000, true); coach.scrollIntoView({ block: "start" }); } },
        el("span", { class: "at" }, clock(c.start_ms / 1000)),
        el("span", { class: "name" }, c.title))));
    render(coach,
      el("section", { class: "about", "aria-label": "This day" },
        about, el("h2", {}, "Exercises"), el("ol", { class: "chapters" }, chapterButtons), offline),
      el("div", { class: "dock", id: "dock" },
        el("div", { class: "dock-inner" }, track.node,
          el("div", { class: "transport", role: "group", "aria-label": "Playback" }, previous, playButton, next))),
      audio);

    function jump(seconds, play) {
      audio.currentTime = Math.min(Math.max(0, seconds), Math.max(0, length() - 0.1));
      if (play && audio.paused) audio.play().catch(() => {});
      show();
    }
    function step(direction) {
      const t = audio.currentTime;
      let index = chapterOf(t);
      if (direction < 0 && t - data.chapters[index].start_ms / 1000 < RESTART_CHAPTER_S) index -= 1;
      if (direction > 0) index += 1;
      if (index >= 0 && index < data.chapters.length) jump(data.chapters[index].start_ms / 1000, false);
    }
    previous.addEventListener("click", () => step(-1));
    next.addEventListener("click", () => step(1));
    playButton.addEventListener("click", () => (audio.paused ? audio.play().catch(() => {}) : audio.pause()));
    const screen = lockScreen(day, audio, {
      play: () => audio.play(), pause: () => audio.pause(),
      previoustrack: () => step(-1), nexttrack: () => step(1),
      seekbackward: (d) => jump(audio.currentTime - (d.seekOffset || 10), false),
      seekforward: (d) => jump(audio.currentTime + (d.seekOffset || 10), false),
      seekto: (d) => jump(d.seekTime, false),
    });

    let shownChapter = -1;
    let lastSaved = 0;
    function show() {
      const t = audio.currentTime;
      const ms = t * 1000;
      track.set(t, length());
      const chapter = chapterOf(t);
      if (chapter !== shownChapter) {
        shownChapter = chapter;
        chapterButtons.forEach((li, i) => li.firstChild.classList.toggle("current", i === chapter));
      }
      const now = mat.update(cuecoachCoach.at(phases, ms), ms);
      screen.name(now.detail ? `${now.name} · ${now.detail}` : now.name);
      let line = null;
      for (const l of data.lines) { if (l.at_ms <= ms + 50) line = l; else break; }
      if (line) {
        mat.line.textContent = line.text;
        mat.line.classList.toggle("past", ms > line.end_ms);
      } else if (t > 0) {
        mat.line.textContent = "…";
      }
      if (t - lastSaved > SAVE_EVERY_MS / 1000 || t < lastSaved) { lastSaved = t; savePosition(); }
      if (audio.duration && t >= audio.duration * PLAYED_SHARE) markPlayed(day.id);
    }
    let gone = false;  // left: the pause and the reset that leaving causes come after, and must not be saved
    function savePosition() {
      if (gone) return;
      const positions = recall("positions", {});
      positions[day.id] = audio.currentTime;
      remember("positions", positions);
    }
    let frame = 0;
    const animate = () => { show(); frame = requestAnimationFrame(animate); };
    audio.addEventListener("play", () => { playButton.replaceChildren(icon("pause")); playButton.setAttribute("aria-label", "Pause");
                                           cancelAnimationFrame(frame); frame = requestAnimationFrame(animate); });
    audio.addEventListener("pause", () => { playButton.replaceChildren(icon("play")); playButton.setAttribute("aria-label", "Play");
                                            cancelAnimationFrame(frame); savePosition(); show(); });
    audio.addEventListener("timeupdate", show);
    audio.addEventListener("seeked", () => { show(); screen.position(); });
    audio.addEventListener("ended", () => {
      markPlayed(day.id);
      const positions = recall("positions", {});
      delete positions[day.id];
      remember("positions", positions);
    });
    audio.addEventListener("loadedmetadata", () => {
      const saved = recall("positions", {})[day.id];
      if (saved > RESUME_MIN_S && saved < audio.duration - RESUME_MIN_S) {
        audio.currentTime = saved;
        mat.line.textContent = `Resuming at ${clock(saved)}`;
      }
      screen.position();
      show();
      if (resumePlaying) { resumePlaying = false; audio.play().catch(() => {}); }
    }, { once: true });
    show();
    const awake = keepAwake(audio);

    // a phone may drop a page in the background without another event: write the position down when it goes
    const onHide = () => savePosition();
    const onVisibility = () => { if (document.visibilityState === "hidden") savePosition(); };
    window.addEventListener("pagehide", onHide);
    document.addEventListener("visibilitychange", onVisibility);
    keepOffline(day, offline);
    return () => {
      window.removeEventListener("pagehide", onHide);
      document.removeEventListener("visibilitychange", onVisibility);
      cancelAnimationFrame(frame);
      awake();
      if (!audio.paused) audio.pause();
      savePosition();
      gone = true;
      audio.removeAttribute("src");
      audio.load();
    };
  }

  // a day opened once is saved, with its track, for use away from the network
  async function keepOffline(day, status) {
    if (!("caches" in window) || !window.isSecureContext) {
      status.textContent = "Offline use needs HTTPS (or this computer): subscribe to the feed to download days.";
      return;
    }
    try {
      const cache = await caches.open(DAYS_CACHE);
      const wanted = [day.audio, `days/${day.id}.json`, site.cover, "site.json"];
      const missing = [];
      for (const url of wanted) { if (!(await cache.match(url))) missing.push(url); }
      if (missing.includes(day.audio)) await cache.delete(day.audio.split("?")[0], { ignoreSearch: true });  // older builds
      if (missing.length) {
        status.textContent = "Saving this day for offline use…";
        await cache.addAll(missing);
      }
      status.textContent = "✓ Saved on this phone: plays without a connection";
      status.classList.add("saved");
    } catch (error) {
      status.textContent = "Could not save this day for offline use.";
    }
  }

  // --- start --------------------------------------------------------------------------------
  function route() {
    leave();
    const id = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
    const day = site.days.find((d) => d.id === id);
    leave = day ? dayPage(day) : seriesPage();
    if (day) window.scrollTo(0, 0);
  }

  // under --watch: redraw the page when a track it shows was rebuilt (a day's, or any on the series page)
  async function watchForRebuilds() {
    try {
      const fresh = await getJSON("site.json");
      const id = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
      const tracks = (s) => s.days.filter((d) => !id || d.id === id).map((d) => d.audio).join(" ");
      if (tracks(fresh) !== tracks(site)) {
        const audio = document.getElementById("audio");
        resumePlaying = Boolean(audio && !audio.paused);
        site = fresh;
        route();
      }
    } catch (error) { /* the server is busy or gone for a moment: ask again */ }
    setTimeout(watchForRebuilds, WATCH_POLL_MS);
  }

  async function start() {
    try {
      site = await getJSON("site.json");
    } catch (error) {
      render(el("p", { class: "notice" }, `Could not load the series (${error.message}).`));
      return;
    }
    window.addEventListener("hashchange", route);
    route();
    if (site.watch) setTimeout(watchForRebuilds, WATCH_POLL_MS);
    if ("serviceWorker" in navigator && window.isSecureContext) {
      navigator.serviceWorker.register("sw.js").catch(() => {});
    }
  }
  start();
})();
