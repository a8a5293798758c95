"""When the support team answers handoffs: weekly hours, Jalali holidays, and the customer-facing ETA.

Business hours are kept in the Iranian week (Saturday first, Friday the weekend) and holidays in
the Jalali calendar, because that is how Iranian businesses publish them: Nowruz is 1–4 Farvardin
every year, while lunar-calendar holidays (Tasua, Ashura, Eid al-Fitr…) move every solar year and
are listed with their year. Dates are converted with ``jdatetime``; instants are aware
``datetime`` objects and wall-clock times are read in the configured ``zoneinfo`` zone.

Naive datetimes are rejected with ``ValueError`` rather than guessed: a bare ``datetime.now()``
is the usual bug here, and reading it as UTC would silently put every ETA 3.5 hours off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import timezone as _dt_timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jdatetime

if TYPE_CHECKING:
    from bot.settings import Settings

WEEKDAY_KEYS: tuple[str, ...] = ("sat", "sun", "mon", "tue", "wed", "thu", "fri")
"""Day names accepted in ``business_hours``, in Iranian week order (index 0 = Saturday, as ``jdatetime``)."""

LOOKAHEAD_DAYS = 400
"""How far :meth:`BusinessHours.next_opening` searches: a full Jalali year plus every holiday run."""

_EN_WEEKDAYS = ("Saturday", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_FA_WEEKDAYS = ("شنبه", "یکشنبه", "دوشنبه", "سه\u200cشنبه", "چهارشنبه", "پنج\u200cشنبه", "جمعه")
_FA_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
_EN_MONTHS = (
    "Farvardin",
    "Ordibehesht",
    "Khordad",
    "Tir",
    "Mordad",
    "Shahrivar",
    "Mehr",
    "Aban",
    "Azar",
    "Dey",
    "Bahman",
    "Esfand",
)
_GREGORIAN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_TO_ASCII_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_TO_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# Left-to-right isolate around a phone number inside Persian text, so "+98 21 …" keeps its order.
_LRI, _PDI = "\u2066", "\u2069"

_HOURS_EXAMPLE = "'sat-wed 08:00-20:00; thu 08:00-14:00'"
_HOLIDAYS_EXAMPLE = "'01-01 01-02 1404-01-13' (Jalali MM-DD every year, YYYY-MM-DD for one year)"
_DAY_NAMES: dict[str, int] = {
    **{key: index for index, key in enumerate(WEEKDAY_KEYS)},
    **{name.lower(): index for index, name in enumerate(_EN_WEEKDAYS)},
}
_TIME_RANGE_RE = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_HOLIDAY_RE = re.compile(r"(?:(\d{4})-)?(\d{1,2})-(\d{1,2})")
_UTC = _dt_timezone.utc


@dataclass(frozen=True)
class OpeningWindow:
    """One staffed interval on one weekday, as minutes after local midnight (end 1440 = 24:00)."""

    weekday: int
    """0 = Saturday … 6 = Friday (Iranian week order)."""
    start: int
    end: int


@dataclass(frozen=True)
class Holiday:
    """A closed Jalali date: every year when ``year`` is None, else only in that Jalali year."""

    month: int
    day: int
    year: int | None = None

    def matches(self, day: jdatetime.date) -> bool:
        """Return whether the Jalali ``day`` is this holiday."""
        return day.month == self.month and day.day == self.day and (self.year is None or day.year == self.year)


@dataclass(frozen=True)
class BusinessHours:
    """The support team's weekly hours and Jalali holidays in one time zone.

    Build it with :meth:`from_settings` or :meth:`parse`, which validate every value. A
    configuration with no window at all is allowed (nobody answers handoffs); then
    :meth:`next_opening` returns ``None``.
    """

    timezone: str
    windows: tuple[OpeningWindow, ...]
    holidays: tuple[Holiday, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> BusinessHours:
        """Build the hours from ``settings.business_hours``, ``settings.holidays`` and ``settings.timezone``."""
        return cls.parse(settings.business_hours, settings.holidays, settings.timezone)

    @classmethod
    def parse(cls, business_hours: str, holidays: str, timezone: str) -> BusinessHours:
        """Parse the three settings strings; raise ``ValueError`` naming the setting and the bad token.

        ``business_hours``: ``;``-separated groups of days and ``HH:MM-HH:MM`` ranges, e.g.
        ``"sat-wed 08:00-20:00; thu 08:00-14:00"``. Days are ``sat sun mon tue wed thu fri`` (or
        full English names), as single days, comma lists (``sat,mon``) or ranges that wrap in
        the Iranian week (``thu-sat`` = Thursday, Friday, Saturday). A group may list several
        ranges (``sat 08:00-12:00 16:00-20:00``). ``24:00`` ends a day; a range that ends at or
        before its start is refused (split overnight shifts across two days). Days not mentioned
        are closed; overlapping ranges are merged.

        ``holidays``: Jalali ``MM-DD`` (every year) or ``YYYY-MM-DD`` (one year), separated by
        spaces or commas. Persian digits are accepted in both settings.
        """
        zone_key = _parse_timezone(timezone)
        return cls(
            timezone=zone_key,
            windows=_parse_business_hours(business_hours),
            holidays=_parse_holidays(holidays),
        )

    @property
    def zone(self) -> ZoneInfo:
        """The configured time zone (``zoneinfo`` caches instances, so this is cheap)."""
        return ZoneInfo(self.timezone)

    def is_holiday(self, day: date) -> bool:
        """Return whether the Gregorian ``day`` falls on a configured Jalali holiday."""
        jalali = jdatetime.date.fromgregorian(date=day)
        return any(holiday.matches(jalali) for holiday in self.holidays)

    def is_open(self, when: datetime) -> bool:
        """Return whether the team is working at the aware instant ``when`` (naive input raises)."""
        # Via UTC: an imaginary wall time (inside a DST gap) becomes the real local time of its instant.
        local = _require_aware(when).astimezone(_UTC).astimezone(self.zone)
        day = local.date()
        if self.is_holiday(day):
            return False
        seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1_000_000
        return any(window.start * 60 <= seconds < window.end * 60 for window in self._windows_on(_iranian_weekday(day)))

    def next_opening(self, when: datetime) -> datetime | None:
        """Return the first instant at or after ``when`` at which the team is working, in the configured zone.

        Returns ``when`` itself (as the same instant in the configured zone) when the team is
        working then. Returns ``None`` when nothing opens within :data:`LOOKAHEAD_DAYS` days:
        no window is configured, or every staffed day is a holiday. Naive ``when`` raises.
        """
        zone = self.zone
        if self.is_open(when):
            return when.astimezone(_UTC).astimezone(zone)
        if not self.windows:
            return None
        start_day = when.astimezone(_UTC).astimezone(zone).date()
        for offset in range(LOOKAHEAD_DAYS + 1):
            day = start_day + timedelta(days=offset)
            if self.is_holiday(day):
                continue
            for window in self._windows_on(_iranian_weekday(day)):
                # Wall time → real instant: a start inside a DST gap moves to the first real minute.
                opens = datetime.combine(day, time(), tzinfo=zone) + timedelta(minutes=window.start)
                opens = opens.astimezone(_UTC).astimezone(zone)
                # Compared in UTC: two datetimes sharing one tzinfo compare by wall time, ignoring fold.
                if opens.astimezone(_UTC) > when.astimezone(_UTC) and self.is_open(opens):
                    return opens
        return None

    def _windows_on(self, weekday: int) -> tuple[OpeningWindow, ...]:
        """Return the windows of one weekday (0 = Saturday), earliest first."""
        return tuple(window for window in self.windows if window.weekday == weekday)


def handoff_eta(hours: BusinessHours, now: datetime, lang: str, *, phone: str = "") -> str:
    """Return the customer-facing sentence saying that a person will take over, and when.

    ``lang`` is ``"en"`` for English; anything else gets Persian (the product is Persian-first,
    and :func:`indexer.textnorm.detect_lang` may say ``"und"``). When the team is working the
    reply says someone will answer shortly; otherwise it names the next opening with the
    weekday, the Jalali date (and in English the Gregorian date) and the time in the team's
    zone. Pass ``phone`` (e.g. ``settings.support_phone``) to add a line with the number.
    """
    english = lang == "en"
    opening = hours.next_opening(now)
    phone = phone.strip()
    if opening is not None and opening.astimezone(_UTC) <= _require_aware(now).astimezone(_UTC):
        text = (
            "A member of our team will reply here shortly."
            if english
            else "یکی از همکاران ما به\u200cزودی در همین گفتگو پاسخگوی شما خواهد بود."
        )
        if phone:
            text += (
                f" You can also call us on {phone}."
                if english
                else f" در صورت نیاز می\u200cتوانید با شماره {_LRI}{phone}{_PDI} هم تماس بگیرید."
            )
        return text
    if opening is None:
        text = (
            "Our team is not available right now; a member of the team will reply here as soon as possible."
            if english
            else "همکاران ما در حال حاضر در دسترس نیستند؛ یکی از آن\u200cها در اولین فرصت "
            "در همین گفتگو پاسخ شما را می\u200cدهد."
        )
    elif english:
        text = (
            "Our team is not available right now. A member of the team will pick up this conversation "
            f"{_describe_en(opening, now, hours.timezone)}. Thank you for your patience."
        )
    else:
        text = (
            "همکاران ما در حال حاضر در دسترس نیستند. یکی از همکاران ما "
            f"{_describe_fa(opening, now, hours.timezone)}، در همین گفتگو پاسخگوی شما خواهد بود. "
            "از شکیبایی شما سپاسگزاریم."
        )
    if phone:
        text += (
            f" If it is urgent, you can also call us on {phone}."
            if english
            else f" اگر کارتان فوری است، می\u200cتوانید با شماره {_LRI}{phone}{_PDI} تماس بگیرید."
        )
    return text


def to_persian_digits(text: str) -> str:
    """Return ``text`` with ASCII digits written as Persian digits («۸:۰۰»)."""
    return text.translate(_TO_PERSIAN_DIGITS)


# --- formatting -----------------------------------------------------------------------------


def _relative_day(opening: datetime, now: datetime) -> int:
    """Return how many calendar days after ``now`` (in ``opening``'s zone) the opening falls."""
    return (opening.date() - now.astimezone(_UTC).astimezone(opening.tzinfo).date()).days


def _zone_city(zone_key: str) -> str:
    """Return a readable place name for a zone key ("Asia/Tehran" → "Tehran", "UTC" → "UTC")."""
    return zone_key.rsplit("/", 1)[-1].replace("_", " ")


def zone_names(zone_key: str) -> dict[str, str]:
    """Return the zone as a reader says it after a time, per language: {"fa": "به وقت تهران", "en": "Tehran time"}."""
    city = _zone_city(zone_key)
    return {"fa": f"به وقت {'تهران' if zone_key == 'Asia/Tehran' else city}", "en": f"{city} time"}


def _describe_en(opening: datetime, now: datetime, zone_key: str) -> str:
    """Return e.g. "tomorrow, Saturday 15 Farvardin (4 April), at 8:00 Tehran time"."""
    jalali = jdatetime.date.fromgregorian(date=opening.date())
    weekday = _iranian_weekday(opening.date())
    day = (
        f"{_EN_WEEKDAYS[weekday]} {jalali.day} {_EN_MONTHS[jalali.month - 1]} "
        f"({opening.day} {_GREGORIAN_MONTHS[opening.month - 1]})"
    )
    prefix = {0: "today, ", 1: "tomorrow, "}.get(_relative_day(opening, now), "on ")
    separator = ", at" if prefix != "on " else " at"
    return f"{prefix}{day}{separator} {opening.hour}:{opening.minute:02d} {_zone_city(zone_key)} time"


def _describe_fa(opening: datetime, now: datetime, zone_key: str) -> str:
    """Return e.g. «فردا، شنبه ۱۵ فروردین، ساعت ۸:۰۰ به وقت تهران»."""
    jalali = jdatetime.date.fromgregorian(date=opening.date())
    weekday = _iranian_weekday(opening.date())
    prefix = {0: "امروز، ", 1: "فردا، "}.get(_relative_day(opening, now), "")
    city = "تهران" if zone_key == "Asia/Tehran" else _zone_city(zone_key)
    text = (
        f"{prefix}{_FA_WEEKDAYS[weekday]} {jalali.day} {_FA_MONTHS[jalali.month - 1]}، "
        f"ساعت {opening.hour}:{opening.minute:02d} به وقت {city}"
    )
    return to_persian_digits(text)


# --- parsing --------------------------------------------------------------------------------


def _iranian_weekday(day: date) -> int:
    """Return the weekday of a Gregorian date in Iranian order (0 = Saturday … 6 = Friday)."""
    return (day.weekday() + 2) % 7  # Python: Monday = 0, so Saturday (5) → 0


def _require_aware(when: datetime) -> datetime:
    """Return ``when`` if it carries a UTC offset; raise ``ValueError`` for a naive datetime."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(
            f"business hours need a timezone-aware datetime, got naive {when.isoformat()}; "
            "use e.g. datetime.now(tz=ZoneInfo('Asia/Tehran'))"
        )
    return when


def _parse_timezone(value: str) -> str:
    """Return the stripped IANA zone key, or raise naming ``PASOKH_TIMEZONE``."""
    key = value.strip()
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"PASOKH_TIMEZONE: unknown time zone {value!r}; use an IANA name such as 'Asia/Tehran'"
        ) from None
    return key


def _hours_error(token: str, problem: str) -> ValueError:
    """Build the ``PASOKH_BUSINESS_HOURS`` error for one bad token."""
    return ValueError(
        f"PASOKH_BUSINESS_HOURS: {problem} in {token!r}; expected groups of days and times, e.g. {_HOURS_EXAMPLE}"
    )


def _parse_business_hours(value: str) -> tuple[OpeningWindow, ...]:
    """Parse ``business_hours`` into merged windows sorted by weekday and start."""
    text = value.translate(_TO_ASCII_DIGITS).lower()
    by_day: dict[int, list[tuple[int, int]]] = {}
    for raw_group in re.split(r"[;\n]", text):
        group = re.sub(r"\s*,\s*", ",", re.sub(r"\s*[-\u2013]\s*", "-", raw_group.strip()))
        if not group:
            continue
        parts = group.split(None, 1)
        if len(parts) != 2:
            raise _hours_error(raw_group.strip(), "missing days or times")
        days = _parse_days(parts[0], raw_group.strip())
        for time_range in re.split(r"[,\s]+", parts[1].strip()):
            start, end = _parse_time_range(time_range)
            for day in days:
                by_day.setdefault(day, []).append((start, end))
    windows: list[OpeningWindow] = []
    for day in sorted(by_day):
        for start, end in _merge(by_day[day]):
            windows.append(OpeningWindow(weekday=day, start=start, end=end))
    return tuple(windows)


def _parse_days(spec: str, group: str) -> tuple[int, ...]:
    """Parse ``sat-wed``, ``sat,mon`` or ``thu-sat,mon`` into Iranian weekday indexes."""
    days: list[int] = []
    for item in spec.split(","):
        ends = item.split("-")
        if len(ends) > 2 or not all(ends):
            raise _hours_error(item or group, "bad day range")
        try:
            first, last = (_DAY_NAMES[name] for name in (ends[0], ends[-1]))
        except KeyError:
            raise _hours_error(item, "unknown day (use sat sun mon tue wed thu fri)") from None
        span = (last - first) % 7  # wraps in the Iranian week: thu-sat is thu, fri, sat
        days.extend((first + step) % 7 for step in range(span + 1))
    return tuple(dict.fromkeys(days))


def _parse_time_range(token: str) -> tuple[int, int]:
    """Parse ``HH:MM-HH:MM`` into start and end minutes, allowing ``24:00`` as the end."""
    match = _TIME_RANGE_RE.fullmatch(token)
    if match is None:
        raise _hours_error(token, "bad time range (write HH:MM-HH:MM)")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m != 0):
        raise _hours_error(token, "time out of range (00:00 to 24:00)")
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if end <= start:
        raise _hours_error(token, "range ends at or before it starts (split overnight hours across two days)")
    return start, end


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping or touching minute ranges."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _parse_holidays(value: str) -> tuple[Holiday, ...]:
    """Parse ``holidays`` (Jalali ``MM-DD`` / ``YYYY-MM-DD``, ``/`` also accepted) into holidays."""
    holidays: list[Holiday] = []
    for token in re.split(r"[\s,\u060c]+", value.translate(_TO_ASCII_DIGITS).strip()):
        if not token:
            continue
        match = _HOLIDAY_RE.fullmatch(token.replace("/", "-"))
        if match is None:
            raise _holiday_error(token, "is not a Jalali date")
        year = int(match.group(1)) if match.group(1) else None
        month, day = int(match.group(2)), int(match.group(3))
        # Months 1-6 have 31 days, 7-11 have 30, Esfand 29 (30 in leap years, so 12-30 is allowed).
        longest = 31 if month <= 6 else 30
        if not 1 <= month <= 12 or not 1 <= day <= longest:
            raise _holiday_error(token, "has no such Jalali month and day")
        if year is not None:
            try:
                jdatetime.date(year, month, day)
            except ValueError:
                raise _holiday_error(token, f"does not exist in Jalali year {year}") from None
        holidays.append(Holiday(month=month, day=day, year=year))
    return tuple(dict.fromkeys(holidays))


def _holiday_error(token: str, problem: str) -> ValueError:
    """Build the ``PASOKH_HOLIDAYS`` error for one bad token."""
    return ValueError(f"PASOKH_HOLIDAYS: {token!r} {problem}; expected e.g. {_HOLIDAYS_EXAMPLE}")
