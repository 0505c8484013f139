"""Time bounds and bucket intervals: ISO 8601 or date math (`now-7d/d`) read in the caller's time zone, and the
interval that splits the range into chart buckets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_BUCKETS = 2000
AUTO_TARGET_BUCKETS = 200

# One step of date math: `+1d`, `-24h`, or a rounding `/d`. Units as OpenSearch's: y M w d h (or H) m s.
_DATE_MATH = re.compile(r"^now((?:[+-]\d{1,9}[yMwdhHms]|/[yMwdhHms])*)$")
_STEP = re.compile(r"([+-])(\d{1,9})([yMwdhHms])|/([yMwdhHms])")
_FIXED = re.compile(r"^([1-9]\d{0,5})([mhd])$")
_FIXED_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
_DURATIONS = {"s": timedelta(seconds=1), "m": timedelta(minutes=1), "h": timedelta(hours=1), "H": timedelta(hours=1)}
_DURATIONS |= {"d": timedelta(days=1), "w": timedelta(weeks=1)}


class TimeError(ValueError):
    """What is wrong with a time, phrased for the parameter's message."""


@dataclass(frozen=True)
class Interval:
    """A bucket width: calendar (`day`: local midnights, 23 or 25 hours on DST days) or fixed (`6h`)."""

    name: str
    calendar: bool
    approximate: timedelta
    """Its length, for counting buckets (a calendar month counts as 30 days)."""

    def histogram(self) -> dict[str, str]:
        return {"calendar_interval" if self.calendar else "fixed_interval": self.name}


CALENDAR: dict[str, Interval] = {
    name: Interval(name, True, length)
    for name, length in (
        ("minute", timedelta(minutes=1)),
        ("hour", timedelta(hours=1)),
        ("day", timedelta(days=1)),
        ("week", timedelta(weeks=1)),
        ("month", timedelta(days=30)),
    )
}
# What `auto` chooses from, smallest first: calendar units where a unit exists (so days follow local midnight),
# fixed widths between them.
_AUTO_LADDER = ("1m", "5m", "15m", "30m", "hour", "3h", "6h", "12h", "day", "week", "month")


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeError(f"{name!r} is not an IANA time zone name (such as UTC or Europe/Berlin)") from None


def resolve_time(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """`text` as an aware datetime: date math from `now` (rounded in `zone`), or ISO 8601 (a naive one is in `zone`)."""
    math = _DATE_MATH.match(text)
    if math:
        moment = now.astimezone(zone)
        for sign, amount, unit, rounding in _STEP.findall(math.group(1)):
            moment = (
                _round_down(moment, rounding)
                if rounding
                else _shift(moment, int(amount) * (-1 if sign == "-" else 1), unit)
            )
        return moment
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TimeError(
            f"{text!r} is neither ISO 8601 (2026-11-26T10:00:00Z) nor date math (now-24h, now-7d/d)"
        ) from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _shift(moment: datetime, amount: int, unit: str) -> datetime:
    if unit in ("y", "M"):
        months = moment.month - 1 + amount * (12 if unit == "y" else 1)
        year, month = moment.year + months // 12, months % 12 + 1
        return moment.replace(year=year, month=month, day=min(moment.day, _days_in(year, month)))
    # Wall-clock arithmetic, as the engine's date math does in a time zone: now-1d is the same local time yesterday.
    wall = moment.replace(tzinfo=None) + amount * _DURATIONS[unit]
    return wall.replace(tzinfo=moment.tzinfo)


def _round_down(moment: datetime, unit: str) -> datetime:
    if unit == "s":
        return moment.replace(microsecond=0)
    if unit == "m":
        return moment.replace(second=0, microsecond=0)
    if unit in ("h", "H"):
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "d":
        return day
    if unit == "w":
        return (day.replace(tzinfo=None) - timedelta(days=day.weekday())).replace(tzinfo=moment.tzinfo)
    if unit == "M":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _days_in(year: int, month: int) -> int:
    following = datetime(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def parse_interval(text: str) -> Interval | None:
    """A named or fixed interval; None for `auto`."""
    if text == "auto":
        return None
    if text in CALENDAR:
        return CALENDAR[text]
    fixed = _FIXED.match(text)
    if fixed is None:
        raise TimeError(f"{text!r} is not auto, minute, hour, day, week, month or a fixed width such as 5m, 1h, 6h, 1d")
    return Interval(text, False, int(fixed.group(1)) * _FIXED_UNITS[fixed.group(2)])


def bucket_count(start: datetime, end: datetime, interval: Interval) -> int:
    """About how many buckets span `start` to `end` (exact for fixed widths, calendar months counted as 30 days)."""
    return int((end - start) / interval.approximate) + 1


def auto_interval(start: datetime, end: datetime) -> Interval:
    """The smallest width of the ladder that gives at most AUTO_TARGET_BUCKETS buckets."""
    for name in _AUTO_LADDER:
        interval = parse_interval(name)
        assert interval is not None
        if bucket_count(start, end, interval) <= AUTO_TARGET_BUCKETS:
            return interval
    return CALENDAR["month"]


def epoch_millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def iso(moment: datetime) -> str:
    """ISO 8601 with the offset, `Z` for UTC itself."""
    text = moment.isoformat()
    return text[:-6] + "Z" if moment.tzinfo in (UTC, ZoneInfo("UTC")) and text.endswith("+00:00") else text
