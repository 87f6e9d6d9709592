"""Tracks joined from encoded frames: the frame format (fast, pure), and the real thing held against the
rendered PCM and against a whole-track encode (real engine, real ffmpeg, mp3val, Chromium)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
from listen import RATE, decode

from cuecoach import system
from cuecoach.audio import assemble, encoder, framecache, mp3
from cuecoach.audio.render import render
from cuecoach.builder.job import leveled_clips, prepare, read_sounds, tones
from cuecoach.config.load import Days, load_series_or_raise
from cuecoach.config.project import Project

SAMPLES = mp3.SAMPLES_PER_FRAME


# -- the frame format, pure -------------------------------------------------------------

def frame(padded: bool, loud: bool = False) -> bytes:
    """A 64 kbit/s mono frame: silent (no spectrum) or not, by its side information."""
    head = bytes([0xFF, 0xFB, 0x52 if padded else 0x50, 0xC4])
    side = bytearray(mp3.SIDE_INFO)
    if loud:
        side[2] = 0x3F  # part2_3_length of the first granule becomes non-zero
    return head + bytes(side) + bytes((209 if padded else 208) - 4 - mp3.SIDE_INFO)


def test_frames_are_split_and_a_cut_stream_is_refused() -> None:
    stream = frame(False) + frame(True, loud=True) + frame(True)
    assert [len(f) for f in mp3.split(stream)] == [208, 209, 209]
    assert [mp3.is_silent(f) for f in mp3.split(stream)] == [True, False, True]
    with pytest.raises(mp3.FrameError):
        mp3.split(stream[:-1])
    with pytest.raises(mp3.FrameError):
        mp3.split(b"\0" + stream)


def test_crc16_is_lames_crc_however_long_the_data() -> None:
    def slow(data: bytes) -> int:
        crc = 0
        for byte in data:
            crc ^= byte
            for _ in range(8):
                crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        return crc

    rng = np.random.default_rng(7)
    for size in (0, 1, 255, 256, 257, 5000, 70_001):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        assert mp3.crc16(data) == slow(data), size
    assert mp3.crc16(b"123456789") == 0xBB3D  # CRC-16/ARC check value


def test_the_info_frame_counts_frames_bytes_delay_and_padding() -> None:
    template = bytearray(frame(False))
    template[mp3.XING_AT:mp3.XING_AT + 4] = b"Info"
    template[mp3.LAME_AT:mp3.LAME_AT + 9] = b"Lavc59.37"
    frames = [frame(i % 50 != 0, loud=i % 3 == 0) for i in range(40)]
    n_samples = 40 * SAMPLES - mp3.DELAY - 100
    info = mp3.info_frame(bytes(template), frames, n_samples)
    read = mp3.read_info(info)
    assert read["frames"] == 40 and read["bytes"] == len(info) + sum(map(len, frames))
    assert (read["delay"], read["padding"]) == (mp3.ENCODER_DELAY, 40 * SAMPLES - mp3.ENCODER_DELAY - n_samples)
    assert read["music_crc"] == mp3.crc16(b"".join(frames))
    zeroed = info[:mp3.LAME_AT + 34] + b"\0\0" + info[mp3.LAME_AT + 36:mp3.TAG_CRC_SPAN]
    assert read["tag_crc"] == mp3.crc16(zeroed)
    assert mp3.frame_count(n_samples) == 40
    with pytest.raises(mp3.FrameError):  # too few frames to decode that many samples
        mp3.info_frame(bytes(template), frames, n_samples + 200)


def test_sounds_closer_than_their_reach_are_encoded_together() -> None:
    far, near = 44_100 * 3, 44_100 * 3 + 4410 + 441
    groups = assemble.clusters([(far, "tone", 4410), (0, "tone", 4410), (near, "line", 8820)])
    assert [g.start for g in groups] == [0, far]
    assert groups[1].parts == ((0, "tone", 4410), (near - far, "line", 8820))
    assert groups[1].length == near - far + 8820
    assert groups[1].phase == (far + mp3.DELAY) % SAMPLES


def test_a_cluster_is_keyed_by_its_sound_and_its_phase() -> None:
    key = assemble.Cluster(441, ((0, "tone", 441),)).key("enc")
    assert key == assemble.Cluster(441 + SAMPLES, ((0, "tone", 441),)).key("enc")  # same phase, a frame later
    assert key != assemble.Cluster(882, ((0, "tone", 441),)).key("enc")  # another phase
    assert key != assemble.Cluster(441, ((0, "other tone", 441),)).key("enc")
    assert key != assemble.Cluster(441, ((0, "tone", 441),)).key("another encoder")


def test_another_libmp3lame_under_the_same_ffmpeg_is_another_encoder(tmp_path: Path, monkeypatch) -> None:
    """The real ffmpeg and loader: a copy of the libmp3lame it loads, found first (LD_LIBRARY_PATH), is another
    encoder, and so is that copy replaced in place (another time); each keys a cluster apart. The loader is
    asked once, and a damaged answer again; after that the identity is read from the cache, running nothing."""
    cache = tmp_path / "cache"
    lame = next((lib for lib in encoder.encoder_libraries(system.ffmpeg(), cache) if "libmp3lame" in lib), None)
    if lame is None:
        pytest.skip("this ffmpeg has LAME built in: its binary alone names the encoder")
    copy = tmp_path / "lib" / Path(lame).name
    copy.parent.mkdir()
    shutil.copy(lame, copy)
    stock = encoder.encoder_id("64k", cache)
    monkeypatch.setenv("LD_LIBRARY_PATH", str(copy.parent))
    copied = encoder.encoder_id("64k", cache)
    assert str(copy.resolve()) in copied and os.path.realpath(lame) not in copied
    os.utime(copy, ns=(0, 0))
    replaced = encoder.encoder_id("64k", cache)
    cluster = assemble.Cluster(441, ((0, "tone", 441),))
    assert len({cluster.key(identity) for identity in (stock, copied, replaced)}) == 3
    for entry in (cache / "frames").glob("libraries-*.json"):
        entry.write_text('["/lib/libmp3lame.so.0", ')
    assert encoder.encoder_id("64k", cache) == replaced

    def nothing_runs(*args, **kwargs):
        raise AssertionError(f"ran {args[0]}")

    monkeypatch.setattr(system, "run", nothing_runs)
    assert encoder.encoder_id("64k", cache) == replaced


def test_joined_silence_keeps_the_constant_byte_rate() -> None:
    stock = encoder.Stock((frame(False), frame(True)), b"", 144_000 * 64 / 44_100)
    frames, crcs = assemble.join([], 44_100 * 60, stock)
    assert len(frames) == mp3.frame_count(44_100 * 60)
    assert mp3.joined_crc(frames, crcs) == mp3.crc16(b"".join(frames))
    total = sum(map(len, frames))
    assert abs(total - len(frames) * stock.bytes_per_frame) < 1


def test_a_truncated_frame_cache_entry_is_made_again(tmp_path: Path) -> None:
    cache = framecache.FrameCache(tmp_path)
    frames = (frame(True, loud=True), frame(False))
    cache.put("ab12", framecache.Encoded(-1, frames, tuple(mp3.frame_crcs(list(frames)))))
    assert cache.get("ab12") == framecache.Encoded(-1, frames, (mp3.crc16(frames[0]), mp3.crc16(frames[1])))
    path = cache.path("ab12")
    path.write_bytes(path.read_bytes()[:-10])
    assert cache.get("ab12") is None and not path.exists()


# -- the real thing ---------------------------------------------------------------------

def _voiced(seed: int, n: int) -> bytes:
    """A voiced sound (harmonics of a low pitch, swelling and fading): what LAME's models react to in speech."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    pitch = 120 + 40 * rng.random()
    x = sum(np.sin(2 * np.pi * pitch * k * t + 6 * rng.random()) / k for k in range(1, 20))
    envelope = np.sin(np.pi * np.arange(n) / n) ** 2 * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return (x / np.abs(x).max() * envelope * 12_000).astype("<i2").tobytes()


