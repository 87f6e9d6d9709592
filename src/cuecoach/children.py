"""Python functions in processes of their own: forked children, many at once, each answering through a pipe.

A speech engine that must start fresh in every process runs its work here. ``in_children``
forks a child for each task, ``at_once`` at a time, and yields each one's outcome as it ends;
a child that hangs is killed. ``child_stream`` runs a forked helper that streams messages back as
they come; it leads a process group of its own, and it and the children it forks are ended
together. Both refuse to fork where it is not safe: in a process with other threads, or on a
system without fork (``can_fork`` says where, so that a caller there can take another way).
"""

from __future__ import annotations

import contextlib
import functools
import os
import selectors
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from cuecoach.errors import BuildError, CueError

PIPE_READ = 1 << 20  # bytes read from a child's pipe at a time
FRAME_HEADER = 9  # a streamed message: its kind (1 byte), a number (4) and its payload's length (4)
_stream_out: int | None = None  # in a forked helper: its stream's write end, which its own children must not hold
Tag = TypeVar("Tag")  # what names a task to its caller, given back with its outcome


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


def in_children(tasks: deque[tuple[Tag, Callable[[], bytes]]], at_once: int, timeout_s: float
                ) -> Generator[tuple[Tag, ChildOutcome], None, None]:
    """Run each task (a tag, a function returning bytes) in a child forked for it alone, `at_once` at a
    time, and yield (tag, outcome) as each ends. Tasks appended to `tasks` meanwhile are run too (a retry).
    A child still running after `timeout_s` is killed, and so are those running when the caller stops.
    Refuses (BuildError) at once where forking is not safe (see can_fork)."""
    _refuse_unless_can_fork()
    return _run_children(tasks, at_once, timeout_s)


def _run_children(tasks: deque[tuple[Tag, Callable[[], bytes]]], at_once: int, timeout_s: float
                  ) -> Generator[tuple[Tag, ChildOutcome], None, None]:
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
