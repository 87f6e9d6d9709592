"""The two doors to the outside world: every file cuecoach writes and every program it runs goes through here.

Writes are atomic (a temp file beside the target, then ``os.replace``), so an interrupted
build leaves the previous file or none, never half of one. Programs run to completion (``run``), or
run while the build goes on (``started``: no thread waits for them), or stream what they write
(``streamed``: their output read a chunk at a time, never held whole). Tests patch ``run`` to fake a
failing ffmpeg, and ``write_atomic``/``atomic_path`` to fake a full disk. Python functions that
need a process of their own run in forked children: see ``children.py``.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO

from cuecoach.errors import BuildError

STREAM_CHUNK = 1 << 20  # bytes `streamed` reads from a program's output at a time
STDERR_TAIL_LINES = 20  # what `streamed` keeps of a program's stderr, for its error message


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
        # the target is as it was before: what is there now is what was kept
        kept = "the previous file was kept" if target.exists() else "there was no previous file, and none was written"
        if exc.errno == errno.ENOSPC:
            raise BuildError(f"{target}: the disk is full; free some space and try again ({kept})") from None
        raise BuildError(f"{target}: cannot write: {exc.strerror} ({kept})") from None
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
            if exc.errno == errno.ENOSPC:  # named where it was written: beside its target, or in the temp folder
                raise BuildError(f"{Path(name).parent}: the disk is full; free some space and try again") from None
            raise BuildError(f"{name}: cannot write a temp file: {exc.strerror}") from None
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def remove_stale_parts(folder: Path, recursive: bool = False) -> None:
    """Remove temp files left in `folder` (and its subfolders, if `recursive`) by writers that were killed
    (they never replaced a real file); a living writer's are left alone."""
    for part in (Path(folder).rglob if recursive else Path(folder).glob)(".*.part"):
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
        import imageio_ffmpeg

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


def streamed(args: Sequence[str], what: str, chunk: int = STREAM_CHUNK) -> Iterator[bytes]:
    """Run a program that reads nothing, and yield its stdout as it comes, `chunk` bytes at a time (the last
    may be shorter), so that it is never held whole; at its end, BuildError with the tail of its stderr if it
    failed. Its stderr is drained meanwhile (a full pipe would stall it), its last lines alone kept. A caller
    that stops early closes the generator, which stops the program."""
    try:
        proc = subprocess.Popen(list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise BuildError(f"{what}: cannot run {args[0]}: {exc.strerror}") from None
    assert proc.stdout is not None and proc.stderr is not None
    tail: deque[bytes] = deque(maxlen=STDERR_TAIL_LINES)
    reader = threading.Thread(target=tail.extend, args=(proc.stderr,), daemon=True)
    reader.start()
    try:
        while data := proc.stdout.read(chunk):
            yield data
        if proc.wait() != 0:
            reader.join()
            raise _failed(args[0], what, proc.returncode, b"".join(tail))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join()
        proc.stdout.close()
        proc.stderr.close()


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
