"""Text for the ear: numbers and symbols spelled out, durations in words, speaking-time estimates.

``as_said`` is the one normalisation of a line before it is spoken: the build and ``cuecoach say`` both use it,
so a line heard with ``say`` is the line a build speaks. Degrees, units of time, clock-style times and ranges
read as a person says them: "90°" is "ninety degrees", "30 s" "thirty seconds", "1:30" "one minute thirty",
"10-15 s" "ten to fifteen seconds".

Text is read as a person would read it aloud (``spoken``): web addresses and email addresses by their parts
("example dot com slash help", "coach at example dot com"), units after a number in words ("5 km":
"five kilometers"), common abbreviations in full ("e.g.": "for example"), markup and LRC timestamps left out.
The speech engine says exactly that text, and the length estimate counts it, so the two agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

from num2words import num2words


def number_words(n: int) -> str:
    """A whole number in words: 45 -> 'forty-five', 120 -> 'one hundred and twenty'."""
    return num2words(n)


# Read first, before the symbols they hold ('/', '.', '@') are read on their own.
_TAG = re.compile(r"</?[a-z][a-z0-9]*(?:\s[^<>]*)?/?>", re.I)  # <b>, </i>, <br/>: markup, not words
_LRC_TIME = re.compile(r"\[\d{1,3}:\d{2}(?:[.:]\d{1,3})?\]")  # [00:12.34]: a lyrics timestamp
_TLDS = "com|org|net|edu|gov|io|co|uk|us|ca|au|de|fr|app|info|dev|me|fit|health"
_EMAIL = re.compile(r"\b([\w.+-]+)@([\w-]+(?:\.[\w-]+)*\.[a-z]{2,})\b", re.I)
_URL = re.compile(rf"(?:\bhttps?://|\bwww\.|\b(?=[\w-]+(?:\.[\w-]+)*\.(?:{_TLDS})\b))"
                  rf"[\w-]+(?:\.[\w-]+)*(?:/[\w/.-]*[\w/])?", re.I)
_ABBREVIATIONS = [(re.compile(pattern, re.I), said) for pattern, said in (
    (r"\be\.g\.", "for example"), (r"\bi\.e\.", "that is"), (r"\betc\.", "et cetera"),
    (r"\bapprox\.", "about"), (r"\bvs\.?(?=\s)", "versus"))]
# units after a number, singular and plural (American spelling, like the default voice)
_UNIT_NAMES = {("km",): "kilometer", ("m",): "meter", ("cm",): "centimeter", ("mm",): "millimeter",
               ("mi",): "mile", ("kg",): "kilogram", ("g",): "gram", ("lb", "lbs"): "pound", ("oz",): "ounce",
               ("s", "sec", "secs"): "second", ("min", "mins"): "minute", ("h", "hr", "hrs"): "hour"}
_UNITS = {unit: name for units, name in _UNIT_NAMES.items() for unit in units}
_UNIT = re.compile(rf"(?<![\w.])([-\u2013]?)(\d+(?:\.\d+)?)(\s?)({'|'.join(sorted(_UNITS, key=len, reverse=True))})"
                   r"\b(?!\.\w)", re.I)


def _say_url(match: re.Match[str]) -> str:
    """A web address as a person reads it: no 'https://' or 'www.' (each 'w' is a 'double-u': three
    syllables the estimate does not foresee), '.' and '/' as words."""
    text = re.sub(r"^(?:https?://)?(?:www\.)?", "", match.group(0), flags=re.I)
    return text.replace(".", " dot ").replace("/", " slash ").replace("-", " dash ")


def _say_unit(match: re.Match[str]) -> str:
    """'5 km': 'five kilometers'; one of a unit is singular, unless it ends a range ('1-1 km' is rare)."""
    dash, number, space, unit = match.groups()
    if not space and len(number) > 3:  # "1990s" is a decade, "30s" a hold
        return match.group(0)
    name = _UNITS[unit.lower()]
    return f"{dash}{number} {name}{'' if number == '1' and not dash else 's'}"


def _read_as_said(text: str) -> str:
    """Markup, timestamps, addresses, abbreviations and units read out (see the module's doc)."""
    text = _LRC_TIME.sub(" ", _TAG.sub(" ", text))
    text = _EMAIL.sub(lambda m: f"{m.group(1).replace('.', ' dot ')} at {m.group(2).replace('.', ' dot ')}", text)
    text = _URL.sub(_say_url, text)
    for pattern, said in _ABBREVIATIONS:
        text = pattern.sub(said, text)
    return _UNIT.sub(_say_unit, text)


_SYMBOLS = [
    # before a noun it names ("a 90° bend", a title's "90° Squats"), a degree is an adjective: "ninety-degree"
    (re.compile(r"(?:^|(?<=\ban )|(?<=\ba ))(\d+)\s*°(?=\s+\w)", re.I), r"\1-degree"),
    (re.compile(r"(?<![\d.])1\s*°"), "1 degree"),
    (re.compile(r"(\d)\s*°"), r"\1 degrees"),
    (re.compile(r"°"), " degrees"),
    (re.compile(r"\bw/\s*", re.I), "with "),
    (re.compile(r"&"), " and "),
    (re.compile(r"(\d)\s*%"), r"\1 percent"),
    (re.compile(r"\+"), " plus "),
    (re.compile(r"[*_#~`|<>\[\]{}\\^]"), " "),
]
_NUM = r"\d+(?:\.\d+)?"
_RANGE = re.compile(rf"({_NUM})\s*[-\u2013\u2014]\s*({_NUM})")  # 2-3, 20–30: "two to three"
# 10x, 3 × : "ten times"
_TIMES = re.compile(rf"({_NUM})(?:\s*[-\u2013\u2014]\s*({_NUM}))?\s*[x\u00d7](?![a-z\d])", re.I)
_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.I)  # 1st, 2nd: "first", "second"
_NUMBER = re.compile(_NUM)
_GLUED = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
# 1:30 (a minute and a half), 0:45: minutes and seconds as a coach says them
_CLOCK = re.compile(r"\b(\d{1,2}):([0-5]\d)\b")
_SENTENCE_START = re.compile(r"(?<=[.!?] )[a-z]")  # a placeholder may begin a sentence: ". {duration}."
_LONGEST_NUMBER = 6  # longer digit strings (a code, a phone number) are read digit by digit


