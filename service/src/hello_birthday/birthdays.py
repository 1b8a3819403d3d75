"""Pure domain rules: valid usernames, valid dates of birth, and days until the next birthday.

Nothing here knows about HTTP or storage, so every rule is testable with plain values.
"""

import calendar
import functools
import re
import unicodedata
from datetime import date
from typing import Final

MAX_USERNAME_LENGTH: Final = 64
#: The most code points one letter can be spelled with: its canonical decomposition (NFD), which
#: NFC composes back into it. Four for some Greek letters (alpha, breathing, accent and iota
#: subscript); a test scans Unicode so that a new version with a longer one cannot go unnoticed.
LONGEST_SPELLING_OF_A_LETTER: Final = 4
#: No spelling of 64 letters is longer: decomposing never shortens a string, and every spelling
#: of a name decomposes to the same NFD string, its letters' decompositions end to end. Checked
#: before NFC, whose canonical reordering takes time quadratic in a run of combining marks.
MAX_RAW_USERNAME_LENGTH: Final = MAX_USERNAME_LENGTH * LONGEST_SPELLING_OF_A_LETTER
# Exactly YYYY-MM-DD: date.fromisoformat alone would also take 20000101 and other ISO forms.
ISO_CALENDAR_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class InvalidUsernameError(ValueError):
    """The username is not 1 to 64 letters."""


class InvalidDateOfBirthError(ValueError):
    """The date of birth is not a YYYY-MM-DD calendar date before today."""


def normalise_username(raw: str) -> str:
    """Return the NFC form of a valid username, so composed and decomposed spellings agree."""
    if len(raw) > MAX_RAW_USERNAME_LENGTH:
        raise _wrong_length(len(raw))
    name = unicodedata.normalize("NFC", raw)
    if not 1 <= len(name) <= MAX_USERNAME_LENGTH:
        raise _wrong_length(len(name))
    # str.isalpha() is true only for Unicode letters (categories Lu, Ll, Lt, Lm, Lo): digits,
    # punctuation, spaces, marks and zero-width characters all fail it.
    if not name.isalpha():
        raise InvalidUsernameError("username must contain only letters")
    return name


def _wrong_length(characters: int) -> InvalidUsernameError:
    return InvalidUsernameError(
        f"username must be 1 to {MAX_USERNAME_LENGTH} letters, got {characters} characters"
    )


def parse_date_of_birth(value: object, today: date) -> date:
    """Parse a JSON value as a date of birth that lies strictly before ``today``."""
    if not isinstance(value, str) or not ISO_CALENDAR_DATE.fullmatch(value):
        raise InvalidDateOfBirthError('dateOfBirth must be a string of the form "YYYY-MM-DD"')
    try:
        born = date.fromisoformat(value)
    except ValueError:
        raise InvalidDateOfBirthError(f"dateOfBirth {value} is not a calendar date") from None
    if born >= today:
        raise InvalidDateOfBirthError(
            f"dateOfBirth must be before today ({today.isoformat()}), got {value}"
        )
    return born


def birthday_in_year(born: date, year: int) -> date:
    """The day a birthday is celebrated in ``year``: 29 February falls back to 28 February."""
    if born.month == 2 and born.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return born.replace(year=year)


def days_until_birthday(born: date, today: date) -> int:
    """Days from ``today`` to the next celebration of the birthday: 0 (today) to 365."""
    return _days_until(born.month, born.day, today)


# Every GET asks this; only the month and day of birth matter, so a day has at most 366 answers.
@functools.lru_cache(maxsize=1024)
def _days_until(month: int, day: int, today: date) -> int:
    born = date(2000, month, day)  # a leap year, so 29 February is a valid date
    upcoming = birthday_in_year(born, today.year)
    if upcoming < today:
        upcoming = birthday_in_year(born, today.year + 1)
    return (upcoming - today).days


def greeting(username: str, days: int) -> str:
    """The message the API answers with; clients parse this exact wording."""
    if days == 0:
        return f"Hello, {username}! Happy birthday!"
    return f"Hello, {username}! Your birthday is in {days} day(s)"
