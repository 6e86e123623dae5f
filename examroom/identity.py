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
