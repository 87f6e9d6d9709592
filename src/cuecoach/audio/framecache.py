"""The cache of encoded clusters: each cluster's MP3 frames on disk, read back whole or not at all.

An entry is ``<cache>/frames/ab/abcdef….mp3f``, named by the cluster's key (``assemble.Cluster.key``,
which holds ``FORMAT_VERSION``, so a new format never meets entries of the old one): a small head (the
format, the cluster's first frame, the frame count and a digest of those and the rest), each frame's size and
CRC-16, then the frames. Entries are written atomically without fsync: a truncated or corrupt one fails
its digest when read, is deleted, and reads as missing (it is encoded again).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

from cuecoach import system
from cuecoach.audio import mp3

CACHE_FORMAT = b"CCF6"  # part of every key: a new format never meets entries of the old one
HEAD = struct.Struct("<4siI16s")  # format, first frame, frame count, digest of the three and the rest
COUNTED = struct.Struct("<4siI")  # what of the head the digest covers
FORMAT_VERSION = f"frames-{CACHE_FORMAT.decode()}"


@dataclass(frozen=True)
class Encoded:
    """A cluster's frames, the first of them `first` frames after its anchor (usually -1)."""

    first: int
    frames: tuple[bytes, ...]
    crcs: tuple[int, ...]  # each frame's CRC-16, for the Info frame's CRC of the whole audio


def _digest(magic: bytes, first: int, count: int, rest: bytes | memoryview) -> bytes:
    """The entry's digest: of its head's fields (a changed first frame would shift the cluster) and the rest."""
    digest = hashlib.blake2b(COUNTED.pack(magic, first, count), digest_size=16)
    digest.update(rest)
    return digest.digest()


class FrameCache:
    """Encoded clusters on disk, ``<dir>/frames/ab/abcdef….mp3f``: a small header, then the frames."""

    def __init__(self, root: Path):
        self.root = Path(root) / "frames"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.mp3f"

    def get(self, key: str) -> Encoded | None:
        """The cluster's frames, or None; a truncated or corrupt entry is deleted and reported missing.
        Entry: the head, each frame's size (one byte over 200) and CRC, then the frames."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            magic, first, count, digest = HEAD.unpack_from(data)
            rest = memoryview(data)[HEAD.size:]
            if magic != CACHE_FORMAT or _digest(magic, first, count, rest) != digest:
                raise mp3.FrameError("bad checksum")
            sizes = [200 + size for size in rest[:count]]
            crcs = struct.unpack_from(f"<{count}H", rest, count)
            at = HEAD.size + 3 * count
            frames = []
            for size in sizes:
                frames.append(data[at:at + size])
                at += size
            if at != len(data):
                raise mp3.FrameError("wrong length")
            return Encoded(first, tuple(frames), crcs)
        except (struct.error, ValueError):
            path.unlink(missing_ok=True)
            return None

    def put(self, key: str, encoded: Encoded) -> None:
        n = len(encoded.frames)
        rest = b"".join([bytes(len(f) - 200 for f in encoded.frames), struct.pack(f"<{n}H", *encoded.crcs),
                         *encoded.frames])
        head = HEAD.pack(CACHE_FORMAT, encoded.first, n, _digest(CACHE_FORMAT, encoded.first, n, rest))
        system.write_atomic(self.path(key), head + rest, sync=False)

