// cuecoach's coach: what a day's timeline (days/<day>.json) says is happening at each moment.
// Contract: phases(data) cuts the day into back-to-back phases, each {kind, start_ms, end_ms, until_ms,
// block, chapter}; kind is one of KINDS; until_ms is where its countdown reaches zero (the start tone
// during get ready, a rest or a switch; the stop tone during work; the first exercise during the
// introduction; the end of the track when done). at(list, ms) finds the phase at a moment. Pure
// functions of the JSON, no page: player.js draws what they say, and it never disagrees with the track.
"use strict";
const cuecoachCoach = (() => {
  const KINDS = ["talk", "ready", "work", "switch", "rest", "done"];
  const WORDS = { talk: "Listen", ready: "Get ready", work: "Work", switch: "Switch sides", rest: "Rest", done: "Done" };

  function chapterAt(chapters, ms) {
    let found = 0;
    chapters.forEach((c, i) => { if (c.start_ms <= ms) found = i; });
    return found;
  }

  // each timed block with its place in its exercise: the chapter it is in, its set and the number of sets
  function placed(data) {
    const blocks = [...data.blocks].sort((a, b) => a.start_ms - b.start_ms)
      .map((b) => ({ ...b, side: b.side === null || b.side === undefined ? null : String(b.side),
                     chapter: chapterAt(data.chapters, b.start_ms) }));
    return blocks.map((b) => {
      const mates = blocks.filter((o) => o.chapter === b.chapter);
      const sides = new Set(mates.map((o) => o.side)).size;
      return { ...b, set: Math.floor(mates.indexOf(b) / sides) + 1, sets: Math.max(1, Math.round(mates.length / sides)) };
    });
  }

  function phases(data) {
    const blocks = placed(data);
    const out = [];
    const add = (kind, start, end, until, block) => {
      if (end > start) out.push({ kind, start_ms: start, end_ms: end, until_ms: until, block, chapter: chapterAt(data.chapters, start) });
    };
    const chapterStart = (b) => (data.chapters[b.chapter] ? data.chapters[b.chapter].start_ms : b.start_ms);
    if (!blocks.length) {
      add("talk", 0, data.duration_ms, data.duration_ms, null);
      return out;
    }
    add("talk", 0, chapterStart(blocks[0]), chapterStart(blocks[0]), blocks[0]);
    blocks.forEach((b, i) => {
      const before = blocks[i - 1];
      if (!before) {
        add("ready", chapterStart(b), b.start_ms, b.start_ms, b);
      } else if (before.chapter === b.chapter) {  // the same exercise: its other side, or its next set
        add(before.side === "1" && b.side === "2" ? "switch" : "rest", before.end_ms, b.start_ms, b.start_ms, b);
      } else {  // the next exercise: a breather while it is named, then its set-up and lead-in
        add("rest", before.end_ms, chapterStart(b), b.start_ms, b);
        add("ready", chapterStart(b), b.start_ms, b.start_ms, b);
      }
      add("work", b.start_ms, b.end_ms, b.end_ms, b);
      b.following = blocks[i + 1] || null;
    });
    const last = blocks[blocks.length - 1];
    add("done", last.end_ms, data.duration_ms, data.duration_ms, null);
    return out;
  }

  function at(list, ms) {
    let found = list[0] || null;
    for (const phase of list) { if (phase.start_ms <= ms) found = phase; else break; }
    return found;
  }

  // whole seconds left, rounded up: "3" until the last second has begun, as a spoken countdown does
  const secondsLeft = (phase, ms) => Math.max(0, Math.ceil((phase.until_ms - ms) / 1000));
  const seconds = (b) => Math.round((b.end_ms - b.start_ms) / 1000);
  function detail(b) {
    if (!b) return "";
    return [b.side ? `Side ${b.side}` : "", b.sets > 1 ? `Set ${b.set} of ${b.sets}` : ""].filter(Boolean).join(" · ");
  }
  function after(b) {  // what follows a block's work
    const next = b.following;
    if (!next) return "Next: done";
    if (next.chapter !== b.chapter) return `Next: ${next.name}`;
    if (b.side === "1" && next.side === "2") return "Next: switch to side 2";
    return `Next: rest, then ${detail(next).toLowerCase()}`;
  }
  function next(phase) {
    const b = phase.block;
    switch (phase.kind) {
      case "talk": return b ? `Next: ${b.name}` : "";
      case "work": return after(b);
      case "rest": return phase.chapter !== b.chapter ? "Next: get ready" : `Next: work, ${seconds(b)} s`;
      case "ready": case "switch": return `Next: work, ${seconds(b)} s`;
      default: return "";  // the page offers the next day itself
    }
  }
  // what is being done now, or made ready for: the exercise and its side or set (in the introduction, the
  // chapter; when done, the day)
  function now(phase, data) {
    if (phase.kind === "talk") {
      return { name: data.chapters[phase.chapter] ? data.chapters[phase.chapter].title : data.title, detail: "" };
    }
    if (phase.kind === "done") return { name: data.title, detail: "" };
    return { name: phase.block.name, detail: detail(phase.block) };
  }

  return { KINDS, WORDS, phases, at, secondsLeft, now, next };
})();