def _say_number(text: str) -> str:
    whole, _, fraction = text.partition(".")
    if len(whole) > _LONGEST_NUMBER:
        return " ".join(num2words(int(digit)) for digit in text if digit != ".")
    return num2words(float(text)) if fraction else num2words(int(whole))


def _say_range(low: str, high: str | None) -> str:
    return _say_number(low) + (f" to {_say_number(high)}" if high else "")


def _say_clock(minutes: str, seconds: str) -> str:
    """1:30 -> 'one minute thirty', 2:00 -> 'two minutes', 0:45 -> 'forty-five seconds'."""
    m, s = int(minutes), int(seconds)
    if m == 0:
        return f"{num2words(s)} second{'s' * (s != 1)}"
    said = f"{num2words(m)} minute{'s' * (m != 1)}"
    return said + (f" {num2words(s)}" if s else "")


@lru_cache(maxsize=8192)  # pure, and a build asks for the same few hundred lines thousands of times
def spoken(text: str) -> str:
    """The text as it should be said: addresses, units and abbreviations read out, numbers, ranges, multipliers
    and symbols in words, white space folded."""
    text = _read_as_said(text)
    for pattern, replacement in _SYMBOLS:
        text = pattern.sub(replacement, text)
    text = _CLOCK.sub(lambda m: _say_clock(m.group(1), m.group(2)), text)
    text = _ORDINAL.sub(lambda m: num2words(int(m.group(1)), to="ordinal"), text)
    text = _TIMES.sub(lambda m: f"{_say_range(m.group(1), m.group(2))} times", text)
    text = _GLUED.sub(" ", text)  # "x10", "week1": the number is a word of its own
    text = _RANGE.sub(lambda m: _say_range(m.group(1), m.group(2)), text)
    text = _NUMBER.sub(lambda m: _say_number(m.group(0)), text)
    return " ".join(text.split())


