"""Folders that cannot be written, and a full disk: one located line, a non-zero exit, and the truth about
what was kept. The tests run as root, whom chmod does not stop, so the read-only and the full file systems
are real ones: a tmpfs mounted read-only, or a few kilobytes small, in a mount namespace of the command's own
(`unshare`: seen by that command alone, and gone when it ends, whatever happens to the test). Where such a
namespace cannot be made, those tests are skipped; a folder whose parent is a file needs no privilege."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CUECOACH

COMMAND_GUARD_S = 60  # each command here fails at once; a `serve` that did not would otherwise serve for ever
TINY_DISK = "size=16k"  # room for a short file, none for a spoken line's WAV (about 40 kB)
SERVE = ("serve", "--host", "127.0.0.1", "--port", "0")
PUBLISH = ("publish", "--base-url", "https://example.org/")
# sh -c NAMESPACE options folder command...: mount, prepare, run the command, then list what the folder holds
NAMESPACE = ('mount -t tmpfs -o "$0" tmpfs "$1" || exit 99; folder=$1; shift; '
             '{prepare} "$@"; status=$?; {after} exit $status')
LIST = 'echo; ls -A "$folder";'


def in_namespace(cwd: Path, options: str, folder: Path, *command: str, prepare: str = "", after: str = LIST
                 ) -> subprocess.CompletedProcess[str]:
    """`command` run where a tmpfs (mount `options`) is mounted on `folder`, in a mount namespace of its own."""
    script = NAMESPACE.format(prepare=prepare, after=after)
    return subprocess.run(["unshare", "--map-root-user", "--mount", "sh", "-c", script, options, str(folder),
                           *command], cwd=cwd, capture_output=True, text=True, timeout=COMMAND_GUARD_S,
                          env={**os.environ, "COLUMNS": "200"})


@functools.cache
def namespaces() -> str:
    """'' where a private mount namespace with a tmpfs can be made here, else why not."""
    if not shutil.which("unshare"):
        return "no unshare command"
    probe = in_namespace(Path("/"), "ro", Path("/mnt"), "true")
    return "" if probe.returncode == 0 else f"cannot make a mount namespace here: {probe.stderr.strip()}"


needs_namespaces = pytest.mark.skipif("namespaces()", reason="needs a private mount namespace (unshare)")


def cuecoach(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CUECOACH, *args], cwd=cwd, capture_output=True, text=True, timeout=COMMAND_GUARD_S,
                          env={**os.environ, "COLUMNS": "200"})


def assert_one_clean_line(done: subprocess.CompletedProcess[str], *says: str) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, (done.returncode, done.stderr)
    assert lines[0].startswith("error: ") and "internal error" not in lines[0] and "Traceback" not in done.stderr
    assert all(words in lines[0] for words in says), lines[0]


def test_a_folder_under_a_file_is_reported_by_serve_and_publish(project: Path) -> None:
    (project / "notes.txt").write_text("a file, where the output folder was meant to be\n")
    for args, folder in [((*SERVE, "--output", "notes.txt/out"), "notes.txt/out/site"),
                         ((*PUBLISH, "--output", "notes.txt/out"), "notes.txt/out/site"),
                         ((*PUBLISH, "--to", "notes.txt/site"), "notes.txt/site")]:
        done = cuecoach(project, *args)
        assert_one_clean_line(done, f"{folder}: cannot make the site's folder here: Not a directory",
                              "choose a folder you can write to")
    assert (project / "notes.txt").read_text().startswith("a file")


@needs_namespaces
def test_a_read_only_output_folder_is_reported_by_serve_and_publish(project: Path) -> None:
    (project / "output").mkdir()
    for args in (SERVE, PUBLISH):
        done = in_namespace(project, "ro", project / "output", *CUECOACH, *args)
        assert_one_clean_line(done, "output/site: cannot make the site's folder here: Read-only file system")
        assert done.stdout.split() == []  # nothing written: the read-only folder holds nothing


@needs_namespaces
def test_a_full_disk_says_whether_a_previous_file_was_kept(project: Path) -> None:
    disk = project / "disk"
    disk.mkdir()
    say = (*CUECOACH, "say", "Reach long, and breathe out slowly.", "--output", "disk/say.wav")
    done = in_namespace(project, TINY_DISK, disk, *say)
    assert_one_clean_line(done, "disk/say.wav: the disk is full", "(there was no previous file, and none was written)")
    assert done.stdout.split() == []  # no part file left behind either
    done = in_namespace(project, TINY_DISK, disk, *say, prepare='printf previous > "$folder/say.wav";',
                        after=LIST + ' echo; cat "$folder/say.wav";')
    assert_one_clean_line(done, "disk/say.wav: the disk is full", "(the previous file was kept)")
    assert done.stdout.split() == ["say.wav", "previous"]
