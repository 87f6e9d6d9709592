"""The two doors to the outside world: every file cuecoach writes and every program it runs goes through here.

Writes are atomic (a temp file beside the target, then ``os.replace``), so an interrupted
build leaves the previous file or none, never half of one. Programs run to completion (``run``), or
run while the build goes on (``started``: no thread waits for them). Tests patch ``run`` to fake a
failing ffmpeg, and ``write_atomic``/``atomic_path`` to fake a full disk. Python functions that
need a process of their own (a speech engine that must start fresh) run in forked children
(``in_children``), many at once, each answering through a pipe; a forked helper can stream its
results back as they come (``child_stream``), and it and the children it forks are ended together.
Both refuse to fork where it is not safe (``can_fork`` says where).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from cuecoach.errors import BuildError, CueError

PIPE_READ = 1 << 20  # bytes read from a child's pipe at a time
FRAME_HEADER = 9  # a streamed message: its kind (1 byte), a number (4) and its payload's length (4)
_stream_out: int | None = None  # in a forked helper: its stream's write end, which its own children must not hold


@contextmanager
def atomic_path(target: Path, sync: bool = True) -> Iterator[Path]:
    """Yield a temp path beside `target`; on success it replaces `target`, on failure it is removed.

    `sync=False` skips the fsync, for cache entries that are checked when read anyway."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # the writer's pid is in the name, so a later build can tell a dead writer's leftovers
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".part", dir=target.parent)
        os.close(handle)
    except OSError as exc:
        raise BuildError(f"{target}: cannot write here: {exc.strerror}") from None
    temp = Path(name)
    try:
        yield temp
        if sync:
            with open(temp, "rb+") as done:
                os.fsync(done.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise BuildError(f"{target}: the disk is full; free some space and build again "
                             "(the previous file was kept)") from None
        raise BuildError(f"{target}: cannot write: {exc.strerror}") from None
    finally:
        temp.unlink(missing_ok=True)


@contextmanager
def scratch_file(data: str | bytes | bytearray | Sequence[bytes | bytearray], beside: Path | None = None
                 ) -> Iterator[Path]:
    """A temp file holding `data`, removed afterwards (for programs that read their input from files).

    With `beside`, it is a hidden part file next to that target, so that the leftovers of a
    killed build are found and removed like any other (see remove_stale_parts)."""
    try:
        if beside is not None:
            beside.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f".{beside.name}.{os.getpid()}-", suffix=".part",
                                            dir=beside.parent)
        else:
            handle, name = tempfile.mkstemp(prefix="cuecoach-", suffix=".txt")
    except OSError as exc:
        raise BuildError(f"{beside or tempfile.gettempdir()}: cannot write here: {exc.strerror}") from None
    try:
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in [data] if isinstance(data, (str, bytes, bytearray)) else data:
                    out.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise BuildError(f"{tempfile.gettempdir()}: the disk is full; free some space and build again") from None
            raise BuildError(f"{name}: cannot write a temp file: {exc.strerror}") from None
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def remove_stale_parts(folder: Path) -> None:
    """Remove temp files left in `folder` by writers that were killed (they never replaced a real file)."""
    for part in Path(folder).glob(".*.part"):
        pid = part.name.rsplit(".", 2)[-2].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            part.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, but is not ours to signal
    return True


def write_atomic(target: Path, data: bytes | bytearray | str, sync: bool = True) -> None:
    """Write a whole file atomically."""
    with atomic_path(target, sync) as temp:
        with open(temp, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)


