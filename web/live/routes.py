"""Live page and its server-sent event stream."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Iterator

from flask import Response, current_app, jsonify, render_template, stream_with_context
from flask_babel import gettext as _
from sqlalchemy import select

from examroom.examday.callup import desk_queues
from examroom.coursetools.plan import plan_of
from examroom.records.models import AttemptStatus, Vehicle
from examroom_web.filters import booking_state, item_title, sitting_status, status_text
from examroom_web.i18n import select_locale
from examroom_web.live import bp
from examroom_web.security import STAFF, roles
from examroom_web.services import feed, records


@bp.get("/")
@roles(*STAFF)
def course():
    # Each vehicle's card shows the cameras the site file puts in or behind it (in-cab, chase).
    from examroom_web.cameras.routes import controller_cameras
    from examroom_web.filters import camera_title

    listed, _reachable = controller_cameras(current_app.config.get("LIVE_VIDEO_URL", ""))
    cameras: dict[str, list[dict]] = {}
    for c in listed:
        if c.get("vehicle"):
            cameras.setdefault(c["vehicle"], []).append({"camera": c["camera"], "src": c["src"],
                                                         "title": camera_title(c["camera"])})
    return render_template("live.html", vehicles=feed().state(), cameras=cameras)


@bp.get("/live/plan.json")
@roles(*STAFF)
def plan():
    """The course plan for the console's live map, with the Chinese names it shows."""
    from examroom_web.replay.attempts import course  # the web process's course, loaded once

    drawn = plan_of(course())
    sensors = []
    types = [item["type"] for item in drawn["items"]]
    for item in drawn["items"]:
        item["title"] = item_title(item["type"])
        if types.count(item["type"]) > 1:  # two pile items: say whose (the vehicle classes)
            item["title"] += "（" + "/".join(item["classes"]) + "）"
        for pole in item["poles"]:
            sensors.append({"element": pole["element"], "kind": "pole", "item": item["id"],
                            "label": _("%(item)s %(n)s号桩杆", item=item["title"], n=pole["number"])})
        for deck in item["decks"]:
            if deck["element"]:
                side = {"A": _("左桥"), "B": _("右桥")}.get(deck["name"], deck["name"])
                sensors.append({"element": deck["element"], "kind": "deck", "item": item["id"],
                                "label": _("%(item)s %(side)s", item=item["title"], side=side)})
    return jsonify(plan=drawn, sensors=sensors)


@bp.get("/live/queue")
@roles(*STAFF)
def queue():
    """The sittings' queues for the console (polled, and refreshed on each start and finish)."""
    sessions = records().sessions
    queues = desk_queues(sessions)
    # A vehicle is busy while a candidate is called to it or its attempt runs (or waits, suspended).
    occupied = {e.vehicle_id for q in queues for e in q.entries if e.vehicle_id}
    occupied |= {vid for vid, s in feed().state().items() if s.get("status") in (AttemptStatus.RUNNING.value, AttemptStatus.SUSPENDED.value)}
    with sessions() as session:
        vehicles = [{"id": v.id, "plate": v.plate, "vehicle_class": v.vehicle_class, "busy": v.id in occupied}
                    for v in session.scalars(select(Vehicle).order_by(Vehicle.id))]
    plates = {v["id"]: v["plate"] for v in vehicles}
    sittings = [{
        "id": q.sitting_id, "code": q.code, "status": q.status, "status_text": sitting_status(q.status),
        "finished": q.finished, "booked": q.booked,
        "entries": [{"booking": e.booking_id, "queue_no": e.queue_no, "name": e.name, "id": e.masked_id,
                     "vehicle_class": e.vehicle_class, "state": e.state, "state_text": booking_state(e.state),
                     "plate": plates.get(e.vehicle_id or "", ""), "retest": e.tries > 0} for e in q.entries],
    } for q in queues]
    return jsonify(sittings=sittings, vehicles=vehicles)


