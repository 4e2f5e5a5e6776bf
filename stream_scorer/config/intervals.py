"""Trigger intervals, parsed the way Spark's `Trigger.ProcessingTime(String)` parses them.

Spark reads '2 seconds', '500 milliseconds', '1 minute 30 seconds' or 'interval 1 hour':
an optional `interval` prefix, then one or more `<number> <unit>` terms. Units are year,
month, week, day, hour, minute, second, millisecond and microsecond, singular or plural, in
any case; only seconds take a fraction. A trigger refuses months and years and a negative
total. Checking this when the config loads turns Spark's late `INVALID_INTERVAL_FORMAT`
into an error that names the key before any JVM starts.
"""

import difflib
import re

_MICROS = {
    "week": 7 * 86_400_000_000,
    "day": 86_400_000_000,
    "hour": 3_600_000_000,
    "minute": 60_000_000,
    "second": 1_000_000,
    "millisecond": 1_000,
    "microsecond": 1,
}
_CALENDAR = ("year", "month")
_UNITS = (*_CALENDAR, *_MICROS)
_TERM = re.compile(r"([+-]?)\s*(\d*\.?\d*)\s+([a-z]+)(?=\s|$)")
EXAMPLES = "'2 seconds', '500 milliseconds', '1 minute'"


def interval_ms(text: str) -> int:
    """Return the milliseconds of a processing-time interval such as '2 seconds'.

    Raises
    ------
    ValueError
        Saying what Spark would refuse: an empty or malformed text, an unknown unit (with
        the unit it resembles), a fraction of a unit other than seconds, months or years,
        or a negative interval.
    """
    words = text.strip().lower()
    body = words.removeprefix("interval ").strip() if words != "interval" else ""
    if not body:
        msg = "it is empty"
        raise ValueError(msg)
    micros, position = 0, 0
    while position < len(body):
        term = _TERM.match(body, position)
        if term is None or not term.group(2).strip("."):
            msg = "it is not a list of '<number> <unit>' terms"
            raise ValueError(msg)
        micros += _term_micros(*term.groups())
        position = term.end()
        while position < len(body) and body[position].isspace():
            position += 1
    if micros < 0:
        msg = "it is negative"
        raise ValueError(msg)
    return micros // 1_000


def _term_micros(sign: str, number: str, word: str) -> int:
    unit = word[:-1] if word.endswith("s") and word[:-1] in _UNITS else word
    if unit not in _UNITS:
        close = difflib.get_close_matches(unit, _UNITS, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}s'?" if close else f"units: {', '.join(_MICROS)}"
        msg = f"'{word}' is not a unit; {hint}"
        raise ValueError(msg)
    if unit in _CALENDAR:
        msg = f"a trigger interval cannot count {unit}s"
        raise ValueError(msg)
    if "." in number and unit != "second":
        msg = f"only seconds take a fraction, not {unit}s"
        raise ValueError(msg)
    whole, _, fraction = number.partition(".")
    micros = int(whole or 0) * _MICROS[unit] + int((fraction + "000000")[:6])
    return -micros if sign == "-" else micros
