"""The cache cannot poison a track: every entry (speech clip, encoded frames, the encoder's stock and libraries,
the made cover) carries a digest checked when read, so a damaged one is made again, and the rebuild is
byte-identical to the reference; a killed build's part files in the cache are removed by the next build."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import copy_project, run_cli

OUTPUTS = ("short.mp3", "short.lrc")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """The short day built once: its project folder (with a full cache) and its outputs' bytes."""
    folder = copy_project("project", tmp_path_factory.mktemp("reference") / "project")
    run_cli("build", "short", cwd=folder)
    return folder, {name: (folder / "output" / name).read_bytes() for name in OUTPUTS}


def _flip(path: Path, at: int, mask: int = 0x10) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= mask
    path.write_bytes(bytes(data))


def _middle(path: Path) -> None:
    _flip(path, path.stat().st_size // 2)


def _wav_data_size(path: Path) -> None:
    _flip(path, 41, 0x01)  # the second byte of the data chunk's size: 256 bytes (128 samples) more or fewer


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


# what is damaged (a glob under the cache), how, and which other caches are removed so that it must be read
CASES: dict[str, tuple[str, Callable[[Path], None], tuple[str, ...]]] = {
    "a speech sample": ("speech/*/*.wav", _middle, ("frames/*/*.mp3f",)),
    "a speech header's data size": ("speech/*/*.wav", _wav_data_size, ("frames/*/*.mp3f",)),
    "a cluster's frames": ("frames/*/*.mp3f", _middle, ("speech/*/*.wav",)),
    "a cluster's first frame": ("frames/*/*.mp3f", lambda p: _flip(p, 4, 0x01), ("speech/*/*.wav",)),
    "the encoder's stock": ("frames/stock-*.mp3", _middle, ()),
    "the encoder's libraries": ("frames/libraries-*.json", lambda p: _flip(p, 3, 0x01), ()),
    "a truncated cover": ("covers/*.jpg", _truncate, ()),
    "a damaged cover": ("covers/*.jpg", _middle, ()),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_damaged_cache_entry_is_made_again_and_the_track_is_the_same(
        case: str, reference: tuple[Path, dict[str, bytes]], tmp_path: Path) -> None:
    folder, expected = reference
    project = tmp_path / "project"
    shutil.copytree(folder, project)
    shutil.rmtree(project / "output")
    cache = project / ".cache" / "cuecoach"
    pattern, damage, removed = CASES[case]
    victims = sorted(cache.glob(pattern))
    assert victims, f"no cache entry matches {pattern}"
    before = {victim: victim.read_bytes() for victim in victims}
    for victim in victims:
        damage(victim)
    for other in removed:
        for entry in cache.glob(other):
            entry.unlink()
    run_cli("build", "short", cwd=project)
    for name in OUTPUTS:
        assert (project / "output" / name).read_bytes() == expected[name], f"{name} differs after {case}"
    remade = [victim for victim in victims if victim.exists() and victim.read_bytes() == before[victim]]
    assert remade, f"no damaged entry of {pattern} was made again"
    assert run_cli("verify", "short", cwd=project).returncode == 0


@pytest.mark.skipif(sys.platform != "linux", reason="pids in temp names are checked with kill(0)")
def test_part_files_of_a_killed_build_in_the_cache_are_removed_by_the_next_build(
        reference: tuple[Path, dict[str, bytes]], tmp_path: Path) -> None:
    folder, _ = reference
    project = tmp_path / "project"
    shutil.copytree(folder, project)
    cache = project / ".cache" / "cuecoach"
    dead = subprocess.Popen(["true"])
    dead.wait()
    clip = sorted(cache.glob("speech/*/*.wav"))[0]
    stale = [cache / "frames" / f".stock-2-0123456789abcdef.mp3.{dead.pid}-a1b2c3.part",
             clip.parent / f".{clip.name}.{dead.pid}-zz.part",
             cache / "covers" / f".cover-0123.jpg.{dead.pid}-q.part"]
    alive = cache / "frames" / ".stock-2-0123456789abcdef.mp3.1-a1b2c3.part"  # pid 1 never dies
    for part in [*stale, alive]:
        part.write_bytes(b"half an entry")
    run_cli("build", "short", "--force", cwd=project)
    assert [part for part in stale if part.exists()] == []
    assert alive.exists()
