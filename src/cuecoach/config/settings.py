"""Every key of the routine files, declared once: its name, its kind of value with that kind's limits, its default
and one line of doc.

Everything else comes from these tables: reading and checking a file (``validate.py`` reads each key by its
kind), the defaults of ``Program`` (``schema.py``), and the reference of every key (``reference.py`` writes
``docs/reference.md``). A table lists its keys in the order a message lists them ("allowed: ..."). The library's
entries and a day's entries share one declaration of the spoken fields they have in common (``SPOKEN``) and of
the timing (``TIMING``). In the manner of mkdocs's ``config/defaults.py``; the kinds are in ``options.py``.
"""

from __future__ import annotations

import re

from cuecoach.config.options import (
    REQUIRED,
    Choice,
    Flag,
    Group,
    Lufs,
    Number,
    Phrase,
    Setting,
    Spoken,
    SpokenLines,
    Structured,
    Text,
)

MAX_BLOCK_S = 600  # ten minutes: longer is a typo for a follow-along routine
MIN_BLOCK_S = 5  # room for the start tone and the three-two-one countdown
MAX_SETS = 20
MAX_REPS = 50  # repetitions in one block: more is a typo for strength work at a tempo
# a tempo: one rep's seconds (4), or its phases' joined by hyphens (down, hold, up: 3-1-1), up to four phases
TEMPO = re.compile(r"\d{1,2}(\.\d)?(-\d{1,2}(\.\d)?){0,3}")
MAX_MOVE_S = 60  # quiet time to move: longer is a typo
MAX_GAP_S = 120  # a gap of the series: longer is a typo
MAX_ROUTINE_S = 3 * 3600  # a day's timed blocks together
MIN_RATE, MAX_RATE = 80, 400  # the speaking rates program.yaml accepts, in words a minute
MIN_LUFS, MAX_LUFS = -30, -10  # the loudness targets program.yaml accepts
STEREO_LUFS = -16  # the target of players that expect stereo, which a message offers beside the default
MIN_YEAR, MAX_YEAR = 1900, 2200
MAX_WEEK = 52
# music under the voice, in LU under the speech: a comfortable bed between lines (about 8 to 10 LU under,
# never closer than 6), and ducked under a line or tone at least 10 LU (Torcoli et al., JAES 2019)
MIN_MUSIC_LU, MAX_MUSIC_LU = 6, 12
MIN_DUCK_LU, MAX_DUCK_LU = 10, 30
# 20 by default (WCAG G56): lines differ from one another, and the bed swells and falls with its chords, so that
# at 18 the quietest line over the loudest moment of the bed measured 13.8 LU apart over 42 days; at 20, over 15
DEFAULT_DUCK_LU = 20
# 9 by default: with each gap evened out (music.evened), the gaps between lines measured 7.5 to 9.2 LU under the
# speech over 42 days (scripts/measure_music.py)
DEFAULT_MUSIC_LU = 9

ENGINES = ("pyttsx3", "piper")
LEAD_INS = ("count", "pips", "none")  # before every start: the countdown words, the pip sound, or nothing
COUNT_OUTS = ("count", "pips", "none")  # before every stop tone: the countdown words, the pips, or nothing
REP_COUNTS = ("count", "pips")  # as each rep but the last ends: its number said, or a pip
INSTRUCTIONS = ("auto", "full")  # auto: full setup the first time, a reminder later; full: always in full
BITRATE = re.compile(r"(32|40|48|56|64|80|96|112|128|160|192|224|256|320)k")  # constant MP3 rates
MUSIC = Structured("none, default, or a list of audio files", "files in the routines folder (or below it) "
                   "that ffmpeg reads, played in order and looped")
IMAGE = re.compile(r".*\.(jpg|jpeg|png)", re.IGNORECASE)

BLOCK = Number(MIN_BLOCK_S, MAX_BLOCK_S, example=30)
QUIET = Number(0, MAX_MOVE_S, example=8)  # a quiet time to move
SIDES = SpokenLines(2, noun="side", verb="names", fix="give two, the first side first, like [left leg, right leg]")

