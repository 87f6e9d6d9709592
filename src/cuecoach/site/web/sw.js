// cuecoach's service worker: a day opened once plays offline.
// The page and its data come from the network when it answers and from the cache when it does
// not; a track is served from the cache when it was saved there, with range requests answered
// from the saved file (media elements ask for ranges, and seek with them). A track's address holds
// its version (?v=…): only the version asked for is served from the cache, a rebuilt one comes from the network.
"use strict";
const SHELL = "cuecoach-shell-v1";
const DAYS = "cuecoach-days-v1";
const SHELL_FILES = ["./", "index.html", "player.css", "coach.js", "player.js", "site.json", "manifest.webmanifest"];
const NETWORK_WAIT_MS = 4000; // on a phone that lost its Wi-Fi a request can hang: fall back to the cache

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  event.respondWith(url.pathname.endsWith(".mp3") ? track(request) : networkFirst(request));
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("network timeout")), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); },
                 (error) => { clearTimeout(timer); reject(error); });
  });
}

async function networkFirst(request) {
  try {
    const response = await withTimeout(fetch(request), NETWORK_WAIT_MS);
    if (response.status === 200) {
      const copy = response.clone();
      caches.open(SHELL).then((cache) => cache.put(request, copy));
    }
    return response;
  } catch (error) {
    const hit = (await caches.match(request, { ignoreSearch: true })) ||
                (request.mode === "navigate" ? await caches.match(new URL("./", self.registration.scope).href) : undefined);
    if (hit) return hit;
    throw error;
  }
}

async function track(request) {
  const saved = await caches.match(request.url, { ignoreVary: true });
  if (!saved) return fetch(request);
  const range = request.headers.get("range");
  if (!range) return saved;
  const blob = await saved.blob();
  const size = blob.size;
  const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  let start = 0;
  let end = size - 1;
  if (match && match[1] === "" && match[2] !== "") {
    start = Math.max(0, size - Number(match[2]));
  } else if (match) {
    start = Number(match[1]);
    if (match[2] !== "") end = Math.min(Number(match[2]), size - 1);
  }
  if (!match || start >= size || start > end) {
    return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${size}` } });
  }
  return new Response(blob.slice(start, end + 1, "audio/mpeg"), {
    status: 206,
    statusText: "Partial Content",
    headers: {
      "Content-Type": "audio/mpeg",
      "Content-Range": `bytes ${start}-${end}/${size}`,
      "Content-Length": String(end - start + 1),
      "Accept-Ranges": "bytes",
    },
  });
}
