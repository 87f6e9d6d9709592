from cuecoach.spoken import as_said, duration_words, estimate_ms, has_words, join_words, number_words, spoken


def test_number_words() -> None:
    assert [number_words(n) for n in (0, 7, 19, 20, 45, 90, 100, 120, 1005)] == [
        "zero", "seven", "nineteen", "twenty", "forty-five", "ninety", "one hundred", "one hundred and twenty",
        "one thousand and five"]


def test_spoken_spells_out_numbers_and_symbols() -> None:
    assert spoken("90° Squats") == "ninety-degree Squats"
    assert spoken("Bridge w/Block & hold 2.5 s") == "Bridge with Block and hold two point five seconds"
    assert spoken("  Week 1,   Day 1 ") == "Week one, Day one"


def test_has_words() -> None:
    assert has_words("Go") and not has_words("!! --- 🙂") and has_words("3")


def test_durations_and_lists_in_words() -> None:
    assert [duration_words(s) for s in (60, 45, 90, 120, 2.5)] == [
        "one minute", "forty-five seconds", "ninety seconds", "two minutes", "two point five seconds"]
    assert join_words(["a mat", "a block", "a foam roller"]) == "a mat, a block and a foam roller"


def test_estimate_grows_with_text_and_shrinks_with_rate() -> None:
    short, long = estimate_ms("Go.", 160), estimate_ms("Go slowly, and breathe. Stay long.", 160)
    assert 0 < short < long
    assert estimate_ms("Go slowly, and breathe.", 220) < estimate_ms("Go slowly, and breathe.", 160)
    assert estimate_ms("Go.", 160) % 10 == 0


def test_ranges_multipliers_and_ordinals_are_said_as_a_person_would() -> None:
    assert spoken("2-3 breaths") == "two to three breaths"
    assert spoken("Hold 20–30 seconds.") == "Hold twenty to thirty seconds."
    assert spoken("Do it 10x.") == "Do it ten times."
    assert spoken("3 x 10") == "three times ten"
    assert spoken("the 1st and 2nd side") == "the first and second side"
    assert spoken("1.5-2 s") == "one point five to two seconds"
    assert spoken("2-3x a week") == "two to three times a week"
    assert spoken("box 10") == "box ten" and spoken("x10") == "x ten"  # an x that is not a multiplier stays


def test_degrees_times_and_units_are_said_as_a_person_would() -> None:
    assert spoken("Bend your knees to 90°.") == "Bend your knees to ninety degrees."
    assert spoken("Lift it 1° more") == "Lift it 1 degree more".replace("1", "one")
    assert spoken("a 90° bend") == "a ninety-degree bend"
    assert spoken("Hold 30 s, then 10-15 sec more, 1 min in all.") == \
        "Hold thirty seconds, then ten to fifteen seconds more, one minute in all."
    assert spoken("1:30 to go") == "one minute thirty to go"
    assert spoken("0:45 left, 2:00 in all") == "forty-five seconds left, two minutes in all"
    assert as_said("{number} of {count}".format(number="one", count="two")) == "One of two"


def test_addresses_units_abbreviations_and_markup_are_read_as_a_person_would() -> None:
    assert spoken("Visit www.lowbackreset.com/help for more.") == \
        "Visit lowbackreset dot com slash help for more."
    assert spoken("Go to https://example.org/low-back now.") == "Go to example dot org slash low dash back now."
    assert spoken("Write to coach@lowbackreset.com.") == "Write to coach at lowbackreset dot com."
    assert spoken("Run 5 km, then 1 km easy; lift 10 kg for 30 s.") == \
        "Run five kilometers, then one kilometer easy; lift ten kilograms for thirty seconds."
    assert spoken("Rest 1-2 min, e.g. walk, i.e. slowly.") == \
        "Rest one to two minutes, for example walk, that is slowly."
    assert spoken("<b>Strong</b> Back") == "Strong Back"
    assert spoken("[00:12.34] Breathe in.") == "Breathe in."
    assert spoken("Stand tall.Breathe out, 3 sets.") == "Stand tall.Breathe out, three sets."  # no address
    assert spoken("The 1990s") == "The one thousand, nine hundred and ninety s"  # a decade, not seconds
