"""Domain rules on fixed dates (every edge of the contract), then invariants with hypothesis."""

import sys
import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hello_birthday.birthdays import (
    LONGEST_SPELLING_OF_A_LETTER,
    MAX_RAW_USERNAME_LENGTH,
    MAX_USERNAME_LENGTH,
    InvalidDateOfBirthError,
    InvalidUsernameError,
    birthday_in_year,
    days_until_birthday,
    greeting,
    normalise_username,
    parse_date_of_birth,
)

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("born", "today", "days"),
    [
        (date(1990, 11, 28), date(2026, 11, 28), 0),
        (date(1990, 11, 29), date(2026, 11, 28), 1),
        (date(1990, 11, 27), date(2026, 11, 28), 364),
        (date(1990, 1, 1), date(2026, 12, 31), 1),  # 31 December to 1 January
        (date(1990, 12, 31), date(2026, 1, 1), 364),
        (date(1990, 12, 31), date(2026, 12, 31), 0),
        # 29 February: celebrated on 28 February in common years.
        (date(2000, 2, 29), date(2027, 2, 28), 0),
        (date(2000, 2, 29), date(2027, 2, 27), 1),
        (date(2000, 2, 29), date(2027, 3, 1), 365),  # next is 29 February 2028
        (date(2000, 2, 29), date(2028, 2, 28), 1),  # leap year: the real day comes
        (date(2000, 2, 29), date(2028, 2, 29), 0),
        (date(2000, 2, 29), date(2028, 3, 1), 364),  # next is 28 February 2029
        (date(2000, 2, 29), date(2026, 11, 28), 92),
        (date(1990, 2, 28), date(2028, 2, 29), 365),  # the longest wait there is
        (date(1990, 3, 1), date(2028, 2, 29), 1),
        (date(1990, 3, 1), date(2027, 2, 28), 1),
    ],
)
def test_days_until_birthday(born: date, today: date, days: int) -> None:
    assert days_until_birthday(born, today) == days


def test_leap_day_birthday_moves_only_in_common_years() -> None:
    born = date(2004, 2, 29)
    assert birthday_in_year(born, 2027) == date(2027, 2, 28)
    assert birthday_in_year(born, 2028) == date(2028, 2, 29)
    assert birthday_in_year(date(2004, 3, 1), 2027) == date(2027, 3, 1)


def test_greeting_wording_is_exact() -> None:
    assert greeting("Zoë", 0) == "Hello, Zoë! Happy birthday!"
    assert greeting("Zoë", 1) == "Hello, Zoë! Your birthday is in 1 day(s)"
    assert greeting("Bob", 365) == "Hello, Bob! Your birthday is in 365 day(s)"


@pytest.mark.parametrize(
    "name", ["a", "Bob", "bob", "Zoë", "Łukasz", "José", "Ωμέγα", "李雷", "A" * 64]
)
def test_valid_usernames(name: str) -> None:
    assert normalise_username(name) == name


def test_username_composed_and_decomposed_are_one_user() -> None:
    decomposed = "Zoe\u0308"
    assert normalise_username(decomposed) == normalise_username("Zo\u00eb") == "Zo\u00eb"


def test_username_case_is_preserved() -> None:
    assert normalise_username("McDonald") == "McDonald"
    assert normalise_username("mcdonald") != normalise_username("McDonald")


@pytest.mark.parametrize(
    "name",
    [
        "",
        "bob1",
        "bob_smith",
        "bob-smith",
        "bob smith",
        "bob.",
        "bob\u200b",  # zero-width space
        "\u200dbob",  # zero-width joiner
        "bob\n",
        "A" * 65,
        "٣",  # Arabic-Indic digit three
        "Ⅻ",  # Roman numeral twelve: a number, not a letter
        "e\u0301\u0301",  # a combining mark that NFC cannot absorb
    ],
)
def test_invalid_usernames(name: str) -> None:
    with pytest.raises(InvalidUsernameError):
        normalise_username(name)


def test_username_length_counts_after_normalisation() -> None:
    # 64 letters spelled with 128 code points (decomposed) is still 64 letters.
    assert len(normalise_username("e\u0301" * 64)) == 64


@pytest.mark.parametrize("value", ["2000-01-31", "1900-02-28", "2024-02-29", "2026-11-27"])
def test_valid_dates_of_birth(value: str) -> None:
    assert parse_date_of_birth(value, TODAY) == date.fromisoformat(value)


@pytest.mark.parametrize(
    "value",
    [
        "20000131",  # ISO basic format: fromisoformat takes it, the contract does not
        "2000-1-31",
        "2000-01-31T00:00:00",
        "2000-W05-1",
        " 2000-01-31",
        "2000-01-31 ",
        "2000-02-30",
        "2023-02-29",
        "2000-13-01",
        "0000-01-01",
        "２０００-01-31",  # noqa: RUF001 (full-width digits, on purpose)
        "2026-11-28",  # today
        "2026-11-29",  # tomorrow
        "9999-12-31",
        "",
        None,
        20000131,
        True,
        ["2000-01-31"],
        {"date": "2000-01-31"},
    ],
)
def test_invalid_dates_of_birth(value: object) -> None:
    with pytest.raises(InvalidDateOfBirthError):
        parse_date_of_birth(value, TODAY)