def as_said(text: str) -> str:
    """A line exactly as the build speaks it: spelled out, and each sentence with a capital first letter (a
    phrase may begin a sentence with a placeholder, "{number} of {count}")."""
    said = spoken(text)
    return _SENTENCE_START.sub(lambda m: m.group(0).upper(), said[:1].upper() + said[1:])


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
# was fitted on espeak-ng (en-us, at CALIBRATION_RATE): about 62 ms a letter, 28 ms a word,
# 560 ms between sentences and 330 ms at a comma, then made generous by 10 % and 400 ms
# (over the program's 677 lines, real speech came to 0.83 of the estimate on average and
# 0.95 at most). Other rates scale it, by a power
# measured at 120 to 250 words a minute. The build
# checks every real clip against its slot and fails if one overruns.
CALIBRATION_RATE = 160  # words a minute: the rate the models here (estimate_ms, EXPECTED_FIT) were fitted at
_SENTENCE_BREAK = re.compile(r"[.!?:;](?=\s)")


# A clip shorter than this share of its estimate is cut or sped up: over the program's 677 lines the
# shortest came to 0.43 of the estimate (pyttsx3 at 128 to 200 words a minute); Piper is held to the same.
LENGTH_LOW = {"pyttsx3": 0.38, "piper": 0.38}
# Piper (joe, its length scale set from the rate) spends its time differently from espeak (longer
# between sentences, shorter on short words): over the program's 677 lines at 160 words a minute its
# clips came to 0.42 to 0.94 of espeak's estimate (median 0.81); 8 % more on the words keeps a margin
# for the noise Piper samples on every call.
ENGINE_FACTOR = {"pyttsx3": 1.0, "piper": 1.08}  # on all but the fixed 400 ms


@lru_cache(maxsize=8192)  # pure, and asked for the same lines over and over (see spoken)
def estimate_ms(text: str, rate: int, engine: str = "pyttsx3") -> int:
    """A generous estimate of how long `text` takes to say at `rate` words a minute, in ms."""
    _, letters, words, breaks, commas = length_features(text)
    ms = 400 + ENGINE_FACTOR.get(engine, 1.0) * (62 * letters + 28 * words + 560 * breaks + 330 * commas)
    ms *= 1.1 * rate_scale(rate)
    return int(-(-ms // 10) * 10)  # round up to 10 ms


def length_features(text: str) -> tuple[int, int, int, int, int]:
    """What a line's speaking time grows with: (1, letters, words, sentence breaks, commas)."""
    return (1, sum(1 for ch in text if ch.isalnum()), len(text.split()), len(_SENTENCE_BREAK.findall(text)),
            text.count(","))


def rate_scale(rate: int) -> float:
    """How much longer speech at `rate` takes than at the calibration rate (measured: less than the ratio)."""
    return (CALIBRATION_RATE / rate) ** (1.05 if rate < CALIBRATION_RATE else 0.85)


# Central models (ms at the calibration rate, per feature of length_features), least-squares fits
# over the program's 677 lines (scripts/calibrate_speech.py): for the length check, not the plan.
EXPECTED_FIT = {"pyttsx3": (64.2, 66.2, 11.0, 561.7, 290.4), "piper": (-94.5, 65.2, 0.0, 713.4, 398.4)}
# share of the central model accepted; measured over the program: pyttsx3 0.81 to 1.55 at 160 words a minute,
# 0.74 to 1.56 from 120 to 220 (the fit scales less well away from 160); piper 0.78 to 3.8
LENGTH_TOLERANCE = {"pyttsx3": (0.7, 10.0), "piper": (0.7, 10.0)}


def expected_ms(text: str, rate: int, engine: str = "pyttsx3") -> float:
    """The central estimate of how long `text` takes at `rate` with `engine`, in ms."""
    fit = EXPECTED_FIT[engine]
    return sum(c * f for c, f in zip(fit, length_features(text), strict=True)) * rate_scale(rate)


def expected_range_ms(text: str, rate: int, engine: str = "pyttsx3") -> tuple[float, float]:
    """The shortest and longest a clip of `text` may last at `rate` and still be right: shorter is a lost
    rate or a cut file, longer a rate lost the other way. Never longer than the plan's estimate."""
    central = expected_ms(text, rate, engine)
    low, high = LENGTH_TOLERANCE[engine]
    limit = estimate_ms(text, rate, engine)
    return max(central * low, limit * LENGTH_LOW[engine]), min(central * high, float(limit))
