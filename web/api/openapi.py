"""The OpenAPI 3.0 document of the JSON API (data: it describes, it does not route)."""

from __future__ import annotations

from examroom.records.models import AttemptStatus
from examroom_web.params import DAY_PATTERN, FIRST_DAY, LAST_DAY, MAX_ID

_DAY = {"type": "string", "format": "date", "pattern": DAY_PATTERN, "minLength": 10, "maxLength": 10,
        "description": f"a date from {FIRST_DAY} to {LAST_DAY}"}

STATUSES = [s.value for s in (AttemptStatus.CHECKED_IN, AttemptStatus.RUNNING, AttemptStatus.PASSED,
                               AttemptStatus.FAILED, AttemptStatus.ABORTED, AttemptStatus.DEVICE_FAULT)]

_DEDUCTION = {
    "type": "object",
    "required": ["rule", "code", "title", "points", "disqualify", "item", "t", "utc", "value"],
    "properties": {
        "rule": {"type": "string"}, "code": {"type": "string"}, "title": {"type": "string"},
        "points": {"type": "integer"}, "disqualify": {"type": "boolean"}, "item": {"type": "string"},
        "t": {"type": "number"}, "utc": {"type": "string", "format": "date-time"}, "value": {"type": "string"},
    },
}
_ATTEMPT = {
    "type": "object",
    "required": ["id", "status", "score", "passed", "vehicle_class", "vehicle", "examiner", "course", "rule_set",
                 "candidate", "started_utc", "ended_utc", "deductions"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": STATUSES},
        "score": {"type": "integer", "nullable": True},
        "passed": {"type": "boolean", "nullable": True},
        "vehicle_class": {"type": "string"},
        "vehicle": {"type": "string", "description": "exam vehicle plate"},
        "examiner": {"type": "string", "nullable": True,
                     "description": "the supervisor who confirmed the candidate at check-in; null when not recorded"},
        "course": {"type": "string"},
        "rule_set": {"type": "string"},
        "candidate": {"type": "object", "required": ["name", "id_number", "exam_number"], "properties": {
            "name": {"type": "string"},
            "id_number": {"type": "string", "description": "masked: first 3 and last 4 characters"},
            "exam_number": {"type": "string"}}},
        "started_utc": {"type": "string", "format": "date-time", "nullable": True},
        "ended_utc": {"type": "string", "format": "date-time", "nullable": True},
        "deductions": {"type": "array", "items": {"$ref": "#/components/schemas/Deduction"}},
    },
}
_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
_RATE = {"type": "object", "required": ["key", "attempts", "passed", "rate"], "properties": {
    "key": {"type": "string"}, "attempts": {"type": "integer"}, "passed": {"type": "integer"},
    "rate": {"type": "number"}}}
_RATE_LISTS = ("by_day", "by_class", "by_item", "by_vehicle")


def _errors(*codes: int) -> dict:
    text = {400: "bad request", 401: "not signed in", 403: "role not allowed or out of scope", 404: "not found"}
    return {str(c): {"description": text[c], "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            for c in codes}


def _ok(schema: dict) -> dict:
    return {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}}


DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "examroom API", "version": "1",
             "description": "Attempts, live state and statistics of a 科目二 course. Sign in at /login; "
                            "the session cookie authorises API calls with the same roles as the pages."},
    "components": {
        "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session"}},
        "schemas": {"Deduction": _DEDUCTION, "Attempt": _ATTEMPT, "Error": _ERROR, "Rate": _RATE},
    },
    "security": [{"session": []}],
    "paths": {
        "/api/v1/attempts": {"get": {
            "summary": "Search attempts (roles: admin, supervisor, auditor within their scope)",
            "parameters": [
                {"name": "day", "in": "query", "schema": _DAY, "description": "Beijing-time date"},
                {"name": "vehicle_class", "in": "query", "schema": {"type": "string", "minLength": 1, "maxLength": 4}},
                {"name": "status", "in": "query", "schema": {"type": "string", "enum": STATUSES}},
                {"name": "rule", "in": "query", "schema": {"type": "string", "maxLength": 64}},
                {"name": "candidate", "in": "query", "schema": {"type": "string", "maxLength": 64},
                 "description": "name or 准考证明编号"},
                {"name": "examiner", "in": "query", "schema": {"type": "string", "maxLength": 64},
                 "description": "examiner's name as confirmed at check-in; attempts without one never match"},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "format": "int32", "minimum": 1,
                                                             "maximum": 500}},
            ],
            "responses": {**_ok({"type": "object", "required": ["attempts"], "properties": {
                "attempts": {"type": "array", "items": {"$ref": "#/components/schemas/Attempt"}}}}),
                **_errors(400, 401, 403)},
        }},
        "/api/v1/attempts/{attempt_id}": {"get": {
            "summary": "One attempt with its deductions",
            "parameters": [{"name": "attempt_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "format": "int64", "minimum": 1,
                                       "maximum": MAX_ID}}],
            "responses": {**_ok({"$ref": "#/components/schemas/Attempt"}), **_errors(401, 403, 404)},
        }},
        "/api/v1/live": {"get": {
            "summary": "Each vehicle's live state (candidate, item, score, deductions)",
            "responses": {**_ok({"type": "object", "required": ["vehicles"], "properties": {
                "vehicles": {"type": "object", "additionalProperties": {"type": "object"}}}}),
                **_errors(401, 403)},
        }},
        "/api/v1/seals/heads": {"get": {
            "summary": "Each course's seal chain head: keep the digest, `examroom verify --head` proves later "
                       "that no sealed attempt was removed up to it (roles: admin, supervisor, auditor within "
                       "their scope)",
            "responses": {**_ok({"type": "object", "required": ["heads"], "properties": {
                "heads": {"type": "object", "additionalProperties": {
                    "type": "object", "required": ["seq", "digest", "attempt", "sealed_utc"], "properties": {
                        "seq": {"type": "integer"}, "digest": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        "attempt": {"type": "integer"}, "sealed_utc": {"type": "string"}}}}}}),
                **_errors(401, 403)},
        }},
        "/api/v1/statistics": {"get": {
            "summary": "Pass rates by day, class, item, vehicle and examiner",
            "parameters": [{"name": "since", "in": "query", "schema": _DAY},
                           {"name": "until", "in": "query", "schema": _DAY}],
            "responses": {**_ok({"type": "object", "required": ["attempts", *_RATE_LISTS, "by_examiner"],
                                 "properties": {
                "attempts": {"type": "integer"},
                **{k: {"type": "array", "items": {"$ref": "#/components/schemas/Rate"}} for k in _RATE_LISTS},
                "by_examiner": {"type": "array", "items": {"$ref": "#/components/schemas/Rate"},
                                "description": "only attempts whose examiner was recorded at check-in"}}}),
                **_errors(400, 401, 403)},
        }},
    },
}