# --- program.yaml: the series ------------------------------------------------------------------

GAPS = (
    Setting("get_ready", Number(1, MAX_GAP_S, example=5), "quiet time to get into position, from \"get ready\" "
            "to the lead-in (an exercise's setup_time replaces it)", REQUIRED),
    Setting("switch_sides", Number(1, MAX_GAP_S, example=5), "quiet time to move between sides, after the last "
            "word and before the lead-in (an exercise's switch_time replaces it)", REQUIRED),
    Setting("transition", Number(1, MAX_GAP_S, example=5), "from the stop tone of one exercise to the "
            "announcement of the next", REQUIRED),
    Setting("rest", Number(1, MAX_GAP_S, example=5), "rest between sets, stop tone to start tone, when an "
            "exercise gives none", REQUIRED),
)

PLACE = ("day", "days", "week")  # where the runner is in the series: day {day} of {days}, in week {week}

# The phrases a program must give, then those it may leave out: their short forms are said once a runner
# knows them, on a week's later days.
PHRASES = (
    Setting("welcome", Phrase(("series", "title", *PLACE)), "opens the day", REQUIRED),
    Setting("length", Phrase(("length",)), "how long the day takes ({length}: \"fifteen minutes\")", REQUIRED),
    Setting("equipment", Phrase(("equipment",)), "what the day needs", REQUIRED),
    Setting("safety", Phrase(), "the safety line", REQUIRED),
    Setting("begin", Phrase(), "said before the first exercise", REQUIRED),
    Setting("announce", Phrase(("number", "count", "name", "duration")), "names each exercise before it",
            REQUIRED),
    Setting("get_ready", Phrase(), "said before the quiet time to get into position", REQUIRED),
    Setting("halfway", Phrase(), "said halfway through a long block", REQUIRED),
    Setting("ten_seconds_left", Phrase(), "said ten seconds before a long block ends", REQUIRED),
    Setting("switch_sides", Phrase(), "said between sides, unless the exercise has its own switch", REQUIRED),
    Setting("rest", Phrase(("length",)), "starts a rest between sets", REQUIRED),
    Setting("next_set", Phrase(("set", "sets")), "said before each later set", REQUIRED),
    Setting("next_exercise", Phrase(("name",)), "said after an exercise (the announcement names the next)",
            REQUIRED),
    Setting("closing", Phrase(PLACE), "the day's last words", REQUIRED),
    Setting("countdown", SpokenLines(3, fix="give three (for 3, 2, 1), like [Three., Two., One.]"),
            "the three words before every start tone (lead_in: count)", REQUIRED),
    Setting("welcome_short", Phrase(("series", "title", "length", *PLACE)), "opens a week's later days",
            "{title}, about {length}."),
    Setting("equipment_short", Phrase(("equipment",)), "what the day needs, on a week's later days",
            "You need {equipment}."),
    Setting("safety_short", Phrase(), "the safety line on a week's later days", "Stop on any sharp pain."),
    Setting("side_first", Phrase(("side",)), "names the first side, before it starts", "Start with your {side}."),
    Setting("side_next", Phrase(("side",)), "names the second side, after the switch", "Now your {side}."),
    Setting("welcome_first", Phrase(("series", "title", *PLACE)), "opens the series' first day",
            "Welcome to {series}, day one of {days}. {title}."),
    Setting("closing_week", Phrase(PLACE), "the last words of a week's last day",
            "That's week {week} done. Well done. Take a moment before you get up."),
    Setting("closing_series", Phrase(PLACE), "the last words of the series' last day",
            "That's day {day} of {days}, and the series is done. Well done."),
    Setting("breathing", Phrase(), "breathing reminders, said in turn to keep a long hold company",
            ("Breathe slowly.", "Long breath out.", "Keep breathing.", "Let the breath settle.",
             "Soft breath in, slow breath out.")),
    Setting("encouragement", Phrase(), "encouragement, said in turn to keep a long hold company",
            ("You're doing well.", "Stay with it.", "Nice and steady.", "Good, just like that.",
             "Easy and controlled.", "That's the way.")),
    Setting("time_left", Phrase(("left",)), "a time call that keeps a long hold company, said when {left} is "
            "left (\"twenty seconds\")", ("{left} to go.", "{left} left.", "Just {left} more.")),
)

