"""`cuecoach serve`: the site over HTTP for phones on the same network.

The standard library's ThreadingHTTPServer, with a handler of our own: only files inside the
site folder (no listings, no `..`, no hidden files), the content types phones expect, and
single byte ranges (`206 Partial Content`), without which iOS neither seeks nor plays audio and
Chromium restarts a seek from the start.

It holds: every request gets an HTTP answer, however long its path or its numbers (414 for a
request-target over PATH_MAX_BYTES, 404 for a name no file system can hold, a Range number of
any length read as "past the end"); a thread serves each connection, and the listen queue holds a
burst of listeners until the server takes them (LISTEN_BACKLOG), so none waits for its connect to
be retried; a connection that sends nothing, or stops reading, for IDLE_TIMEOUT_S is closed.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

CHUNK = 64 * 1024
TYPES = {
    ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".json": "application/json",
    ".webmanifest": "application/manifest+json", ".xml": "application/rss+xml; charset=utf-8",
    ".vtt": "text/vtt; charset=utf-8", ".mp3": "audio/mpeg", ".jpg": "image/jpeg", ".png": "image/png",
}
RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")  # ASCII digits only: \d takes other scripts' too
PATH_MAX_BYTES = 4096  # Linux's PATH_MAX: a longer request-target names no file here (414)
NAME_MAX_BYTES = 255  # the longest file name Linux, macOS and Windows file systems hold
LISTEN_BACKLOG = 1024  # connections the kernel holds for us (capped by net.core.somaxconn): a burst of
# 200 listeners against the default 5 had its dropped connects retried a second later, some for ever
IDLE_TIMEOUT_S = 10.0  # a connection silent (or not reading) this long is closed: one thread each, otherwise
# held for ever; a paused player's stalled download is closed too, and it asks again for a range on play
ENTRY_POINTS = ("/", "/index.html", "/site.json", "/feed.xml")  # asking for these refreshes a stale site
REFRESH_EVERY_S = 1.0  # look at the output folder at most this often


def site_file(root: Path, url_path: str) -> Path | None:
    """The file a URL path names inside `root`, or None: nothing outside it, nothing hidden."""
    path = unquote(urlsplit(url_path).path, errors="strict")
    if "\\" in path or "\0" in path or not path.startswith("/"):
        return None
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") or part.startswith(".") or len(part.encode()) > NAME_MAX_BYTES for part in parts):
        return None
    target = root.joinpath(*parts) if parts else root
    try:  # a path too long for this system (with the root in front) is an OSError too: no such file
        if target.is_dir():
            target = target / "index.html"
        resolved = target.resolve(strict=True)
        if not resolved.is_file() or not resolved.is_relative_to(root.resolve()):
            return None
    except (OSError, RuntimeError):
        return None
    return resolved


def _at_most(digits: str, cap: int) -> int:
    """The number `digits` writes, or `cap` if that is more: a number of thousands of digits is never
    converted (int() refuses one over 4,300 digits, and any over `cap` means the same here)."""
    digits = digits.lstrip("0") or "0"
    return cap if len(digits) > len(str(cap)) else min(int(digits), cap)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """(first, last) for a single satisfiable range; None for no (or an ignored) header; 'bad' for 416.
    A number past the end of the file, however long, counts as the end: the answer is the same."""
    if not header:
        return None
    match = RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None  # several ranges or another unit: answer with the whole file, as RFC 9110 allows
    first, last = match.groups()
    if first == "":
        length = _at_most(last, size)
        return (max(0, size - length), size - 1) if length > 0 and size > 0 else "bad"
    start, end = _at_most(first, size), _at_most(last, size) if last else size - 1
    if start >= size or end < start:
        return "bad"
    return start, min(end, size - 1)


class SiteHandler(BaseHTTPRequestHandler):
    server_version = "cuecoach"
    protocol_version = "HTTP/1.1"
    root: Path = Path(".")
    timeout = IDLE_TIMEOUT_S  # the socket's: a read or write that waits longer ends the connection
    _answered = False  # whether this request's status line has been sent

    def log_message(self, format: str, *args: object) -> None:  # `format`: the base class names it so
        pass  # a phone asks for many ranges; a line for each would bury the URL and the QR code

    def do_HEAD(self) -> None:  # do_<METHOD>: http.server finds the handlers by these names
        self._answer_whatever_happens(body=False)

    def do_GET(self) -> None:
        self._answer_whatever_happens(body=True)

    def send_response(self, code: int, message: str | None = None) -> None:
        self._answered = True
        super().send_response(code, message)

    def _answer_whatever_happens(self, body: bool) -> None:
        """Answer; a client gone or too slow is let go, and anything else still gets a status (500)."""
        self._answered = False
        try:
            self._answer(body)
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # players drop range requests all the time
        except Exception:  # noqa: BLE001 - a bug here must still answer the phone, not drop its connection
            self.close_connection = True
            if not self._answered:
                self._refuse(HTTPStatus.INTERNAL_SERVER_ERROR)

    def _refuse(self, status: HTTPStatus) -> None:
        message = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(message)))
        self.end_headers()
        self.wfile.write(message)

    def _answer(self, body: bool) -> None:
        if len(self.path.encode("latin-1", "replace")) > PATH_MAX_BYTES:
            self._refuse(HTTPStatus.REQUEST_URI_TOO_LONG)
            return
        if urlsplit(self.path).path in ENTRY_POINTS:
            self.server.refresh_if_stale()  # type: ignore[attr-defined]  # a SiteServer, typed as any server
        try:
            target = site_file(self.root, self.path)
            source = open(target, "rb") if target is not None else None  # closed by the `with` below
        except (UnicodeDecodeError, OSError):  # undecodable, or gone since it was found
            source = None
        if target is None or source is None:
            self._refuse(HTTPStatus.NOT_FOUND)
            return
        with source:  # the file as opened: a track replaced by a rebuild meanwhile is sent whole, as it was
            self._send_file(source, target.suffix.lower(), body)

    def _send_file(self, source: BinaryIO, suffix: str, body: bool) -> None:
        stat = os.fstat(source.fileno())
        size = stat.st_size
        wanted = byte_range(self.headers.get("Range"), size)
        if wanted == "bad":
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        first, last = wanted if isinstance(wanted, tuple) else (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if isinstance(wanted, tuple) else HTTPStatus.OK)
        self.send_header("Content-Type", TYPES.get(suffix, "application/octet-stream"))
        self.send_header("Content-Length", str(last - first + 1))
        self.send_header("Accept-Ranges", "bytes")
        if isinstance(wanted, tuple):
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        # the page and its data change on every rebuild; a track's bytes are worth keeping a while
        self.send_header("Cache-Control", "max-age=3600" if suffix == ".mp3" else "no-cache")
        self.send_header("Last-Modified", self.date_time_string(int(stat.st_mtime)))
        self.end_headers()
        if body:
            self._send(source, first, last - first + 1)

    def _send(self, source: BinaryIO, first: int, length: int) -> None:
        source.seek(first)
        while length > 0:
            chunk = source.read(min(CHUNK, length))
            if not chunk:  # shorter than it said (it shrank in place): the client must not wait for the rest
                self.close_connection = True
                return
            self.wfile.write(chunk)
            length -= len(chunk)


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True  # a phone holding a connection open does not keep Ctrl-C waiting
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG
    refresh: Callable[[], None] | None = None  # remakes the site if what it is made from changed
    _refresh_lock = threading.Lock()
    _refreshed_at = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # set while `serve --watch` rebuilds: a request then serves the site as it is (made from whole days),
        # not one made from a build half done; the watch remakes it when the build ends (refresh_now)
        self.building = threading.Event()

    def refresh_if_stale(self) -> None:
        """A day rebuilt while the server runs reaches the phone on its next page or feed load."""
        if self.refresh is None or self.building.is_set() or time.monotonic() - self._refreshed_at < REFRESH_EVERY_S:
            return
        with self._refresh_lock:
            if time.monotonic() - self._refreshed_at >= REFRESH_EVERY_S:
                self.refresh()
                self._refreshed_at = time.monotonic()

    def refresh_now(self) -> None:
        """Remake the site now if it is stale (`serve --watch`, after a rebuild), never while a request does."""
        if self.refresh is not None:
            with self._refresh_lock:
                self.refresh()
                self._refreshed_at = time.monotonic()

    def handle_error(self, request, client_address) -> None:
        pass  # a client that vanished mid-answer is normal for audio; it must not print a traceback


def make_server(root: Path, host: str, port: int, idle_timeout_s: float = IDLE_TIMEOUT_S) -> SiteServer:
    """A server of the files in `root` on (host, port); `idle_timeout_s` ends a silent connection."""
    handler = type("Handler", (SiteHandler,), {"root": root.resolve(), "timeout": idle_timeout_s})
    return SiteServer((host, port), handler)


def lan_address() -> str:
    """This computer's address on the local network (no packet is sent), or 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def public_host(host: str) -> str:
    """The host a phone should use: the LAN address when listening on every interface."""
    if host in ("", "0.0.0.0", "::"):
        return lan_address()
    return f"[{host}]" if ":" in host else host


def terminal_qr(text: str) -> str:
    import io

    import qrcode

    code = qrcode.QRCode(border=2)
    code.add_data(text)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()
