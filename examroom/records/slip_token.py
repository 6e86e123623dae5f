"""The signed statement a result slip carries in its QR code.

When an attempt is sealed, the controller also signs a short statement of
what the slip says — attempt, class, date, masked name and ID number, score,
verdict and each item's result — with the course key. The QR code holds it
(as ``?slip=`` of the verification link), so whoever scans a slip can check
offline (``examroom verify --slip``, with the course's public key) that a
course signed exactly these facts, and the verification page compares them
with the stored record. A forged slip either carries no valid signature or
carries facts that are not its own.

Token: ``base64url(canonical JSON) "." base64url(Ed25519 signature)``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from examroom import courseclock
from examroom.records.people import public_name
from examroom.records.deduction_items import deduction_item
from examroom.records.people import mask_id_number

TOKEN_VERSION = 1


class SlipTokenError(ValueError):
    """Text that is not a slip token at all (cannot be checked, as opposed to a forged one)."""


def item_results(attempt) -> list[list]:
    """[[item id, points lost, disqualified], ...] in exam order, as the slip prints them.

    ``general`` (综合评判) is listed only when it deducted.
    """
    result = attempt.result or {}
    order = [i["id"] for i in result.get("items", [])]
    by_item: dict[str, list] = {}
    for d in sorted(attempt.deductions, key=lambda d: (d.t, d.id or 0)):
        by_item.setdefault(deduction_item(d), []).append(d)
    out = []
    for item in ["general"] + [i for i in order if i != "general"] + sorted(set(by_item) - set(order) - {"general"}):
        deductions = by_item.get(item, [])
        if item == "general" and not deductions:
            continue
        out.append([item, sum(d.points for d in deductions), any(d.disqualify for d in deductions)])
    return out


def exam_day(attempt) -> str:
    """The exam's day in China time (what the slip signs, the same at every course)."""
    return courseclock.local(attempt.started_utc or attempt.checked_in_utc, courseclock.CHINA).date().isoformat()


def slip_claims(attempt, key_id: str) -> dict:
    """What a slip of ``attempt`` states, as the token signs it (short keys keep the QR small).

    A course with a code (docs/city.md) also signs it (``o``), so the slip names its attempt at the
    city too; slips of a course without one, and every slip made before, carry none.
    """
    claims = {"v": TOKEN_VERSION, "a": attempt.id, "k": key_id, "c": attempt.vehicle_class,
              "d": exam_day(attempt), "n": public_name(attempt.candidate.name),
              "i": mask_id_number(attempt.candidate.id_number), "s": attempt.score, "r": attempt.status,
              "it": item_results(attempt)}
    if getattr(attempt, "course_key", ""):
        claims["o"] = attempt.course_key
    return claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_slip(claims: dict, key: Ed25519PrivateKey) -> str:
    body = json.dumps(claims, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return f"{_b64(body)}.{_b64(key.sign(body))}"


def token_from_text(text: str) -> str:
    """The token from what a scanner read: the verification link, or the bare token."""
    text = (text or "").strip()
    if "://" in text or text.startswith("/"):
        found = parse_qs(urlsplit(text).query).get("slip")
        if not found:
            raise SlipTokenError("the link carries no signed slip (no slip= in it): a slip printed before "
                                 "signed slips, or not a slip's link")
        text = found[0]
    return text


@dataclass(frozen=True)
class SlipCheck:
    claims: dict
    signed: bool  # the signature holds under the key it was checked with

    @property
    def attempt(self) -> int:
        return self.claims["a"]


def read_slip(text: str, keys: dict[str, Ed25519PublicKey]) -> SlipCheck:
    """Decode a token (or a link holding one) and check its signature with the key it names.

    ``keys``: key id → public key (the pinned key file, or the keys kept in a database).
    Raises SlipTokenError when the text is not a token; a token whose key is unknown or
    whose signature fails comes back with ``signed=False``.
    """
    token = token_from_text(text)
    try:
        body_text, signature_text = token.split(".")
        body, signature = _unb64(body_text), _unb64(signature_text)
        claims = json.loads(body.decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise SlipTokenError(f"not a signed slip token: {exc}") from None
    if not isinstance(claims, dict) or not isinstance(claims.get("a"), int) or claims.get("v") != TOKEN_VERSION:
        raise SlipTokenError("not a signed slip token: unknown layout or version")
    key = keys.get(str(claims.get("k")))
    signed = False
    if key is not None:
        try:
            key.verify(signature, body)
            signed = True
        except InvalidSignature:
            signed = False
    return SlipCheck(claims=claims, signed=signed)


def differences(claims: dict, stored: dict) -> list[str]:
    """The fields where a slip's claims and the stored record's claims disagree.

    The course (``o``) is compared when the slip names one: a slip made before its course had a
    code names none, and its record has been given the code since.
    """
    names = ("a", "c", "d", "n", "i", "s", "r", "it") + (("o",) if "o" in claims else ())
    return [name for name in names if claims.get(name) != stored.get(name)]