@bp.get("/live/stream")
@roles(*STAFF)
def stream():
    keepalive = current_app.config["SSE_KEEPALIVE_SECONDS"]
    screens = current_app.extensions.setdefault("examroom.streams", _Streams())
    if not screens.enter(current_app.config.get("STREAM_LIMIT")):
        # Every stream holds a server thread: past the limit the pages would have none left.
        return Response(_("同时打开的实况画面过多，请稍后再试"), status=503, headers={"Retry-After": "30"},
                        mimetype="text/plain")
    subscription = feed().subscribe()
    rendered = current_app.extensions.setdefault("examroom.rendered", _Rendered())
    language = select_locale()

    @stream_with_context
    def events() -> Iterator[str]:
        try:
            yield "retry: 2000\n\n"
            while True:
                event = subscription.get(timeout=keepalive)
                if subscription.overflowed:
                    # The page fell behind: tell it to reload the whole state.
                    yield "event: resync\ndata: {}\n\n"
                    return
                if event is None:
                    yield ": keep-alive\n\n"
                    continue
                yield rendered.text(event, language)
        finally:
            subscription.close()

    response = Response(events(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    # The server closes the response when the screen goes, even one that left before its first event.
    response.call_on_close(subscription.close)
    response.call_on_close(screens.leave)
    return response


class _Rendered:
    """Each event's text for the page, made once per language and shared by every screen.

    With hundreds of screens open, rendering an event once per screen was most of the server's
    work per event (bench/console_screens.py). A subscriber's first state (id 0) is its own.
    """

    SIZE = 256  # events kept: far more than a slow screen is behind before it must resync

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._texts: OrderedDict[tuple[int, str], str] = OrderedDict()

    def text(self, event: dict, language: str) -> str:
        key = (event["id"], language)
        with self._lock:
            found = self._texts.get(key) if event["id"] else None
        if found is None:
            found = f"id: {event['id']}\ndata: {json.dumps(_for_page(event), ensure_ascii=False)}\n\n"
            if event["id"]:
                with self._lock:
                    self._texts[key] = found
                    while len(self._texts) > self.SIZE:
                        self._texts.popitem(last=False)
        return found

    def __len__(self) -> int:
        return len(self._texts)


class _Streams:
    """How many event streams are open, against the server's limit (web.serving sets STREAM_LIMIT)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0

    def enter(self, limit: int | None) -> bool:
        with self._lock:
            if limit is not None and self.open >= limit:
                return False
            self.open += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.open -= 1


def _for_page(event: dict) -> dict:
    """Add the Chinese texts the page shows, so the browser needs no catalogue."""
    def decorate(state: dict) -> dict:
        return {**state, "status_text": status_text(state.get("status", "")),
                "item_text": item_title(state.get("item_type"))}

    out = dict(event)
    announce = _announcement(event)
    if announce:
        out["announce"] = announce
    if "vehicles" in out:
        out["vehicles"] = {k: decorate(v) for k, v in out["vehicles"].items()}
    if "vehicle_state" in out:
        out["vehicle_state"] = decorate(out["vehicle_state"])
    return out


def _announcement(event: dict) -> str:
    """The Mandarin sentence the browser speaks for a deduction or a result."""
    if event.get("type") == "deduction":
        d = event["deduction"]
        if d.get("disqualify"):
            return _("%(title)s，考试不合格", title=d["title"])
        return _("%(title)s，扣%(points)s分", title=d["title"], points=d["points"])
    if event.get("type") == "finished":
        status = event.get("vehicle_state", {}).get("status")
        score = event.get("vehicle_state", {}).get("score")
        if status == AttemptStatus.PASSED.value:
            return _("考试合格，成绩%(score)s分", score=score)
        if status == AttemptStatus.FAILED.value:
            return _("考试不合格，成绩%(score)s分", score=score)
        return status_text(status or "")
    return ""
