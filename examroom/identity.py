"""Candidate identity as shown on screens."""


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


def id_check_character(first17: str) -> str:
    """The 18th character of a 公民身份号码 from its first 17 digits (GB 11643)."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("the first 17 characters of an ID number must be digits")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]
