"""What a code or a name may contain: one rule for models, forms, the admin and the API.

Codes (SKUs, warehouse, bin and lot codes) are typed by people and scanned
from barcodes, and shown on every screen and pick list. They are plain
ASCII letters, digits and ``. _ / -``, starting with a letter or digit: no
spaces to lose at either end, and nothing that renders as something else
(a Cyrillic capital A beside a Latin one, a right-to-left override that turns
``ABC-123`` around on screen, a zero-width space that makes two SKUs look
identical).

Names and other free text may use any script, but never control characters,
bidirectional overrides and isolates, zero-width or other invisible format
characters, surrogates, private-use or non-characters. That set is written
as ranges, so the API's JSON Schema states exactly the rule the server
applies.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"

# Characters free text may not contain, as (first, last) code points.
FORBIDDEN_IN_TEXT = (
    (0x0000, 0x001F),  # C0 controls, NUL and line breaks included
    (0x007F, 0x009F),  # DEL and C1 controls
    (0x00AD, 0x00AD),  # soft hyphen (invisible)
    (0x061C, 0x061C),  # Arabic letter mark (bidi)
    (0x115F, 0x1160),  # Hangul fillers (blank)
    (0x180E, 0x180E),  # Mongolian vowel separator (invisible)
    (0x200B, 0x200F),  # zero-width space, joiners, left-to-right and right-to-left marks
    (0x2028, 0x202E),  # line and paragraph separators, bidi embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidi isolates, deprecated formats
    (0x3164, 0x3164),  # Hangul filler (blank)
    (0xD800, 0xDFFF),  # surrogates (not characters; no encoding can store one alone)
    (0xE000, 0xF8FF),  # private use
    (0xFDD0, 0xFDEF),  # non-characters
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # zero-width no-break space (byte order mark)
    (0xFFA0, 0xFFA0),  # half-width Hangul filler (blank)
    (0xFFF0, 0xFFFF),  # specials: interlinear annotation, non-characters
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0000, 0xE0FFF),  # tags and variation selectors supplement
    (0xF0000, 0x10FFFF),  # supplementary private use
)


def _character_class(ranges) -> str:
    parts = []
    for first, last in ranges:
        parts.append(f"\\u{first:04x}" if first <= 0xFFFF else f"\\U{first:08x}")
        if last != first:
            parts.append("-")
            parts.append(f"\\u{last:04x}" if last <= 0xFFFF else f"\\U{last:08x}")
    return "".join(parts)


# For Python. The JSON Schema spells the same class with ECMA escapes (TEXT_JSON_PATTERN).
TEXT_PATTERN = f"^[^{_character_class(FORBIDDEN_IN_TEXT)}]*$"


def _json_class(ranges) -> str:
    """The same class for a JSON Schema ``pattern``.

    Escapes ``\\uXXXX`` read alike in ECMA, Python and Rust regular expressions;
    beyond the Basic Multilingual Plane they do not, so those ranges are written
    as the characters themselves. Surrogates are left out: they are no
    characters, cannot be written in UTF-8, and the server refuses them anyway.
    """
    parts = []
    for first, last in ranges:
        if first >= 0xD800 and last <= 0xDFFF:
            continue
        if first > 0xFFFF:
            parts.append(chr(first) if first == last else f"{chr(first)}-{chr(last)}")
        else:
            parts.append(f"\\u{first:04x}" if first == last else f"\\u{first:04x}-\\u{last:04x}")
    return "".join(parts)


_FORBIDDEN_JSON = _json_class(FORBIDDEN_IN_TEXT)
TEXT_JSON_PATTERN = f"^[^{_FORBIDDEN_JSON}]*$"
# Not blank either: at least one character that is not a space.
TEXT_REQUIRED_JSON_PATTERN = f"^[^{_FORBIDDEN_JSON}]*[^{_FORBIDDEN_JSON}\\s][^{_FORBIDDEN_JSON}]*$"

_CODE = re.compile(CODE_PATTERN, re.ASCII)
_TEXT = re.compile(TEXT_PATTERN)


def is_code(value: object) -> bool:
    return isinstance(value, str) and _CODE.fullmatch(value) is not None


def first_forbidden_character(value: str) -> str | None:
    for character in value:
        if _TEXT.fullmatch(character) is None:
            return character
    return None


def code_error(value: object, what: str = "code") -> str | None:
    """Why ``value`` is not a valid code, or None when it is."""
    if not isinstance(value, str) or not value:
        return f"The {what} must not be empty."
    if value != value.strip():
        return f"The {what} must not start or end with a space."
    if is_code(value):
        return None
    bad = next((c for c in value if not is_code("A" + c)), value[0])
    return (
        f"The {what} may contain only ASCII letters, digits and . _ / - and must start "
        f"with a letter or digit (found U+{ord(bad):04X})."
    )


def text_error(value: object, what: str = "text") -> str | None:
    """Why ``value`` is not clean text, or None when it is."""
    if not isinstance(value, str):
        return f"The {what} must be text."
    bad = first_forbidden_character(value)
    if bad is None:
        return None
    return (
        f"The {what} contains U+{ord(bad):04X}, a control, invisible or direction-changing "
        "character."
    )


@deconstructible
class CodeValidator:
    """A model-field validator for codes; ``what`` names the field in the message."""

    def __init__(self, what: str = "code"):
        self.what = what

    def __call__(self, value):
        message = code_error(value, self.what)
        if message is not None:
            raise ValidationError(message, code="invalid_code")

    def __eq__(self, other):
        return isinstance(other, CodeValidator) and other.what == self.what


@deconstructible
class TextValidator:
    """A model-field validator for names and notes (any script, nothing invisible)."""

    def __init__(self, what: str = "text"):
        self.what = what

    def __call__(self, value):
        message = text_error(value, self.what)
        if message is not None:
            raise ValidationError(message, code="invalid_text")

    def __eq__(self, other):
        return isinstance(other, TextValidator) and other.what == self.what


def gtin_check_digit(digits: str) -> int:
    """The GS1 check digit of ``digits`` (a GTIN without its last digit)."""
    total = sum(
        int(digit) * (3 if position % 2 == 0 else 1)
        for position, digit in enumerate(reversed(digits))
    )
    return (10 - total % 10) % 10


def normalize_gtin(value: str) -> str | None:
    """A GTIN-8, -12, -13 or -14 as its 14-digit form, or None if it is not a valid one."""
    value = value.strip()
    if len(value) not in (8, 12, 13, 14) or not (value.isascii() and value.isdigit()):
        return None
    if gtin_check_digit(value[:-1]) != int(value[-1]):
        return None
    return value.zfill(14)


@deconstructible
class GtinValidator:
    """A stored GTIN: 14 digits with a valid GS1 check digit (or empty)."""

    def __call__(self, value):
        if value and (len(value) != 14 or normalize_gtin(value) != value):
            raise ValidationError(
                "A GTIN has 8, 12, 13 or 14 digits ending in a valid check digit.",
                code="invalid_gtin",
            )

    def __eq__(self, other):
        return isinstance(other, GtinValidator)
