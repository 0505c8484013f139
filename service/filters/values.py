"""Checking one client value against the kind of field it is compared with, and normalising it for OpenSearch.

react-querybuilder sends most values as strings, so numeric and boolean fields accept numeric and boolean strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from enum import Enum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from core.fields import Kind
from service.filters.errors import shown
from service.filters.limits import MAX_PATTERN_LENGTH
from service.search_text import has_terms

Scalar = str | int | float | bool
"""A JSON value that is neither null, an array nor an object."""

Value = str | int | float | bool | date | datetime
"""A checked value; dates stay `date`/`datetime` so the renderer knows whether a whole day was meant."""

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # the mapping's `integer` type
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_ONE_WORD = re.compile(r"\w+")
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class Role(Enum):
    """What an operator does with its values, which decides what a value may look like."""

    MATCH = "match"  # compared for equality: an IP may be a CIDR block
    BOUND = "bound"  # an end of a range: an IP must be one address
    PATTERN = "pattern"  # part of a string (contains, endsWith): length-capped
    PREFIX = "prefix"  # the start of a string (beginsWith): length-capped; on text, one word


class BadValue(ValueError):
    pass


def check(kind: Kind, raw: object, role: Role) -> Value:
    """`raw` as a value of `kind`, or BadValue saying what was expected."""
    if not isinstance(raw, str | int | float):  # null, an array or an object; bool is an int
        raise BadValue(f"expected {expected(kind, role)}, got {shown(raw)}")
    return _CHECKERS[kind](raw, role)


def expected(kind: Kind, role: Role) -> str:
    if kind is Kind.IP and role is Role.MATCH:
        return "an IP address or CIDR block (such as 10.0.0.0/8)"
    return _EXPECTED[kind]


def in_order(kind: Kind, low: Value, high: Value) -> bool:
    """Whether `between low and high` can match anything; a reversed range is a mistake worth reporting."""
    if isinstance(low, date) and isinstance(high, date):
        return _day_start(low) <= _day_end(high)
    if kind is Kind.IP and isinstance(low, str) and isinstance(high, str):
        return _ip_rank(ip_address(low)) <= _ip_rank(ip_address(high))
    if isinstance(low, str) and isinstance(high, str):
        return low <= high  # keyword/metadata: OpenSearch orders UTF-8 bytes, which is code point order
    if isinstance(low, int | float) and isinstance(high, int | float):
        return low <= high
    return True


def _string(raw: Scalar, role: Role) -> str:
    if isinstance(raw, bool):
        raw = "true" if raw else "false"  # as core.documents.collect_metadata stores booleans
    text = raw if isinstance(raw, str) else str(raw)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadValue(f"{shown(raw)} is not valid Unicode text") from None
    if role in (Role.PATTERN, Role.PREFIX) and len(text) > MAX_PATTERN_LENGTH:
        raise BadValue(f"value is {len(text)} characters long; the limit for this operator is {MAX_PATTERN_LENGTH}")
    return text


def _text(raw: Scalar, role: Role) -> str:
    text = _string(raw, role)
    if not has_terms(text):
        # Text fields match words; a value without any matches no document, which would look like a real (empty)
        # result, and its negation would look like "everything".
        raise BadValue(
            f"{shown(raw)} has nothing to match: text fields match words (letters, digits or emoji), and it has none"
        )
    if role is Role.PREFIX and not _ONE_WORD.fullmatch(text.strip()):
        raise BadValue(
            f"on a text field beginsWith takes one word (the start of a word), got {shown(raw)}; "
            "for a phrase, use contains"
        )
    return text


def _integer(raw: Scalar, role: Role) -> int:
    value: int | float
    if isinstance(raw, bool):
        raise BadValue(f"expected {_EXPECTED[Kind.INTEGER]}, got {shown(raw)}")
    if isinstance(raw, str):
        stripped = raw.strip()
        if _INTEGER_TEXT.fullmatch(stripped):
            try:
                value = int(stripped)
            except ValueError:  # more digits than int() will read: far out of range anyway
                raise BadValue(f"{shown(raw)} is out of range ({INT_MIN} to {INT_MAX})") from None
        elif _NUMBER_TEXT.fullmatch(stripped):
            value = float(stripped)
        else:
            raise BadValue(f"expected {_EXPECTED[Kind.INTEGER]}, got {shown(raw)}")
    else:
        value = raw
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise BadValue(f"expected a whole number, got {shown(raw)}")
        value = int(value)
    if not INT_MIN <= value <= INT_MAX:
        raise BadValue(f"{shown(raw)} is out of range ({INT_MIN} to {INT_MAX})")
    return value


def _number(raw: Scalar, role: Role) -> float:
    if isinstance(raw, bool):
        raise BadValue(f"expected {_EXPECTED[Kind.NUMBER]}, got {shown(raw)}")
    if isinstance(raw, str):
        if not _NUMBER_TEXT.fullmatch(raw.strip()):
            raise BadValue(f"expected {_EXPECTED[Kind.NUMBER]}, got {shown(raw)}")
        raw = raw.strip()
    try:
        value = float(raw)
    except OverflowError:  # an int too big for a double
        raise BadValue(f"{shown(raw)} is out of range for a number") from None
    if not math.isfinite(value):
        raise BadValue(f"{shown(raw)} is out of range for a number")
    # Lucene orders -0.0 below 0.0 and treats them as different points; the client means zero.
    return value + 0.0


def _boolean(raw: Scalar, role: Role) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise BadValue(f"expected {_EXPECTED[Kind.BOOLEAN]}, got {shown(raw)}")


def _date(raw: Scalar, role: Role) -> date | datetime:
    if not isinstance(raw, str):
        raise BadValue(f"expected {_EXPECTED[Kind.DATE]}, got {shown(raw)}")
    text = raw.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
        # Stored dates are UTC; a date-time without an offset means UTC too.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadValue(f"expected {_EXPECTED[Kind.DATE]}, got {shown(raw)}") from None


def _ip(raw: Scalar, role: Role) -> str:
    if not isinstance(raw, str):
        raise BadValue(f"expected {expected(Kind.IP, role)}, got {shown(raw)}")
    text = raw.strip()
    if "%" in text:  # ipaddress accepts IPv6 zone ids; OpenSearch does not
        raise BadValue(f"expected {expected(Kind.IP, role)} without a zone id, got {shown(raw)}")
    if "/" in text and role is not Role.MATCH:
        raise BadValue(f"a CIDR block ({shown(raw)}) only works with =, !=, in and notIn")
    try:
        return _cidr(text) if "/" in text else str(ip_address(text))
    except ValueError:
        raise BadValue(f"expected {expected(Kind.IP, role)}, got {shown(raw)}") from None


def _cidr(text: str) -> str:
    network = ip_network(text, strict=False)
    mapped = network.network_address.ipv4_mapped if isinstance(network, IPv6Network) else None
    if mapped is None:
        return str(network)
    # OpenSearch reads an IPv4-mapped base address as IPv4 (and then refuses a prefix over 32), so the block is
    # written as the IPv4 one it is. A prefix under 96 cannot keep a mapped base address: it is plain IPv6.
    return str(IPv4Network((mapped, network.prefixlen - 96)))


def _ip_rank(address: IPv4Address | IPv6Address) -> int:
    # OpenSearch stores IPv4 as IPv4-mapped IPv6, so both versions share one order.
    return int(address) + 0xFFFF_0000_0000 if isinstance(address, IPv4Address) else int(address)


def _day_start(value: date) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time.min, UTC)


def _day_end(value: date) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time.max, UTC)


_EXPECTED: dict[Kind, str] = {
    Kind.KEYWORD: "a string",
    Kind.TEXT: "some text to search for",
    Kind.INTEGER: f"a whole number from {INT_MIN} to {INT_MAX}",
    Kind.NUMBER: "a finite number",
    Kind.DATE: "an ISO 8601 date (2026-01-31) or date-time (2026-01-31T12:00:00Z)",
    Kind.BOOLEAN: "true or false",
    Kind.IP: "an IP address",
    Kind.METADATA: "a string",
}

_CHECKERS: dict[Kind, Callable[[Scalar, Role], Value]] = {
    Kind.KEYWORD: _string,
    Kind.TEXT: _text,
    Kind.INTEGER: _integer,
    Kind.NUMBER: _number,
    Kind.DATE: _date,
    Kind.BOOLEAN: _boolean,
    Kind.IP: _ip,
    Kind.METADATA: _string,
}