PROGRAM = (
    Setting("title", Text(), "the series: the album tag and the podcast's name, said in the welcome", REQUIRED),
    Setting("author", Text(), "who made the series: the MP3s' artist and the podcast's author", "cuecoach"),
    Setting("artist", Text(), "the older name of author, still read when author is not given",
            alias_of="author"),
    Setting("year", Number(MIN_YEAR, MAX_YEAR, integer=True, example=2026), "the year tag"),
    Setting("genre", Text(), "the genre tag", "Fitness"),
    Setting("cover", Text(IMAGE, "give a .jpg or .png image, relative to the routines folder",
                          "a .jpg or .png file", blank=True),
            "an image in the routines folder: the cover of the MP3s and the podcast"),
    Setting("voice", Text(blank=True), "part of a voice's id or name (cuecoach voices lists them)",
            fallback="the engine's default voice"),
    Setting("rate", Number(MIN_RATE, MAX_RATE, integer=True), "speaking rate, in words a minute", 160),
    Setting("bitrate", Text(BITRATE, "use a constant MP3 rate such as 64k or 96k", "an MP3 rate, 32k to 320k"),
            "the MP3s' constant bit rate (mono speech)", "64k"),
    Setting("equipment", Structured("mapping of ids to spoken names", "ids of lowercase letters, digits and "
                                    "hyphens; at least one"),
            "the equipment exercises may use, and how to say it: mat: a mat", REQUIRED),
    Setting("gaps", Group(GAPS, "gap", "get_ready: 5"), "the series' quiet times, in seconds", REQUIRED),
    Setting("phrases", Group(PHRASES, "phrase", "begin: Let's begin."), "the words of every recurring phrase",
            REQUIRED),
    # A mono podcast's target (Apple, AES); a mono file on two earbuds plays 3 dB louder than stereo.
    Setting("loudness", Lufs(MIN_LUFS, MAX_LUFS, STEREO_LUFS), "what every track measures: -19 for mono "
            "podcasts, -16 for stereo-minded players", -19.0),
    Setting("engine", Choice(ENGINES, suggest=False), "speech engine: pyttsx3 (espeak-ng) or piper (a neural "
            "voice)", "pyttsx3"),
    Setting("lead_in", Choice(LEAD_INS), "before every start tone: count (the countdown words), pips (three "
            "short pips) or none", "count"),
    Setting("count_out", Choice(COUNT_OUTS), "before every stop tone: count (the countdown words), pips (three "
            "short pips) or none", "count"),
    Setting("rep_count", Choice(REP_COUNTS), "how a block of reps is counted as each rep but the last ends: "
            "count (one, two...) or pips (a short pip)", "count"),
    Setting("instruction", Choice(INSTRUCTIONS), "auto: an exercise's full setup the first time, its reminder "
            "later; full: always in full", "auto"),
    Setting("sides", SIDES, "how sides are named, first side first, unless an exercise names its own",
            ("left side", "right side")),
    Setting("music", MUSIC, "music under the voice: none, default (cuecoach's own calm bed), or audio files, "
            "played in order and looped", "none"),
    Setting("music_level", Number(MIN_MUSIC_LU, MAX_MUSIC_LU, integer=True), "how far the music sits under the "
            "speech between lines, in LU", DEFAULT_MUSIC_LU),
    Setting("music_duck", Number(MIN_DUCK_LU, MAX_DUCK_LU, integer=True), "how far the music sits under the "
            "speech while a line or a tone plays, in LU (at least music_level)", DEFAULT_DUCK_LU),
)

# --- exercises.yaml: the library, and what a day's entry may change ---------------------------------