def test_a_clusters_frames_do_not_depend_on_what_else_its_batch_encodes() -> None:
    """Real ffmpeg: the same cluster, encoded alone and among others in any order, gives the same bytes,
    so a day built alone and in a batch is byte-identical."""
    pcm = {f"s{i}": _voiced(i, 30_000 + 7_000 * i) for i in range(4)}
    cluster = {name: assemble.Cluster(441 * (17 + i), ((0, name, len(data) // 2),))
               for i, (name, data) in enumerate(pcm.items())}
    (alone,) = assemble.encode_batch([cluster["s2"]], "64k", "test", pcm.__getitem__)
    assert len(alone.frames) > 20
    for order in (["s0", "s1", "s2", "s3"], ["s3", "s2"], ["s1", "s0", "s2"]):
        encoded = assemble.encode_batch([cluster[name] for name in order], "64k", "test", pcm.__getitem__)
        assert encoded[order.index("s2")] == alone, order


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The short routine built both ways from one speech cache, and the PCM they were rendered from."""
    from conftest import copy_project

    folder = copy_project("project", tmp_path_factory.mktemp("both") / "project")
    run_cli("build", "short", cwd=folder)
    run_cli("build", "short", "--encode", "whole", "--output", "whole", cwd=folder)
    project = Project.at(folder)
    days = Days(project, load_series_or_raise(project))
    sounds = read_sounds(project, days.series.program)
    job = prepare(days, "short", sounds)
    pcm = render(job.script, leveled_clips(job), tones(sounds, job.settings.loudness))
    return {"folder": folder, "rendered": np.frombuffer(bytes(pcm), dtype="<i2").astype(np.float64) / 32768.0,
            "frames": folder / "output" / "short.mp3", "whole": folder / "whole" / "short.mp3",
            "timeline": json.loads((folder / "output" / "short.json").read_text())}


def snr_db(reference: np.ndarray, decoded: np.ndarray) -> float:
    assert len(decoded) == len(reference)
    return float(10 * np.log10(np.sum(reference ** 2) / np.sum((reference - decoded) ** 2)))


@pytest.mark.slow
def test_an_assembled_track_matches_the_rendered_pcm_as_well_as_a_whole_encode(both: dict) -> None:
    assembled, whole = decode(both["frames"]), decode(both["whole"])
    # both decode to exactly the timeline's length: the Info frame's delay and padding are right
    assert len(assembled) == len(whole) == len(both["rendered"])
    ours, reference = snr_db(both["rendered"], assembled), snr_db(both["rendered"], whole)
    assert ours > reference - 1.0, (ours, reference)
    assert ours > 10  # and both are really the same sound, in the same place


@pytest.mark.slow
def test_every_silence_decodes_to_digital_silence(both: dict) -> None:
    """Away from the sounds (their frames, and the frame after, where the filter banks ring out), every
    sample is exactly zero: silent frames join silently."""
    rendered, decoded = both["rendered"], decode(both["frames"])
    loud = np.flatnonzero(rendered)
    near = np.zeros(len(rendered) + 1, dtype=int)
    reach = 3 * SAMPLES  # a frame either side of the frames a sound's samples fall in
    starts = loud[np.r_[True, np.diff(loud) > 1]]
    ends = loud[np.r_[np.diff(loud) > 1, True]]
    for start, end in zip(starts, ends, strict=True):
        near[max(0, start - reach)] += 1
        near[min(len(rendered), end + reach)] -= 1
    quiet = np.cumsum(near)[:-1] == 0
    assert quiet.sum() > RATE * 20  # the short routine is mostly waiting: this checks a lot of samples
    assert np.count_nonzero(decoded[quiet]) == 0


@pytest.mark.slow
def test_the_assembled_track_passes_ffmpeg_and_mp3val_and_its_header_is_right(both: dict) -> None:
    errors = subprocess.run(["ffmpeg", "-v", "error", "-i", str(both["frames"]), "-f", "null", "-"],
                            capture_output=True, text=True)
    assert errors.returncode == 0 and errors.stderr == ""
    checked = subprocess.run(["mp3val", str(both["frames"])], capture_output=True, text=True)
    assert "WARNING" not in checked.stdout and "ERROR" not in checked.stdout, checked.stdout
    data = both["frames"].read_bytes()
    # after the ID3 tag (its size: four bytes of seven bits each): the Info frame
    tag = 10 + sum(b << shift for b, shift in zip(data[6:10], (21, 14, 7, 0), strict=True))
    head = mp3.header(data, tag)
    frames = mp3.split(data[tag:])
    info = mp3.read_info(frames[0])
    samples = len(both["rendered"])
    assert info["frames"] == len(frames) - 1 == mp3.frame_count(samples)
    assert info["bytes"] == len(data) - tag and head.mono and head.bitrate == 64
    assert info["frames"] * SAMPLES - info["delay"] - info["padding"] == samples
    assert info["music_crc"] == mp3.crc16(b"".join(frames[1:]))


@pytest.mark.slow
def test_a_truncated_or_replaced_mp3_is_rebuilt_by_a_plain_build(project: Path) -> None:
    run_cli("build", "short", cwd=project)
    target = project / "output" / "short.mp3"
    whole = target.read_bytes()
    target.write_bytes(whole[: len(whole) // 2])
    done = run_cli("build", "short", cwd=project)
    assert "built short" in done.stderr and target.read_bytes() == whole
    target.write_bytes(whole[:-3000] + bytes(3000))  # same size, another ending
    done = run_cli("build", "short", cwd=project)
    assert "built short" in done.stderr and target.read_bytes() == whole
    done = run_cli("build", "short", cwd=project)
    assert "0 built, 1 skipped" in done.stderr


@pytest.mark.slow
def test_a_damaged_frame_cache_entry_is_encoded_again_and_the_track_comes_out_the_same(project: Path) -> None:
    run_cli("build", "short", cwd=project)
    target = project / "output" / "short.mp3"
    before = target.read_bytes()
    entries = sorted((project / ".cache" / "cuecoach" / "frames").rglob("*.mp3f"))
    assert len(entries) > 10
    entries[0].write_bytes(entries[0].read_bytes()[:-7])
    entries[1].write_bytes(b"garbage")
    run_cli("build", "short", "--force", cwd=project)
    # the same bytes: a cluster's frames do not depend on the batch it is encoded in (two clusters
    # alone this time), see test_a_clusters_frames_do_not_depend_on_what_else_its_batch_encodes
    assert target.read_bytes() == before
    assert framecache.FrameCache(project / ".cache" / "cuecoach").get(entries[0].stem) is not None


@pytest.mark.slow
def test_an_edit_that_changes_no_sound_rebuilds_nothing_and_is_then_known_at_a_glance(project: Path) -> None:
    run_cli("build", "short", cwd=project)
    routine = project / "routines" / "short.yaml"
    routine.write_text("# a comment changes the file, not the track\n" + routine.read_text())
    mp3 = (project / "output" / "short.mp3").read_bytes()
    done = run_cli("build", "short", cwd=project)
    assert "0 built, 1 skipped" in done.stderr and (project / "output" / "short.mp3").read_bytes() == mp3
    timeline = json.loads((project / "output" / "short.json").read_text())
    from cuecoach.builder.current import fast_check_common, source_key, unchanged

    common = fast_check_common(Project.at(project), ["short"], "frames", None)
    assert unchanged(project / "output" / "short.mp3", timeline, source_key(common, routine))


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.mark.slow
def test_chromium_decodes_the_assembled_track_to_the_timelines_length(both: dict) -> None:
    from playwright.sync_api import sync_playwright  # a test dependency (pyproject.toml)

    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    data = list(both["frames"].read_bytes())
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            seconds = page.evaluate(
                """async (bytes) => {
                    const context = new OfflineAudioContext(1, 44100, 44100);
                    const buffer = await context.decodeAudioData(new Uint8Array(bytes).buffer);
                    return buffer.length / buffer.sampleRate;
                }""", data)
        finally:
            browser.close()
    assert abs(seconds * 1000 - both["timeline"]["duration_ms"]) <= 5, seconds
