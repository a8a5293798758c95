from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import jdatetime
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.hours import WEEKDAY_KEYS, BusinessHours, Holiday, OpeningWindow, handoff_eta
from bot.settings import Settings

TEHRAN = ZoneInfo("Asia/Tehran")
DEFAULT_HOURS = "sat-wed 08:00-20:00; thu 08:00-14:00"
DEFAULT_HOLIDAYS = "01-01 01-02 01-03 01-04 01-12 01-13 03-14 03-15 11-22 12-29"
PERSIAN_DIGITS = set("۰۱۲۳۴۵۶۷۸۹")


def jal(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Tehran wall-clock instant given as a Jalali date."""
    gregorian = jdatetime.date(year, month, day).togregorian()
    return datetime(gregorian.year, gregorian.month, gregorian.day, hour, minute, tzinfo=TEHRAN)


def weekday_key(moment: datetime) -> str:
    return WEEKDAY_KEYS[jdatetime.date.fromgregorian(date=moment.astimezone(TEHRAN).date()).weekday()]


@pytest.fixture
def hours() -> BusinessHours:
    return BusinessHours.parse(DEFAULT_HOURS, DEFAULT_HOLIDAYS, "Asia/Tehran")


# (case, instant, its weekday, expected next opening or None for "open now", that day's weekday)
NEXT_OPENING_TABLE = [
    ("wednesday just before closing", jal(1404, 2, 3, 19, 59), "wed", None, None),
    ("wednesday at opening", jal(1404, 2, 3, 8, 0), "wed", None, None),
    ("wednesday before opening", jal(1404, 2, 3, 7, 59), "wed", jal(1404, 2, 3, 8, 0), "wed"),
    ("wednesday at closing", jal(1404, 2, 3, 20, 0), "wed", jal(1404, 2, 4, 8, 0), "thu"),
    ("thursday half day, open", jal(1404, 2, 4, 13, 59), "thu", None, None),
    ("thursday after the half day", jal(1404, 2, 4, 14, 30), "thu", jal(1404, 2, 6, 8, 0), "sat"),
    ("friday weekend", jal(1404, 2, 5, 11, 0), "fri", jal(1404, 2, 6, 8, 0), "sat"),
    ("saturday midnight", jal(1404, 2, 6, 0, 0), "sat", jal(1404, 2, 6, 8, 0), "sat"),
    # 29 Esfand is a holiday, but 1403 is a leap year: 30 Esfand (a Thursday) is a working half day.
    ("before 29 esfand in a leap year", jal(1403, 12, 28, 21, 0), "tue", jal(1403, 12, 30, 8, 0), "thu"),
    # 29 Esfand, Nowruz 1-4 Farvardin, then 5 Farvardin 1401 is a Friday: Saturday 6 Farvardin.
    ("nowruz ending on a friday", jal(1400, 12, 28, 20, 30), "sat", jal(1401, 1, 6, 8, 0), "sat"),
    # 1404 is not leap: Thursday 28 Esfand after 14:00 → Friday 29 Esfand → Nowruz → Wednesday 5 Farvardin.
    ("nowruz 1405", jal(1404, 12, 28, 15, 0), "thu", jal(1405, 1, 5, 8, 0), "wed"),
    ("during nowruz", jal(1405, 1, 2, 10, 0), "sun", jal(1405, 1, 5, 8, 0), "wed"),
    # Islamic Republic Day and Sizdah Bedar (12-13 Farvardin) fall on Tuesday and Wednesday in 1404.
    ("sizdah bedar", jal(1404, 1, 11, 20, 30), "mon", jal(1404, 1, 14, 8, 0), "thu"),
    ("22 bahman", jal(1404, 11, 21, 20, 0), "tue", jal(1404, 11, 23, 8, 0), "thu"),
]


@pytest.mark.parametrize(
    ("case", "when", "when_day", "expected", "expected_day"),
    NEXT_OPENING_TABLE,
    ids=[row[0] for row in NEXT_OPENING_TABLE],
)
def test_next_opening_table(hours, case, when, when_day, expected, expected_day):
    assert weekday_key(when) == when_day  # the table's weekdays are checked against jdatetime
    if expected is None:
        assert hours.is_open(when)
        assert hours.next_opening(when) == when
    else:
        assert weekday_key(expected) == expected_day
        assert not hours.is_open(when)
        opening = hours.next_opening(when)
        assert opening == expected
        assert opening.tzinfo is not None and opening.utcoffset() == expected.utcoffset()
        assert hours.is_open(opening)
        assert not hours.is_open(opening - timedelta(seconds=1))


def test_next_opening_returns_the_same_instant_in_the_configured_zone(hours):
    when = jal(1404, 2, 3, 12, 0).astimezone(timezone.utc)
    opening = hours.next_opening(when)
    assert opening == when
    assert opening.utcoffset() == timedelta(hours=3, minutes=30)


def test_specific_year_holiday_applies_only_in_that_year():
    hours = BusinessHours.parse(DEFAULT_HOURS, DEFAULT_HOLIDAYS + ", 1404-02-07", "Asia/Tehran")
    assert not hours.is_open(jal(1404, 2, 7, 10, 0))  # a Sunday
    assert hours.next_opening(jal(1404, 2, 7, 10, 0)) == jal(1404, 2, 8, 8, 0)
    assert weekday_key(jal(1405, 2, 7)) == "mon"
    assert hours.is_open(jal(1405, 2, 7, 10, 0))


def test_from_settings_uses_the_settings_fields():
    configured = Settings(business_hours="sat 09:00-10:00", holidays="1404-02-06", timezone="UTC", support_phone="")
    hours = BusinessHours.from_settings(configured)
    assert hours.timezone == "UTC"
    assert hours.windows == (OpeningWindow(weekday=0, start=9 * 60, end=10 * 60),)
    assert hours.holidays == (Holiday(month=2, day=6, year=1404),)


def test_parse_day_ranges_wrap_lists_and_full_names():
    hours = BusinessHours.parse("thu-sat 10:00-12:00; Sunday, tue 09:00-17:00", "", "Asia/Tehran")
    days = sorted({window.weekday for window in hours.windows})
    assert [WEEKDAY_KEYS[day] for day in days] == ["sat", "sun", "tue", "thu", "fri"]


def test_parse_several_ranges_merge_and_24_00():
    hours = BusinessHours.parse(
        "sat 08:00-12:00 16:00-20:00; sat 11:00-13:00; sun 22:00-24:00; mon 00:00-02:00", "", "UTC"
    )
    assert hours.windows == (
        OpeningWindow(0, 8 * 60, 13 * 60),
        OpeningWindow(0, 16 * 60, 20 * 60),
        OpeningWindow(1, 22 * 60, 24 * 60),
        OpeningWindow(2, 0, 2 * 60),
    )
    sunday_late = datetime(2025, 4, 27, 23, 59, 59, tzinfo=timezone.utc)  # a Sunday
    assert hours.is_open(sunday_late)
    assert hours.is_open(sunday_late + timedelta(seconds=1))  # Monday 00:00
    assert not hours.is_open(datetime(2025, 4, 28, 2, 0, tzinfo=timezone.utc))


def test_parse_accepts_persian_digits_and_slashes():
    hours = BusinessHours.parse("sat ۰۸:۰۰-۱۲:۰۰", "۰۱-۰۱، 1404/01/13", "Asia/Tehran")
    assert hours.windows == (OpeningWindow(0, 8 * 60, 12 * 60),)
    assert hours.holidays == (Holiday(1, 1), Holiday(1, 13, 1404))


@pytest.mark.parametrize(
    ("business_hours", "holidays", "zone", "setting", "token"),
    [
        ("sat-wed 8-20", "", "Asia/Tehran", "PASOKH_BUSINESS_HOURS", "8-20"),
        ("sat-xyz 08:00-20:00", "", "Asia/Tehran", "PASOKH_BUSINESS_HOURS", "sat-xyz"),
        ("sat 20:00-08:00", "", "Asia/Tehran", "PASOKH_BUSINESS_HOURS", "20:00-08:00"),
        ("sat 09:00-09:00", "", "Asia/Tehran", "PASOKH_BUSINESS_HOURS", "09:00-09:00"),
        ("sat 08:00-24:30", "", "Asia/Tehran", "PASOKH_BUSINESS_HOURS", "08:00-24:30"),
        ("sat 25:00-26:00", "", "Asia/Tehran", "PASOKH_BUSINESS_HOURS", "25:00-26:00"),
        ("sat", "", "Asia/Tehran", "PASOKH_BUSINESS_HOURS", "sat"),
        ("08:00-20:00", "", "Asia/Tehran", "PASOKH_BUSINESS_HOURS", "08:00-20:00"),
        ("sat-wed 08:00-20:00", "13-01", "Asia/Tehran", "PASOKH_HOLIDAYS", "13-01"),
        ("sat-wed 08:00-20:00", "07-31", "Asia/Tehran", "PASOKH_HOLIDAYS", "07-31"),
        ("sat-wed 08:00-20:00", "1404-12-30", "Asia/Tehran", "PASOKH_HOLIDAYS", "1404-12-30"),
        ("sat-wed 08:00-20:00", "nowruz", "Asia/Tehran", "PASOKH_HOLIDAYS", "nowruz"),
        ("sat-wed 08:00-20:00", "", "Asia/Teh", "PASOKH_TIMEZONE", "Asia/Teh"),
        ("sat-wed 08:00-20:00", "", "", "PASOKH_TIMEZONE", "''"),
    ],
)
def test_bad_settings_raise_naming_the_setting_token_and_example(business_hours, holidays, zone, setting, token):
    with pytest.raises(ValueError) as error:
        BusinessHours.parse(business_hours, holidays, zone)
    message = str(error.value)
    assert message.startswith(setting)
    assert token in message
    assert "e.g." in message or "such as" in message


def test_naive_datetimes_are_rejected(hours):
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.is_open(datetime(2025, 4, 23, 12, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        handoff_eta(hours, datetime(2025, 4, 23, 12, 0), "en")


def test_no_open_day_returns_none_instead_of_looping():
    never = BusinessHours.parse("", DEFAULT_HOLIDAYS, "Asia/Tehran")
    assert never.next_opening(jal(1404, 2, 3, 12, 0)) is None
    every_day = " ".join(
        f"{month:02d}-{day:02d}" for month in range(1, 13) for day in range(1, 32 if month <= 6 else 31)
    )
    always_closed = BusinessHours.parse(DEFAULT_HOURS, every_day, "Asia/Tehran")
    assert always_closed.next_opening(jal(1404, 2, 3, 12, 0)) is None
    text = handoff_eta(always_closed, jal(1404, 2, 3, 12, 0), "en")
    assert "as soon as possible" in text


SCHEDULES = [
    (DEFAULT_HOURS, DEFAULT_HOLIDAYS, "Asia/Tehran"),
    ("fri 00:00-24:00; sat 00:00-02:00; tue 23:59-24:00", "01-01 1404-01-02", "Asia/Tehran"),
    ("sun-thu 09:00-17:00", "12-25", "Europe/Berlin"),  # a zone that still has DST
    ("wed 01:30-02:30", "", "America/New_York"),  # opening inside a DST gap once a year
]


@settings(max_examples=300, deadline=None)
@given(
    schedule=st.sampled_from(SCHEDULES),
    when=st.datetimes(
        min_value=datetime(2019, 1, 1),
        max_value=datetime(2032, 12, 31),
        timezones=st.sampled_from([TEHRAN, timezone.utc, ZoneInfo("Europe/Berlin")]),
    ),
)
def test_next_opening_is_the_first_open_instant_not_before_when(schedule, when):
    hours = BusinessHours.parse(*schedule)
    opening = hours.next_opening(when)
    assert opening is not None
    assert str(opening.tzinfo) == hours.timezone
    # Compared in UTC: datetimes sharing a tzinfo compare by wall time, which DST makes ambiguous.
    opening_utc, when_utc = opening.astimezone(timezone.utc), when.astimezone(timezone.utc)
    assert opening_utc >= when_utc
    assert hours.is_open(opening)
    if opening_utc > when_utc:
        assert not hours.is_open(when)
        earlier = opening_utc - timedelta(minutes=1)
        assert earlier < when_utc or not hours.is_open(earlier)


# --- handoff_eta --------------------------------------------------------------------------------


def test_handoff_eta_open_now(hours):
    now = jal(1404, 2, 3, 12, 0)
    assert handoff_eta(hours, now, "en") == "A member of our team will reply here shortly."
    fa = handoff_eta(hours, now, "fa")
    assert "به\u200cزودی" in fa and "همکاران" in fa


def test_handoff_eta_closed_persian_has_jalali_date_and_persian_digits(hours):
    text = handoff_eta(hours, jal(1404, 1, 15, 12, 0), "fa")  # Friday 15 Farvardin 1404
    assert "فردا، شنبه ۱۶ فروردین، ساعت ۸:۰۰ به وقت تهران" in text
    assert PERSIAN_DIGITS & set(text)
    assert not set("0123456789") & set(text)


def test_handoff_eta_closed_english_has_weekday_jalali_and_gregorian_dates(hours):
    text = handoff_eta(hours, jal(1404, 1, 15, 12, 0), "en")
    assert "tomorrow, Saturday 16 Farvardin (5 April), at 8:00 Tehran time" in text
    later = handoff_eta(hours, jal(1404, 2, 4, 14, 30), "en")  # Thursday afternoon
    assert "on Saturday 6 Ordibehesht (26 April) at 8:00 Tehran time" in later
    same_day = handoff_eta(hours, jal(1404, 2, 3, 7, 0), "en")
    assert "today, Wednesday 3 Ordibehesht (23 April), at 8:00" in same_day


def test_handoff_eta_after_nowruz(hours):
    text = handoff_eta(hours, jal(1404, 12, 28, 15, 0), "fa")
    assert "چهارشنبه ۵ فروردین" in text
    assert "Wednesday 5 Farvardin (25 March)" in handoff_eta(hours, jal(1404, 12, 28, 15, 0), "en")


def test_handoff_eta_unknown_language_falls_back_to_persian(hours):
    assert handoff_eta(hours, jal(1404, 2, 3, 12, 0), "und") == handoff_eta(hours, jal(1404, 2, 3, 12, 0), "fa")


@pytest.mark.parametrize("lang", ["fa", "en"])
@pytest.mark.parametrize("when", [jal(1404, 2, 3, 12, 0), jal(1404, 2, 5, 12, 0)], ids=["open", "closed"])
def test_handoff_eta_appends_the_phone_only_when_given(hours, lang, when):
    without = handoff_eta(hours, when, lang)
    with_phone = handoff_eta(hours, when, lang, phone=" 021-8888 1234 ")
    assert "021-8888 1234" not in without
    assert with_phone.startswith(without)
    assert "021-8888 1234" in with_phone