TIMING = (
    Setting("work", BLOCK, "one block, in seconds; an exercise gives work, per_side, reps or reps_per_side"),
    Setting("per_side", BLOCK, "one block on each side, in seconds, with a switch between them"),
    Setting("reps", Number(1, MAX_REPS, integer=True, example=10), "one block of repetitions at the tempo, "
            "counted"),
    Setting("reps_per_side", Number(1, MAX_REPS, integer=True, example=8), "repetitions on each side at the "
            "tempo, with a switch between them"),
    Setting("tempo", Text(TEMPO, "give one rep's seconds, like 4, or its phases' joined by hyphens, like 3-1-1",
                          "seconds a rep (4), or its phases' (down, hold, up: 3-1-1), to a tenth, up to four"),
            "how long one rep takes, with reps or reps_per_side: the block lasts reps times the tempo"),
    Setting("sets", Number(1, MAX_SETS, integer=True, example=3), "how many times the blocks are done", 1),
    Setting("rest", Number(1, MAX_BLOCK_S, example=15), "rest between sets, in seconds", fallback="gaps.rest"),
)

# The spoken fields of a library entry, which a day's entry may replace for that day.
SPOKEN = (
    Setting("setup", SpokenLines(), "lines said before the timer starts (a day's own setup is said in full)",
            ()),
    Setting("reminder", Spoken(), "the short setup said instead, once the exercise is known",
            fallback="the first setup line"),
    Setting("cues", SpokenLines(), "form cues, spread over the work", ()),
    Setting("sides", SIDES, "how to name the two sides, first side first: [left leg, right leg]",
            fallback="program.yaml's sides"),
    Setting("side2_cues", SpokenLines(), "the second side's cues", fallback="the first cue only"),
    Setting("set_cues", SpokenLines(), "the cues of every other later set (2, 4...), so a set never repeats "
            "the set before it", fallback="the cues the set before did not say"),
    Setting("quiet", Flag(), "a hold to keep quiet: no lines are added to keep a long block company", False),
    Setting("switch", Spoken(), "what to say between sides", fallback="phrases.switch_sides"),
    Setting("switch_time", QUIET, "quiet time to move between sides, after the words",
            fallback="gaps.switch_sides"),
    Setting("setup_time", QUIET, "quiet time to get into position before the first side",
            fallback="gaps.get_ready"),
)

EXERCISE = (
    Setting("name", Spoken(), "the title, used for chapters and the timeline", REQUIRED),
    Setting("say", Spoken(), "how to say the name, when it differs from the title", fallback="the name"),
    Setting("equipment", Structured("list of equipment ids", "ids from program.yaml's equipment"),
            "what the exercise needs", ()),
    *SPOKEN,
    Setting("timing", Group(TIMING, "timing", "work: 30"), "how the exercise is timed: work, per_side, "
            "reps or reps_per_side (with a tempo), then sets and rest", REQUIRED),
)

# --- a day's file -------------------------------------------------------------------------------------

DAY = (
    Setting("title", Spoken(), "the day's title, said in the welcome", REQUIRED),
    Setting("week", Number(1, MAX_WEEK, integer=True, example=1), "the day's week; it must match the file's name",
            0, fallback="the file's name (weekW-dayD)"),
    Setting("day", Number(1, 7, integer=True, example=1), "the day of its week; it must match the file's name",
            0, fallback="the file's name (weekW-dayD)"),
    Setting("intro", Spoken(), "the day's opening line"),
    Setting("closing", Spoken(), "the day's last words, instead of the series' closing",
            fallback="phrases.closing (closing_week, closing_series on the last day of a week, of the series)"),
    Setting("quiet", Flag(), "a quiet day: no lines are added to keep long blocks company", False),
    Setting("music", MUSIC, "the day's music, instead of program.yaml's", fallback="program.yaml's music"),
    Setting("exercises", Structured("list of exercise ids, or mappings with id and the day's changes",
                                    "at least one; the timed blocks, and the whole day all told, under "
                                    f"{MAX_ROUTINE_S // 3600} hours"),
            "the day's exercises, in order", REQUIRED),
)

ITEM = (
    Setting("id", Structured("exercise id", "an id from exercises.yaml"), "the exercise", REQUIRED),
    *TIMING,
    *SPOKEN,
    Setting("instruction", Choice(("full",)), "full: the exercise's full setup, even once it is known",
            fallback="program.yaml's instruction"),
)