@lru_cache(maxsize=1)
def ffmpeg() -> str:
    """The ffmpeg binary: the system's, else the one the imageio-ffmpeg package ships."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg  # type: ignore[import-not-found]

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001 - any failure means: not available
        raise BuildError("ffmpeg was not found; install it (Debian/Ubuntu: sudo apt-get install ffmpeg; "
                         "macOS: brew install ffmpeg), or pip install imageio-ffmpeg") from None


def run(args: Sequence[str], what: str,
        input: bytes | bytearray | memoryview | Iterable[bytes | bytearray] | None = None,
        capture_stderr: bool = False, env: dict[str, str] | None = None) -> bytes:
    """Run a program to completion and return its stdout (or its stderr, for programs that report there);
    on failure raise BuildError with the tail of stderr. `env`: variables added to this process's environment.

    Input is written in one blocking write while threads drain the outputs: subprocess.run's
    poll loop feeds a pipe 4 kB at a time, which made ffmpeg's MP3 encode 2.5 times slower.
    An iterable input is streamed chunk by chunk, so it never has to be held whole.
    """
    try:
        proc = subprocess.Popen(list(args), stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**os.environ, **env} if env else None)
    except OSError as exc:
        raise BuildError(f"{what}: cannot run {args[0]}: {exc.strerror}") from None
    outputs: dict[str, bytes] = {}

    def drain(name: str, stream: IO[bytes]) -> None:
        outputs[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(name, stream), daemon=True)
               for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    for reader in readers:
        reader.start()
    try:
        if input is not None:
            assert proc.stdin is not None
            try:
                for chunk in [input] if isinstance(input, (bytes, bytearray, memoryview)) else input:
                    proc.stdin.write(chunk)
                proc.stdin.close()
            except BrokenPipeError:
                pass  # the program stopped reading: its exit code and stderr say why
        returncode = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for reader in readers:
            reader.join()
    if returncode != 0:
        raise _failed(args[0], what, returncode, outputs.get("stderr", b""))
    return outputs["stderr"] if capture_stderr else outputs["stdout"]


def _failed(program: str, what: str, returncode: int, stderr: bytes) -> BuildError:
    tail = " | ".join(stderr.decode("utf-8", "replace").strip().splitlines()[-3:])
    return BuildError(f"{what}: {Path(program).name} failed (exit {returncode}): {tail or 'no message'}")


@dataclass
class Running:
    """A program `started` and not yet waited for."""

    proc: subprocess.Popen
    program: str
    what: str

    def finish(self) -> None:
        """Wait for it to end; BuildError, with the tail of what it printed, if it failed."""
        _, stderr = self.proc.communicate()
        if self.proc.returncode != 0:
            raise _failed(self.program, self.what, self.proc.returncode, stderr or b"")


@contextmanager
def started(args: Sequence[str], what: str) -> Iterator[Running]:
    """Start a program that reads nothing and writes its result to a file, to run while this process goes
    on: no thread waits for it (so this process may still fork), `finish()` does. On leaving, a program not
    waited for is killed. What it prints goes to a pipe read at the end: only for programs that print little."""
    try:
        proc = subprocess.Popen(list(args), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
    except OSError as exc:
        raise BuildError(f"{what}: cannot run {args[0]}: {exc.strerror}") from None
    try:
        yield Running(proc, args[0], what)
    finally:
        if proc.returncode is None:  # not finished: stopped, and reaped
            proc.kill()
            proc.communicate()


def linked_libraries(program: str) -> list[str]:
    """The shared objects a program loads, as the dynamic loader resolves them: asked with
    LD_TRACE_LOADED_OBJECTS (as ldd asks it), glibc's loader lists them and exits, running none of the
    program. A script lists its interpreter's. [] where the loader cannot tell: off Linux, or for a static
    binary (which then runs, without arguments, and is known by its own file)."""
    if not sys.platform.startswith("linux"):
        return []
    try:
        listing = run([program], f"listing the libraries of {program}", env={"LD_TRACE_LOADED_OBJECTS": "1"})
    except BuildError:
        return []
    return re.findall(r"=> (/\S+) \(0x", listing.decode("utf-8", "replace"))


@dataclass(frozen=True)
class ChildOutcome:
    """How a forked child ended: the bytes its function returned, or why there are none."""

    data: bytes | None
    error: str = ""  # the message of what the function raised, or how the child was lost
    lost: bool = False  # the child died, was killed or hung: another child may do better


@dataclass
class _Child:
    tag: Any
    pid: int
    fd: int
    deadline: float
    received: bytearray = field(default_factory=bytearray)


def can_fork() -> bool:
    """Whether this process may fork children that go on running Python: on POSIX, with no other thread
    (a lock another thread holds at the fork stays held for ever in the child). `in_children` and
    `child_stream` refuse otherwise; a caller that may be there asks first and takes another way."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _refuse_unless_can_fork() -> None:
    if not can_fork():
        why = "it has other threads" if hasattr(os, "fork") else "this system has no fork"
        raise BuildError(f"cuecoach tried to fork a child process where it may not ({why}); this is a bug, "
                         "please report it")


def in_children(tasks: deque[tuple[Any, Callable[[], bytes]]], at_once: int, timeout_s: float
                ) -> Iterator[tuple[Any, ChildOutcome]]:
    """Run each task (a tag, a function returning bytes) in a child forked for it alone, `at_once` at a
    time, and yield (tag, outcome) as each ends. Tasks appended to `tasks` meanwhile are run too (a retry).
    A child still running after `timeout_s` is killed, and so are those running when the caller stops.
    Refuses (BuildError) at once where forking is not safe (see can_fork)."""
    _refuse_unless_can_fork()
    return _run_children(tasks, at_once, timeout_s)


