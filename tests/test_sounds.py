"""The default sounds: start and stop told apart by ear, and an update that reaches old defaults only."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import numpy as np
from conftest import ROOT, repo_sounds
from listen import read_wav

from cuecoach.builder.verify import ncc


def make_sounds_module():
    spec = importlib.util.spec_from_file_location("make_sounds", ROOT / "sounds" / "make_sounds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_start_and_stop_differ_in_pitch_and_do_not_match_each_other() -> None:
    sounds = repo_sounds()
    start, stop = read_wav(sounds / "start.wav"), read_wav(sounds / "stop.wav")

    def pitch(x: np.ndarray) -> float:
        spectrum = np.abs(np.fft.rfft(x))
        return float(np.fft.rfftfreq(len(x), 1 / 44_100)[np.argmax(spectrum)])

    assert pitch(start) > 1.5 * pitch(stop)  # start high, stop low
    padded = np.concatenate([np.zeros(len(start)), stop, np.zeros(len(start))])
    assert ncc(padded, start).max() < 0.5  # verify could never take one for the other


def test_an_update_replaces_old_defaults_and_missing_files_but_keeps_your_own(tmp_path: Path, monkeypatch) -> None:
    sounds = make_sounds_module()
    (tmp_path / "start.wav").write_bytes(b"an old default start")
    (tmp_path / "stop.wav").write_bytes(b"a coach's own stop")
    old = hashlib.sha256(b"an old default start").hexdigest()
    monkeypatch.setitem(sounds.OLD_DEFAULTS, "start", {old})
    monkeypatch.setattr(sys, "argv", ["make_sounds.py", "--out", str(tmp_path)])
    sounds.main()
    assert (tmp_path / "start.wav").read_bytes() == (repo_sounds() / "start.wav").read_bytes()
    assert (tmp_path / "stop.wav").read_bytes() == b"a coach's own stop"
    assert {p.name for p in tmp_path.glob("*.wav")} == {"start.wav", "stop.wav", "pip.wav", "finish.wav"}
