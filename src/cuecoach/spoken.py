"""Text for the ear: numbers and symbols spelled out, durations in words, speaking-time estimates."""

from __future__ import annotations

import re

from num2words import num2words


def number_words(n: int) -> str:
    """A whole number in words: 45 -> 'forty-five', 120 -> 'one hundred and twenty'."""
    return num2words(n)


_SYMBOLS = [
    (re.compile(r"(\d)\s*°"), r"\1 degree"),
    (re.compile(r"°"), " degrees"),
    (re.compile(r"\bw/\s*", re.I), "with "),
    (re.compile(r"&"), " and "),
    (re.compile(r"(\d)\s*%"), r"\1 percent"),
    (re.compile(r"\+"), " plus "),
    (re.compile(r"[*_#~`|<>\[\]{}\\^]"), " "),
]
_NUM = r"\d+(?:\.\d+)?"
_RANGE = re.compile(rf"({_NUM})\s*[-\u2013\u2014]\s*({_NUM})")  # 2-3, 20–30: "two to three"
_TIMES = re.compile(rf"({_NUM})(?:\s*[-\u2013\u2014]\s*({_NUM}))?\s*[x\u00d7](?![a-z\d])", re.I)  # 10x, 3 × : "ten times"
_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.I)  # 1st, 2nd: "first", "second"
_NUMBER = re.compile(_NUM)
_GLUED = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_LONGEST_NUMBER = 6  # longer digit strings (a code, a phone number) are read digit by digit


def _say_number(text: str) -> str:
    whole, _, fraction = text.partition(".")
    if len(whole) > _LONGEST_NUMBER:
        return " ".join(num2words(int(digit)) for digit in text if digit != ".")
    return num2words(float(text)) if fraction else num2words(int(whole))


def _say_range(low: str, high: str | None) -> str:
    return _say_number(low) + (f" to {_say_number(high)}" if high else "")


def spoken(text: str) -> str:
    """The text as it should be said: numbers, ranges, multipliers and symbols in words, white space folded."""
    for pattern, replacement in _SYMBOLS:
        text = pattern.sub(replacement, text)
    text = _ORDINAL.sub(lambda m: num2words(int(m.group(1)), to="ordinal"), text)
    text = _TIMES.sub(lambda m: f"{_say_range(m.group(1), m.group(2))} times", text)
    text = _GLUED.sub(" ", text)  # "x10", "week1": the number is a word of its own
    text = _RANGE.sub(lambda m: _say_range(m.group(1), m.group(2)), text)
    text = _NUMBER.sub(lambda m: _say_number(m.group(0)), text)
    return " ".join(text.split())


def has_words(text: str) -> bool:
    """Whether anything is left to say once the text is spoken out."""
    return any(ch.isalpha() for ch in spoken(text))


def duration_words(seconds: float) -> str:
    """60 -> 'one minute', 45 -> 'forty-five seconds', 90 -> 'ninety seconds'."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return "one minute" if minutes == 1 else f"{number_words(minutes)} minutes"
    if seconds == int(seconds):
        return f"{number_words(int(seconds))} seconds"
    return f"{spoken(f'{seconds:g}')} seconds"


def join_words(items: list[str]) -> str:
    """['a mat', 'a block', 'a foam roller'] -> 'a mat, a block and a foam roller'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# Speaking time is estimated from the text so that `plan` needs no synthesis. The model
# was fitted on espeak-ng (en-us, 160 words a minute): about 62 ms a letter, 28 ms a word,
# 560 ms between sentences and 330 ms at a comma, then made generous by 10 % and 400 ms
# (over the program's 677 lines, real speech came to 0.83 of the estimate on average and
# 0.95 at most). Other rates scale it, by a power
# measured at 120 to 250 words a minute. The build
# checks every real clip against its slot and fails if one overruns.
_SENTENCE_BREAK = re.compile(r"[.!?:;](?=\s)")


def estimate_ms(text: str, rate: int) -> int:
    """A generous estimate of how long `text` takes to say at `rate` words a minute, in ms."""
    letters = sum(1 for ch in text if ch.isalnum())
    ms = 400 + 62 * letters + 28 * len(text.split()) + 560 * len(_SENTENCE_BREAK.findall(text)) + 330 * text.count(",")
    ms *= 1.1 * (160 / rate) ** (1.05 if rate < 160 else 0.85)  # measured: speech slows less than the rate
    return int(-(-ms // 10) * 10)  # round up to 10 ms