def _run_children(tasks: deque[tuple[Any, Callable[[], bytes]]], at_once: int, timeout_s: float
                  ) -> Iterator[tuple[Any, ChildOutcome]]:
    running: dict[int, _Child] = {}
    selector = selectors.DefaultSelector()
    try:
        while tasks or running:
            while tasks and len(running) < at_once:
                child = _fork(*tasks.popleft(), timeout_s)
                running[child.fd] = child
                selector.register(child.fd, selectors.EVENT_READ)
            wait = max(0.0, min(child.deadline for child in running.values()) - time.monotonic())
            for key, _ in selector.select(wait):
                child = running[key.fd]
                chunk = os.read(key.fd, PIPE_READ)
                if chunk:
                    child.received += chunk
                    continue
                selector.unregister(key.fd)
                del running[key.fd]
                yield child.tag, _ended(child)
            for child in [child for child in running.values() if time.monotonic() > child.deadline]:
                selector.unregister(child.fd)
                del running[child.fd]
                _kill(child)
                yield child.tag, ChildOutcome(None, f"gave no answer in {timeout_s:g} s", lost=True)
    finally:
        for child in running.values():
            _kill(child)
        selector.close()


def _fork_piped(body: Callable[[int], None]) -> tuple[int, int]:
    """Fork a child that runs `body` on the write end of a new pipe: its pid, the read end. Every child starts
    and ends alike: Ctrl-C ends it at once (its parent reports), what a library prints is not the user's
    output, it holds no copy of a helper's stream (see child_stream), and it exits without running the
    parent's cleanup or writing the parent's buffered output twice (status 1 if `body` raised)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(read_end)
            if _stream_out is not None:
                os.close(_stream_out)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            body(write_end)
        except BaseException:  # noqa: BLE001 - a child never returns into its parent's code
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _fork(tag: Any, function: Callable[[], bytes], timeout_s: float) -> _Child:
    pid, read_end = _fork_piped(functools.partial(_answer, function))
    return _Child(tag, pid, read_end, time.monotonic() + timeout_s)


def _answer(function: Callable[[], bytes], out: int) -> None:
    """In a forked child: run `function`, and write b"+" and its bytes, or b"!" and what went wrong."""
    try:
        answer = b"+" + function()
    except CueError as exc:
        answer = b"!" + str(exc).encode("utf-8", "replace")
    except Exception as exc:  # noqa: BLE001 - reported by the parent, in one line
        answer = b"!" + f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")
    _write_all(out, answer)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _ended(child: _Child) -> ChildOutcome:
    os.close(child.fd)
    _, status = os.waitpid(child.pid, 0)
    answer = bytes(child.received)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and answer[:1] == b"+":
        return ChildOutcome(answer[1:])
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and answer[:1] == b"!":
        return ChildOutcome(None, answer[1:].decode("utf-8", "replace"))
    if os.WIFSIGNALED(status):
        return ChildOutcome(None, f"died ({signal.strsignal(os.WTERMSIG(status)) or os.WTERMSIG(status)})", lost=True)
    return ChildOutcome(None, f"ended with status {os.waitstatus_to_exitcode(status)} and no answer", lost=True)


def _kill(child: _Child) -> None:
    try:
        os.kill(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(child.pid, 0)
    os.close(child.fd)


@contextmanager
def child_stream(function: Callable[[Callable[[bytes, int, bytes], None]], None]
                 ) -> Iterator[Iterator[tuple[bytes, int, bytes]]]:
    """Run `function` in a forked helper, where it sends messages (a kind, a number, a payload) with the
    callable it is given; yield an iterator over the messages as they come. Refuses (BuildError) where
    forking is not safe (see can_fork).

    The helper leads a process group of its own, which the children it forks join, and they hold no copy
    of its stream: the stream ends when the helper does, even if one of its children hangs. On leaving (the
    stream ended, the caller stopped, Ctrl-C, which reaches only this process now) the whole group is
    killed at once, so that nothing the helper started runs on, and the helper is reaped. Its children,
    orphaned, are reaped by init."""
    _refuse_unless_can_fork()
    pid, read_end = _fork_piped(functools.partial(_stream_child, function))
    reader = os.fdopen(read_end, "rb")
    try:
        _lead_own_group(pid)  # here too: either side may run first after the fork
        yield _frames(reader)
    finally:
        reader.close()
        with contextlib.suppress(ProcessLookupError):  # a group whose members have all been reaped
            os.killpg(pid, signal.SIGKILL)  # the helper is unreaped till below: its group id is not reused
        os.waitpid(pid, 0)


def _lead_own_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # it has ended, or has done it itself
        os.setpgid(pid, pid)


def _frames(reader: IO[bytes]) -> Iterator[tuple[bytes, int, bytes]]:
    while len(header := reader.read(FRAME_HEADER)) == FRAME_HEADER:
        size = int.from_bytes(header[5:], "little")
        payload = reader.read(size)
        if len(payload) < size:
            return
        yield header[:1], int.from_bytes(header[1:5], "little"), payload


def _stream_child(function: Callable[[Callable[[bytes, int, bytes], None]], None], out: int) -> None:
    """The helper: in a process group of its own before it forks anything, and known as a stream's writer."""
    global _stream_out
    _lead_own_group(0)
    _stream_out = out

    def send(kind: bytes, number: int, payload: bytes) -> None:
        _write_all(out, kind + number.to_bytes(4, "little") + len(payload).to_bytes(4, "little") + payload)

    function(send)
