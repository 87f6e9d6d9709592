"""Variety without surprise: which of a phrase's alternatives a line says.

Contract: a ``Chooser`` takes a phrase's alternatives in turn, so no alternative comes back before the others
have been said (within ``len(alternatives) - 1`` uses), starting at a place set by the day's id and the
phrase's key. Pure and deterministic: the same day always says the same words, so a rebuild reuses its
clips, while two days start their turns at different places. A hash of the text (crc32), not Python's
``hash``, which changes from run to run.
"""

from __future__ import annotations

import zlib
from typing import TypeVar

T = TypeVar("T")


class Chooser:
    """The alternatives of each phrase, taken in turn through one day."""

    def __init__(self, seed: str):
        self.seed = seed  # the day's id: where each phrase starts its turns
        self.used: dict[str, int] = {}  # how many times each key has been said so far

    def pick(self, key: str, alternatives: tuple[T, ...]) -> T:
        """The next alternative of `key` (the only one, for a phrase without alternatives)."""
        count = self.used.get(key, 0)
        self.used[key] = count + 1
        if len(alternatives) == 1:
            return alternatives[0]
        start = zlib.crc32(f"{self.seed}/{key}".encode()) % len(alternatives)
        return alternatives[(start + count) % len(alternatives)]

    def peek(self, key: str, alternatives: tuple[T, ...]) -> T:
        """The alternative `pick` would give next, without taking it."""
        count = self.used.get(key, 0)
        start = zlib.crc32(f"{self.seed}/{key}".encode()) % len(alternatives)
        return alternatives[(start + count) % len(alternatives)]