dates = st.dates(min_value=date(1, 1, 1), max_value=date(9998, 12, 31))


@given(born=dates, today=dates)
def test_days_are_between_0_and_365(born: date, today: date) -> None:
    assert 0 <= days_until_birthday(born, today) <= 365


@given(born=dates, today=dates)
def test_the_day_counted_to_is_a_celebration_of_the_birthday(born: date, today: date) -> None:
    upcoming = today + timedelta(days=days_until_birthday(born, today))
    assert upcoming == birthday_in_year(born, upcoming.year)
    # ... and no earlier day since today is one.
    for offset in range(days_until_birthday(born, today)):
        day = today + timedelta(days=offset)
        assert day != birthday_in_year(born, day.year)


@given(born=dates, today=dates)
def test_tomorrow_is_one_day_closer_unless_today_is_the_birthday(born: date, today: date) -> None:
    days = days_until_birthday(born, today)
    tomorrow = days_until_birthday(born, today + timedelta(days=1))
    assert tomorrow == days - 1 or days == 0


@given(born=dates, today=dates)
def test_only_month_and_day_matter(born: date, today: date) -> None:
    other_year = 2000 if born.month == 2 and born.day == 29 else 1999
    assert days_until_birthday(born, today) == days_until_birthday(
        born.replace(year=other_year), today
    )


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@given(st.text(min_size=1, max_size=80))
def test_username_validation_matches_its_definition(raw: str) -> None:
    name = nfc(raw)
    expected_valid = 1 <= len(name) <= MAX_USERNAME_LENGTH and all(
        unicodedata.category(char).startswith("L") for char in name
    )
    if expected_valid:
        assert normalise_username(raw) == name
    else:
        with pytest.raises(InvalidUsernameError):
            normalise_username(raw)


# Lengths that straddle the limit, in letters after NFC (the limit counts characters after NFC).
LENGTHS_AROUND_THE_LIMIT = st.sampled_from(
    [1, 2, MAX_USERNAME_LENGTH - 1, MAX_USERNAME_LENGTH, MAX_USERNAME_LENGTH + 1, 66]
)
# Any single letter NFC leaves alone (some letters, like U+0958, NFC splits into letter + mark),
# except the Hangul vowel and final jamo, which NFC joins to the letter before them: the only
# letters that compose with a preceding one, so each of these stays one letter in any name.
STABLE_LETTERS = st.characters(categories=["Lu", "Ll", "Lt", "Lm", "Lo"]).filter(
    lambda char: nfc(char) == char and not "\u1160" <= char <= "\u11ff"
)
# NFC-stable letters that NFKC would change (a ligature, a superscript, a titlecase digraph):
# a username is NFC, not NFKC, so these stay one letter each.
COMPATIBILITY_LETTERS = ["\ufb01", "\u00aa", "\u01c5"]
# Spellings of one letter that NFC turns into one (different) code point.
COMPOSING = [
    "e\u0301",  # é
    "A\u030a",  # Å
    "u\u0308\u0301",  # ǘ: two marks, one letter
    "e\u0323\u0302",  # ệ: marks in canonical order
    "e\u0302\u0323",  # ệ: marks NFC must reorder first
    "\u03b1\u0301",  # Greek ά
    "\u0438\u0306",  # Cyrillic й
    "\u1100\u1161",  # Hangul 가 from two jamo (letters, not marks)
    "\u1100\u1161\u11a8",  # Hangul 각 from three jamo
    "\u212b",  # ANGSTROM SIGN, a singleton NFC replaces with Å
    "\u212a",  # KELVIN SIGN, replaced with K
]
# Spellings NFC leaves with a combining mark in them, so never part of a valid username: a letter
# and a mark that have no composed form, a second mark after a composed letter, a lone enclosing
# circle (a lone U+0301 would not do: after an "e" NFC composes it into "é"), and U+0958, a
# letter that NFC splits into a letter and a nukta.
NOT_COMPOSING = ["q\u0301", "b\u0303", "z\u0327", "e\u0301\u0301", "\u20dd", "\u0958"]

letter_units = st.one_of(STABLE_LETTERS, st.sampled_from(COMPATIBILITY_LETTERS))
composing_units = st.sampled_from(COMPOSING)


def test_the_strategies_building_blocks_are_what_they_claim() -> None:
    for letter in COMPATIBILITY_LETTERS:
        assert nfc(letter) == letter
        assert letter.isalpha()
        assert unicodedata.normalize("NFKC", letter) != letter
    for spelling in COMPOSING:
        assert nfc(spelling) != spelling
        assert len(nfc(spelling)) == 1
        assert nfc(spelling).isalpha()
    for spelling in NOT_COMPOSING:
        assert not nfc(spelling).isalpha()
        for before in ["e", "A", "\u1100", *COMPOSING]:
            assert not nfc(before + spelling).isalpha()


