"""GS1 element strings as scanners type them, read into GTIN, lot, expiry and quantity."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from inventory.scanning.gs1 import (
    MAX_SCAN_LENGTH,
    Gs1Error,
    NotGs1,
    format_gs1,
    gs1_date,
    parse_gs1,
    read_gs1,
)
from warehouse.validators import gtin_check_digit

TODAY = datetime.date(2026, 11, 29)
GTIN = "09501101020917"
GS = "\x1d"


def read(text):
    return read_gs1(text, today=TODAY)


def test_gtin_lot_expiry_and_count_with_the_group_separator():
    scan = read(f"01{GTIN}17261231" + f"10LOT-42{GS}3012")
    assert scan.gtin == GTIN
    assert scan.lot == "LOT-42"
    assert scan.expires_on == datetime.date(2026, 12, 31)
    assert scan.quantity == Decimal("12")
    assert scan.elements == (("01", GTIN), ("17", "261231"), ("10", "LOT-42"), ("30", "12"))


def test_without_the_separator_the_reading_with_most_fields_wins():
    scan = read(f"01{GTIN}17261231" + "10LOT-423012")
    assert (scan.lot, scan.quantity) == ("LOT-42", Decimal("12"))


def test_a_reading_without_separators_that_could_be_read_otherwise_says_so():
    # "B-3012" last, or lot "B-" and a count of 12: the count wins, and the scan says so.
    scan = read(f"01{GTIN}10B-3012")
    assert (scan.lot, scan.quantity, scan.is_ambiguous) == ("B-", Decimal("12"), True)
    assert read(f"01{GTIN}10B-30{GS}3012").is_ambiguous is False
    assert read(f"01{GTIN}17261231" + "10LOT-AB").is_ambiguous is False


def test_without_the_separator_a_lot_last_runs_to_the_end():
    scan = read(f"01{GTIN}1726123110AB/7")
    assert scan.lot == "AB/7"
    assert scan.quantity is None


def test_the_pipe_stands_in_for_the_group_separator():
    scan = read(f"01{GTIN}10LOT1726123|3712")
    # With a separator the reading is strict: the lot runs to it.
    assert scan.lot == "LOT1726123"
    assert scan.quantity == Decimal("12")
    assert scan.expires_on is None


def test_a_trailing_separator_ends_the_lot():
    scan = read(f"01{GTIN}10B-3012{GS}")
    assert (scan.lot, scan.quantity, scan.is_ambiguous) == ("B-3012", None, False)


def test_a_leading_separator_is_fnc1_in_first_position():
    assert read(f"{GS}01{GTIN}10A1").lot == "A1"


@pytest.mark.parametrize("identifier", ["]C1", "]d2", "]Q3", "]e0"])
def test_symbology_identifiers_are_dropped(identifier):
    scan = read(f"{identifier}01{GTIN}10ABC")
    assert (scan.gtin, scan.lot) == (GTIN, "ABC")


def test_a_symbology_identifier_marks_a_scan_that_does_not_start_with_a_gtin():
    assert read("]C110ABC").lot == "ABC"


def test_the_human_readable_form_in_parentheses():
    scan = read(f"(01){GTIN}(17)270315(10)B-7(37)40")
    assert scan.gtin == GTIN
    assert scan.expires_on == datetime.date(2027, 3, 15)
    assert scan.lot == "B-7"
    assert scan.quantity == Decimal("40")


def test_day_zero_means_the_last_day_of_the_month():
    assert read(f"01{GTIN}17280200").expires_on == datetime.date(2028, 2, 29)
    assert read(f"01{GTIN}17270200").expires_on == datetime.date(2027, 2, 28)
    assert read(f"01{GTIN}17261100").expires_on == datetime.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("value", "expected_year"),
    [
        ("260101", 2026),
        ("760101", 2076),  # 50 ahead: this century
        ("770101", 1977),  # 51 ahead: the previous one
        ("000101", 2000),
    ],
)
def test_the_gs1_century_rule(value, expected_year):
    assert gs1_date(value, TODAY).year == expected_year


def test_the_century_rule_near_the_end_of_a_century():
    # In 2090 a "10" is 2110 (20 ahead), not 2010 (80 behind).
    assert gs1_date("100101", datetime.date(2090, 6, 1)).year == 2110
    assert gs1_date("410101", datetime.date(2090, 6, 1)).year == 2041
    assert gs1_date("400101", datetime.date(2090, 6, 1)).year == 2140


def test_a_best_before_date_stands_in_for_a_missing_expiry():
    assert read(f"01{GTIN}15270101").expires_on == datetime.date(2027, 1, 1)
    assert read(f"01{GTIN}1527010117270202").expires_on == datetime.date(2027, 2, 2)


def test_a_wrong_check_digit_is_refused_with_the_reason():
    with pytest.raises(Gs1Error, match="wrong check digit"):
        read(f"01{GTIN[:-1]}810ABC")
    assert parse_gs1(f"01{GTIN[:-1]}810ABC") is None


def test_an_impossible_date_is_refused():
    with pytest.raises(Gs1Error):
        read(f"01{GTIN}17261341")
    with pytest.raises(Gs1Error, match="no 02-29"):
        read(f"01{GTIN}17270229")


def test_an_over_long_scan_is_refused_before_it_is_read():
    with pytest.raises(Gs1Error, match=str(MAX_SCAN_LENGTH)):
        read(f"01{GTIN}10" + "A" * MAX_SCAN_LENGTH)


@pytest.mark.parametrize(
    "text",
    ["10ABC", "FLOUR-25", "A-01-03", "", "   ", GTIN, "0123", "hello world", None, 17],
)
def test_codes_that_are_not_gs1_are_not_read_as_gs1(text):
    with pytest.raises(NotGs1):
        read(text)
    assert parse_gs1(text) is None


@pytest.mark.parametrize(
    "text",
    [
        f"01{GTIN}99XYZ",  # an AI Stockyard does not read
        f"01{GTIN}10",  # a lot with no value
        f"01{GTIN}30ABC",  # a count that is not digits
        f"01{GTIN}30123456789",  # a count longer than 8 digits, no separator
        f"01{GTIN}{GS}30123456789",
        f"01{GTIN}10A{GS}10B",  # the lot twice, differently
        "]C1",
        f"(01){GTIN}(99)X",
        f"(01){GTIN}junk",
        f"01{GTIN}10Ä",  # outside the GS1 character set
    ],
)
def test_garbage_is_refused(text):
    assert parse_gs1(text, today=TODAY) is None


def _gtins():
    body = st.text(alphabet="0123456789", min_size=13, max_size=13)
    return body.map(lambda digits: digits + str(gtin_check_digit(digits)))


_LOT_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-./_"


@given(
    gtin=_gtins(),
    expires_on=st.dates(datetime.date(1977, 1, 1), datetime.date(2076, 12, 31)),
    lot=st.text(alphabet=_LOT_CHARACTERS, min_size=1, max_size=20),
    count=st.integers(min_value=0, max_value=99_999_999),
    separator=st.sampled_from(["\x1d", "|"]),
    prefix=st.sampled_from(["", "]C1", "]d2"]),
)
def test_any_label_built_from_parts_reads_back_with_a_separator(
    gtin, expires_on, lot, count, separator, prefix
):
    elements = [("01", gtin), ("17", f"{expires_on:%y%m%d}"), ("10", lot), ("30", str(count))]
    scan = read_gs1(prefix + format_gs1(elements, separator=separator), today=TODAY)
    assert (scan.gtin, scan.lot, scan.expires_on, scan.quantity) == (
        gtin,
        lot,
        expires_on,
        Decimal(count),
    )


@given(
    gtin=_gtins(),
    expires_on=st.dates(datetime.date(1977, 1, 1), datetime.date(2076, 12, 31)),
    lot=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ-", min_size=1, max_size=20),
    count=st.integers(min_value=1, max_value=99_999_999),
)
# The count's digits can read as more of the lot, a serial (21) and another
# count: ``10A`` ``3042219300`` also reads as lot ``A3042``, serial ``9``, count 0.
@example(gtin="00000000000000", expires_on=datetime.date(2000, 1, 1), lot="A", count=42219300)
def test_without_the_separator_a_label_reads_back_or_says_it_may_not(gtin, expires_on, lot, count):
    """Without separators a lot's end can be uncertain; a reading is then marked ambiguous.

    The screens say so beside what was filled ("check the lot and the
    quantity"), so a wrong reading is never a silent one.
    """
    elements = [("01", gtin), ("17", f"{expires_on:%y%m%d}"), ("10", lot), ("30", str(count))]
    scan = read_gs1(format_gs1(elements, separator=""), today=TODAY)
    read = (scan.gtin, scan.lot, scan.expires_on, scan.quantity)
    assert read == (gtin, lot, expires_on, Decimal(count)) or scan.is_ambiguous
    assert (scan.gtin, scan.expires_on) == (gtin, expires_on)


def test_a_lot_without_digits_followed_by_a_plain_count_reads_back():
    elements = [("01", GTIN), ("17", "270315"), ("10", "LOT-A"), ("30", "12")]
    scan = read_gs1(format_gs1(elements, separator=""), today=TODAY)
    # Marked ambiguous all the same: "LOT-A3012" alone is also a whole reading.
    assert (scan.lot, scan.quantity, scan.is_ambiguous) == ("LOT-A", Decimal(12), True)


@given(st.text(max_size=MAX_SCAN_LENGTH + 20))
def test_any_text_either_reads_or_is_refused_cleanly(text):
    try:
        scan = read_gs1(text, today=TODAY)
    except Gs1Error as error:
        assert error.message
    else:
        assert scan.elements
