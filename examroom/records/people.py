"""Candidate identity as shown on screens."""

from __future__ import annotations

from datetime import date


def mask_id_number(id_number: str) -> str:
    """Mask a 身份证明号码 for display: keep the first 3 and last 4 characters.

    Screens and slips never show the full number; the region prefix and the
    last four (with the check digit) are what a candidate uses to recognise it.
    """
    text = (id_number or "").strip()
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


# GB 11643-1999: weights of the first 17 digits and the check character for each sum mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_DIGITS = frozenset("0123456789")


def id_check_character(first17: str) -> str:
    """The 18th character of a 公民身份号码 from its first 17 digits (GB 11643)."""
    if len(first17) != 17 or not all(c in _DIGITS for c in first17):
        raise ValueError("the first 17 characters of an ID number must be digits")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


# GB/T 2260 province-level codes: the first two digits of every 公民身份号码.
_PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82",
})


class IdNumberError(ValueError):
    """An ID number that fails GB 11643; the message says which part and why (in Chinese)."""


def fold_full_width(text: str) -> str:
    """Full-width ASCII forms (６２０１, Ｅ, ｘ) and the ideographic space as plain ASCII.

    Only these: a Chinese keyboard types them for ordinary digits and letters. Other look-alikes
    (superscript ², Arabic-Indic ٣) stay, so validation names them instead of guessing.
    """
    return "".join(chr(ord(c) - 0xFEE0) if "\uff01" <= c <= "\uff5e" else (" " if c == "\u3000" else c)
                   for c in text or "")


def normalize_id_number(text: str) -> str:
    """Full-width forms to ASCII, spaces out, a trailing x upper-cased, as card readers,
    spreadsheets and people type it."""
    return "".join(fold_full_width(text).split()).upper()


def validate_id_number(text: str, today: date | None = None) -> str:
    """Check a 公民身份号码 against GB 11643-1999; returns it normalised or raises IdNumberError.

    Checks, in order: length (18), digits, the province of the region code,
    the birth date (a real day, not in the future, not before 1900) and the
    check character.
    """
    number = normalize_id_number(text)
    if not number:
        raise IdNumberError("身份证明号码为空")
    if len(number) == 15 and number.isdigit():
        raise IdNumberError("15位旧号码，请使用18位公民身份号码")
    if len(number) != 18:
        raise IdNumberError(f"长度为{len(number)}位，应为18位")
    # Only ASCII digits: str.isdigit() also accepts "²" or "٣", which int() then refuses or misreads.
    for position, character in enumerate(number, start=1):
        if character not in _DIGITS and not (position == 18 and character == "X"):
            raise IdNumberError(f"第{position}位“{character}”不是数字"
                                + ("（第18位须为数字或X）" if position == 18 else ""))
    if number[:2] not in _PROVINCES or number[2:6] == "0000":
        raise IdNumberError(f"地址码{number[:6]}不是有效的行政区划代码")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError(f"出生日期{number[6:14]}不是有效日期") from None
    if born.year < 1900 or born > (today or date.today()):
        raise IdNumberError(f"出生日期{number[6:14]}不在合理范围内")
    expected = id_check_character(number[:17])
    if number[17] != expected:
        raise IdNumberError(f"校验码为{number[17]}，按GB 11643应为{expected}")
    return number


def public_name(name: str) -> str:
    """A name as the waiting hall shows it: first and last character, the rest masked."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
