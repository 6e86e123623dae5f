"""Chinese first, English on request; the English catalogue is complete and compiled."""

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "web"
EXAMROOM = WEB.parent / "examroom"
PO = WEB / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]


def test_pages_are_chinese_by_default(client):
    page = client.get("/").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "考试实况" in page


def test_english_switch(client):
    response = client.get("/lang/en?next=/attempts/")
    assert response.status_code == 302 and response.location == "/attempts/"
    page = client.get("/attempts/").get_data(as_text=True)
    assert 'lang="en"' in page and "Attempts" in page and "考试记录" not in page
    client.get("/lang/zh_CN")
    assert "考试记录" in client.get("/attempts/").get_data(as_text=True)


def test_switch_does_not_redirect_off_site(client):
    assert client.get("/lang/en?next=//evil.example/").location == "/"


def test_every_message_has_an_english_translation():
    with PO.open("rb") as f:
        catalog = read_po(f)
    ids = {message for _file, _line, message, _comments, _ctx in
           ((e[0], e[1], e[2], e[3], e[4]) for e in extract_from_dir(str(WEB), METHODS,
                                                                     keywords={"_": None, "gettext": None, "N_": None}))}
    # Supervisor-facing errors of examroom (examroom.messages): marked N_, translated where shown.
    ids |= {e[2] for e in extract_from_dir(str(EXAMROOM), [("**.py", "python")], keywords={"N_": None})}
    assert "车辆%(vehicle)s当前没有进行中的考试" in ids  # the examroom messages are read
    missing = sorted(m for m in ids if isinstance(m, str) and not (catalog.get(m) and catalog.get(m).string))
    assert missing == [], f"add to {PO} and run: pybabel compile -d web/translations"


def test_compiled_catalogue_matches_the_po_file():
    with PO.open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    with MO.open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert po == mo, "run: pybabel compile -d web/translations"


def test_a_supervisor_error_reads_in_the_readers_language(app):
    from examroom.live.controller import AttemptStateError
    from examroom.messages import N_
    from examroom_web.i18n import answer_error, translated

    error = AttemptStateError(N_("车辆%(vehicle)s当前没有进行中的考试"), vehicle="V1")
    assert str(error) == "车辆V1当前没有进行中的考试"  # Chinese first: the CLI and the log
    answer = {"ok": False, "error": str(error), "message": error.as_dict()}  # as the controller's link sends it
    with app.test_request_context():
        assert translated(error) == answer_error(answer) == "车辆V1当前没有进行中的考试"
    with app.test_request_context():
        from flask import session

        session["lang"] = "en"
        assert translated(error) == answer_error(answer) == "Vehicle V1 has no running attempt"
        assert translated(ValueError("plain")) == "plain" and answer_error({"error": "its words"}) == "its words"