@given(LENGTHS_AROUND_THE_LIMIT.flatmap(lambda n: st.text(STABLE_LETTERS, min_size=n, max_size=n)))
@settings(max_examples=60)
def test_letters_only_names_are_valid_up_to_the_limit(name: str) -> None:
    if len(name) <= MAX_USERNAME_LENGTH:
        assert normalise_username(name) == name
    else:
        with pytest.raises(InvalidUsernameError):
            normalise_username(name)


@given(
    LENGTHS_AROUND_THE_LIMIT.flatmap(
        lambda n: st.lists(st.one_of(letter_units, composing_units), min_size=n, max_size=n)
    )
)
@settings(max_examples=60)
def test_the_limit_counts_letters_after_nfc(units: list[str]) -> None:
    raw = "".join(units)
    composed = nfc(raw)
    assert len(composed) == len(units)  # the premise: each unit is one letter after NFC
    if len(units) <= MAX_USERNAME_LENGTH:
        # Valid however many code points it was spelled with, and stored composed.
        assert normalise_username(raw) == composed
        assert normalise_username(composed) == composed
        assert normalise_username(unicodedata.normalize("NFD", raw)) == composed
    else:
        for spelling in (raw, composed, unicodedata.normalize("NFD", raw)):
            with pytest.raises(InvalidUsernameError):
                normalise_username(spelling)


@given(
    letters=st.lists(st.one_of(letter_units, composing_units), max_size=MAX_USERNAME_LENGTH - 2),
    mark=st.sampled_from(NOT_COMPOSING),
    position=st.integers(min_value=0),
)
@settings(max_examples=60)
def test_a_mark_nfc_cannot_absorb_makes_any_name_invalid(
    letters: list[str], mark: str, position: int
) -> None:
    units = [*letters]
    units.insert(position % (len(units) + 1), mark)
    raw = "".join(units)
    assert len(nfc(raw)) <= MAX_USERNAME_LENGTH  # short enough: only the mark can be at fault
    with pytest.raises(InvalidUsernameError):
        normalise_username(raw)


def longest_spellings() -> tuple[int, list[str]]:
    """Scan Unicode: the most code points any letter decomposes to, and the letters that do."""
    by_length: dict[int, list[str]] = {}
    for char in map(chr, range(sys.maxunicode + 1)):
        spelled = unicodedata.normalize("NFD", char)
        # Letters NFC leaves alone: a valid name is made of these only.
        if len(spelled) > 1 and char.isalpha() and nfc(char) == char:
            by_length.setdefault(len(spelled), []).append(char)
    longest = max(by_length)
    return longest, by_length[longest]


def test_the_raw_bound_is_the_longest_spelling_of_64_letters_in_this_unicode() -> None:
    longest, letters = longest_spellings()
    assert longest == LONGEST_SPELLING_OF_A_LETTER, f"Unicode {unicodedata.unidata_version}"
    assert MAX_USERNAME_LENGTH * longest == MAX_RAW_USERNAME_LENGTH
    # The bound is reached: 64 of these letters spelled out are a valid name, composed by NFC.
    for letter in letters:
        spelled = unicodedata.normalize("NFD", letter) * MAX_USERNAME_LENGTH
        assert len(spelled) == MAX_RAW_USERNAME_LENGTH
        assert normalise_username(spelled) == letter * MAX_USERNAME_LENGTH


@pytest.mark.parametrize(
    "raw",
    [
        # Combining marks in descending canonical class: what NFC takes longest to reorder.
        "\u0345\u0301\u0316" * (MAX_RAW_USERNAME_LENGTH // 3 + 1),
        unicodedata.normalize("NFD", "\u1f82" * MAX_USERNAME_LENGTH) + "a",
        "a" * (32 * 1024),
    ],
    ids=["marks", "one-past-the-longest-spelling", "32-KiB"],
)
def test_a_name_past_the_raw_bound_is_refused_before_normalising(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    normalised: list[str] = []
    normalize = unicodedata.normalize

    def recorded(form: str, text: str) -> str:
        normalised.append(text)
        return normalize(form, text)  # type: ignore[arg-type]

    assert len(raw) > MAX_RAW_USERNAME_LENGTH
    monkeypatch.setattr(unicodedata, "normalize", recorded)
    with pytest.raises(InvalidUsernameError, match=f"got {len(raw)} characters"):
        normalise_username(raw)
    assert normalised == []
    # The spy sees the calls normalise_username makes, so the empty list above means something.
    assert normalise_username("Ann") == "Ann"
    assert normalised == ["Ann"]


@given(day=st.dates(max_value=date(2026, 11, 27)))
def test_every_past_date_in_iso_form_is_accepted(day: date) -> None:
    assert parse_date_of_birth(day.isoformat(), TODAY) == day
