"""`cuecoach serve`: the site over HTTP for phones on the same network.

The standard library's ThreadingHTTPServer, with a handler of our own: only files inside the
site folder (no listings, no `..`, no hidden files), the content types phones expect, and
single byte ranges (`206 Partial Content`), without which iOS neither seeks nor plays audio and
Chromium restarts a seek from the start.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHUNK = 64 * 1024
TYPES = {
    ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".json": "application/json",
    ".webmanifest": "application/manifest+json", ".xml": "application/rss+xml; charset=utf-8",
    ".vtt": "text/vtt; charset=utf-8", ".mp3": "audio/mpeg", ".jpg": "image/jpeg", ".png": "image/png",
}
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
ENTRY_POINTS = ("/", "/index.html", "/site.json", "/feed.xml")  # asking for these refreshes a stale site
REFRESH_EVERY_S = 1.0  # look at the output folder at most this often


def site_file(root: Path, url_path: str) -> Path | None:
    """The file a URL path names inside `root`, or None: nothing outside it, nothing hidden."""
    path = unquote(urlsplit(url_path).path, errors="strict")
    if "\\" in path or "\0" in path or not path.startswith("/"):
        return None
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") or part.startswith(".") for part in parts):
        return None
    target = root.joinpath(*parts) if parts else root
    if target.is_dir():
        target = target / "index.html"
    try:
        resolved = target.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_file() or not resolved.is_relative_to(root.resolve()):
        return None
    return resolved


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """(first, last) for a single satisfiable range; None for no (or an ignored) header; 'bad' for 416."""
    if not header:
        return None
    match = RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None  # several ranges or another unit: answer with the whole file, as RFC 9110 allows
    first, last = match.groups()
    if first == "":
        length = int(last)
        return (max(0, size - length), size - 1) if length > 0 and size > 0 else "bad"
    start, end = int(first), int(last) if last else size - 1
    if start >= size or end < start:
        return "bad"
    return start, min(end, size - 1)


class SiteHandler(BaseHTTPRequestHandler):
    server_version = "cuecoach"
    protocol_version = "HTTP/1.1"
    root: Path = Path(".")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # a phone asks for many ranges; a line for each would bury the URL and the QR code

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(body=True)

    def _refuse(self, status: HTTPStatus) -> None:
        message = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(message)))
        self.end_headers()
        self.wfile.write(message)

    def _answer(self, body: bool) -> None:
        if urlsplit(self.path).path in ENTRY_POINTS:
            self.server.refresh_if_stale()  # type: ignore[attr-defined]
        try:
            target = site_file(self.root, self.path)
        except UnicodeDecodeError:
            target = None
        if target is None:
            self._refuse(HTTPStatus.NOT_FOUND)
            return
        size = target.stat().st_size
        wanted = byte_range(self.headers.get("Range"), size)
        if wanted == "bad":
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        first, last = wanted if isinstance(wanted, tuple) else (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if isinstance(wanted, tuple) else HTTPStatus.OK)
        self.send_header("Content-Type", TYPES.get(target.suffix.lower(), "application/octet-stream"))
        self.send_header("Content-Length", str(last - first + 1))
        self.send_header("Accept-Ranges", "bytes")
        if isinstance(wanted, tuple):
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        # the page and its data change on every rebuild; a track's bytes are worth keeping a while
        self.send_header("Cache-Control", "max-age=3600" if target.suffix == ".mp3" else "no-cache")
        self.send_header("Last-Modified", self.date_time_string(int(target.stat().st_mtime)))
        self.end_headers()
        if body:
            self._send(target, first, last - first + 1)

    def _send(self, target: Path, first: int, length: int) -> None:
        try:
            with open(target, "rb") as source:
                source.seek(first)
                while length > 0:
                    chunk = source.read(min(CHUNK, length))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    length -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # players drop range requests all the time


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True  # a phone holding a connection open does not keep Ctrl-C waiting
    allow_reuse_address = True
    refresh: Callable[[], None] | None = None  # remakes the site if what it is made from changed
    _refresh_lock = threading.Lock()
    _refreshed_at = 0.0

    def refresh_if_stale(self) -> None:
        """A day rebuilt while the server runs reaches the phone on its next page or feed load."""
        if self.refresh is None or time.monotonic() - self._refreshed_at < REFRESH_EVERY_S:
            return
        with self._refresh_lock:
            if time.monotonic() - self._refreshed_at >= REFRESH_EVERY_S:
                self.refresh()
                self._refreshed_at = time.monotonic()

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        pass  # a client that vanished mid-answer is normal for audio; it must not print a traceback


def make_server(root: Path, host: str, port: int) -> SiteServer:
    handler = type("Handler", (SiteHandler,), {"root": root.resolve()})
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
