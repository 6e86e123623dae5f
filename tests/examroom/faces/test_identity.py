"""1:1 identity at check-in and during the attempt, sealed with it, and deleted when its retention ends."""

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from devices.camera import Frame, FrameFanout
from examroom.accounts.audit import AuditLog
from examroom.examday.checkin import CheckIn, CheckInError, IdentityUndecided
from examroom.faces.identity import booking_descriptor, set_reference
from examroom.faces.personal_data import delete_expired
from examroom.faces.watch import FaceWatch
from examroom.records.database import make_engine, session_factory
from examroom.records.models import Attempt, AuditEntry, Booking, FaceFlag, IdentityCheck, Seal, Sitting
from examroom.records.sealing import Sealer
from examroom.records.verify import verify
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tests.examroom import face_photos
from tests.examroom.attempts import finished_attempt, id_number
from tests.examroom.face_photos import encoded, fit_area, on_frame, photo, side_by_side

pytestmark = pytest.mark.skipif(not face_photos.available(),
                                reason=f"the face photos are not in {face_photos.FOLDER} (EXAMROOM_FACE_PHOTOS)")
ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
OBAMA_12, OBAMA_09, OBAMA_10 = ("obama_2012_official_portrait.jpg", "obama_2009_joint_session.jpg",
                                "obama_2010_blue_room.jpg")
BIDEN_10 = "biden_2010_blue_room.jpg"


def picture(name: str) -> bytes:
    return encoded(fit_area(photo(name), 640, 480))


@pytest.fixture
def desk(engine, records):
    """A running sitting with one booking (no reference photo yet), and the check-in desk."""
    return make_desk(engine, records)


def make_desk(engine, records):
    sessions = session_factory(engine)
    attempt = finished_attempt(records)  # makes the candidate; the attempt itself is not this booking's
    with sessions.begin() as session:
        candidate_id = session.get(Attempt, attempt).candidate_id
        sitting = Sitting(code="S-ID", course_code="", checkin_opens_utc=T0, starts_utc=T0,
                          ends_utc=T0 + timedelta(hours=4), status="running")
        session.add(sitting)
        session.flush()
        booking = Booking(sitting_id=sitting.id, candidate_id=candidate_id, vehicle_class="E", state="booked",
                          serial_number="", school="", exam_reason="初考", confirmed_by="", photo_sha256="",
                          tries=0, outcome="")
        session.add(booking)
        session.flush()
        return sessions, CheckIn(sessions), booking.id, candidate_id


def with_reference(sessions, booking_id, name, source="roster"):
    with sessions.begin() as session:
        set_reference(session.get(Booking, booking_id), picture(name), source, "importer")


def checks(sessions, booking_id):
    with sessions() as session:
        return [(c.kind, c.outcome, c.unclear, c.decision, c.decided_by)
                for c in session.query(IdentityCheck).filter_by(booking_id=booking_id).order_by(IdentityCheck.id)]


def test_without_a_reference_the_first_checkin_photo_becomes_it(desk):
    sessions, checkin, booking_id, _ = desk
    presented = checkin.present(booking_id, picture(OBAMA_12), "考试员甲", T0)
    assert presented.queue_no == 1 and presented.identity.outcome == "enrolled"
    with sessions() as session:
        booking = session.get(Booking, booking_id)
        assert (booking.state, booking.reference_source, booking.reference_confirmed_by) == (
            "checked_in", "checkin", "考试员甲")
        assert booking.reference_sha256 == booking.photo_sha256 and booking.face_descriptor is not None
        assert len(booking.face_descriptor) == 512 and booking.face_model == "dlib_resnet_v1+5pt"


def test_the_same_person_is_checked_in_with_the_distance_kept(desk):
    sessions, checkin, booking_id, _ = desk
    with_reference(sessions, booking_id, OBAMA_12)
    presented = checkin.present(booking_id, picture(OBAMA_09), "考试员甲", T0)
    assert presented.queue_no == 1 and presented.identity.outcome == "match"
    assert presented.identity.distance < presented.identity.threshold == 0.55
    assert checks(sessions, booking_id) == [("checkin", "match", "", "", "")]
    with sessions() as session:
        assert session.get(Booking, booking_id).reference_source == "roster"  # the reference stays the roster's


def test_a_different_person_waits_for_the_supervisor_who_refuses_then_accepts_a_retake(desk):
    sessions, checkin, booking_id, _ = desk
    with_reference(sessions, booking_id, OBAMA_10)
    stand_in = picture(BIDEN_10)  # same room, light and camera as the reference
    with pytest.raises(IdentityUndecided) as refused:
        checkin.confirm(booking_id, stand_in, "考试员甲", T0)
    first = refused.value.identity
    assert first.outcome == "mismatch" and first.distance > 0.7 and first.needs_decision
    with sessions() as session:
        booking = session.get(Booking, booking_id)
        assert (booking.state, booking.photo) == ("booked", None)  # not checked in
        assert session.get(IdentityCheck, first.check_id).picture == stand_in  # both pictures kept for the decision
    with pytest.raises(CheckInError, match="原因"):
        checkin.decide(booking_id, first.check_id, False, "考试员甲", "  ", T0)
    assert checkin.decide(booking_id, first.check_id, False, "考试员甲", "不是本人", T0) is None
    with pytest.raises(CheckInError, match="没有待决定"):  # decided once
        checkin.decide(booking_id, first.check_id, True, "考试员甲", "", T0)
    # the candidate comes back: a photo that cannot tell (two people in it), which the supervisor accepts
    second = checkin.present(booking_id, encoded(side_by_side(OBAMA_12, BIDEN_10)), "考试员乙", T0)
    assert (second.queue_no, second.identity.outcome, second.identity.unclear) == (None, "cannot_tell",
                                                                                    "several_faces")
    assert checkin.decide(booking_id, second.identity.check_id, True, "考试员乙", "核对身份证，本人", T0) == 1
    assert checks(sessions, booking_id) == [("checkin", "mismatch", "", "refused", "考试员甲"),
                                            ("checkin", "cannot_tell", "several_faces", "accepted", "考试员乙")]
    with sessions() as session:
        booking = session.get(Booking, booking_id)
        assert (booking.state, booking.confirmed_by) == ("checked_in", "考试员乙")
        assert booking.photo == encoded(side_by_side(OBAMA_12, BIDEN_10))


@pytest.mark.parametrize("name, unclear", [(face_photos.PROFILE_ONLY, "no_face")])
def test_a_photo_without_a_usable_face_cannot_tell(desk, name, unclear):
    sessions, checkin, booking_id, _ = desk
    with_reference(sessions, booking_id, OBAMA_12)
    presented = checkin.present(booking_id, picture(name), "考试员甲", T0)
    assert (presented.queue_no, presented.identity.outcome, presented.identity.unclear) == (
        None, "cannot_tell", unclear)


def test_a_reference_without_a_face_cannot_tell_and_goes_to_the_supervisor(desk):
    sessions, checkin, booking_id, _ = desk
    with_reference(sessions, booking_id, face_photos.PROFILE_ONLY)
    with sessions() as session:
        assert session.get(Booking, booking_id).face_descriptor is None
    presented = checkin.present(booking_id, picture(OBAMA_12), "考试员甲", T0)
    assert (presented.identity.outcome, presented.identity.unclear) == ("cannot_tell", "reference")


def frame(image, seconds):
    return Frame(image=image, utc=T0 + timedelta(seconds=seconds), mono=1000.0 + seconds, seq=int(seconds))


def test_in_cab_a_run_of_mismatches_flags_the_attempt_and_warns_once_per_run(desk, records):
    sessions, checkin, booking_id, candidate_id = desk
    with_reference(sessions, booking_id, OBAMA_12)
    attempt_id = finished_attempt(records, booking_id=booking_id, candidate_id=candidate_id)
    with sessions() as session:
        reference = booking_descriptor(session.get(Booking, booking_id))
        score = session.get(Attempt, attempt_id).score
    warnings = []
    watch = FaceWatch(sessions, FrameFanout(), attempt_id, "car-V1", interval=2.0, reference=reference,
                      booking_id=booking_id, vehicle="V1", mismatch_run=3, publish=warnings.append)
    rider, other = on_frame(photo(OBAMA_09)), on_frame(photo(BIDEN_10))
    turned = on_frame(photo(face_photos.PROFILE_ONLY))
    # match, 2 mismatches (too few), match, 3 mismatches with a turned head between (one run), 1 more, match, 3
    script = [rider, other, other, rider, other, turned, other, other, other, rider, other, other, other]
    for i, image in enumerate(script):
        watch.sample(frame(image, 2.0 * i))
    assert [v.outcome.value for v in watch.verdicts] == [
        "match", "mismatch", "mismatch", "match", "mismatch", "cannot_tell", "mismatch", "mismatch", "mismatch",
        "match", "mismatch", "mismatch", "mismatch"]
    assert [(w["vehicle"], w["attempt"], w["frames"]) for w in warnings] == [("V1", attempt_id, 3),
                                                                             ("V1", attempt_id, 3)]
    with sessions() as session:
        runs = session.query(IdentityCheck).filter_by(attempt_id=attempt_id).order_by(IdentityCheck.id).all()
        assert [(r.kind, r.outcome, r.frames, r.utc.replace(tzinfo=timezone.utc)) for r in runs] == [
            ("in_cab", "mismatch", 4, T0 + timedelta(seconds=8)), ("in_cab", "mismatch", 3, T0 + timedelta(seconds=20))]
        frames = session.query(FaceFlag).filter_by(attempt_id=attempt_id, reason="mismatch").all()
        assert len(frames) == 7 and all(f.distance > 0.7 and f.jpeg for f in frames)  # the evidence frames
        assert session.get(Attempt, attempt_id).score == score  # never changes the score


def test_decisions_and_in_cab_runs_are_sealed_and_survive_the_deletion_of_the_pictures(desk, records):
    seal_and_delete(desk, records)


@pytest.mark.postgres
def test_sealed_and_deleted_on_postgresql(postgres_engine):
    from examroom.records.attempt_log import Records
    from examroom.records.database import upgrade

    upgrade(postgres_engine)
    records = Records(session_factory(postgres_engine))
    seal_and_delete(make_desk(postgres_engine, records), records)


def seal_and_delete(desk, records):
    sessions, checkin, booking_id, candidate_id = desk
    with_reference(sessions, booking_id, OBAMA_10)
    presented = checkin.present(booking_id, picture(BIDEN_10), "考试员甲", T0)
    checkin.decide(booking_id, presented.identity.check_id, True, "考试员甲", "家属证明", T0)
    attempt_id = finished_attempt(records, booking_id=booking_id, candidate_id=candidate_id)
    with sessions() as session:
        reference = booking_descriptor(session.get(Booking, booking_id))
    watch = FaceWatch(sessions, FrameFanout(), attempt_id, "car-V1", interval=1.0, reference=reference,
                      booking_id=booking_id, mismatch_run=2)
    for i in range(2):
        watch.sample(frame(on_frame(photo("biden_2013_official_portrait.jpg")), i))  # the accepted stand-in
    Sealer(sessions, Ed25519PrivateKey.generate()).seal(attempt_id)
    with sessions() as session:
        payload = json.loads(session.get(Seal, attempt_id).payload)
    assert payload["version"] == 5  # the face checks, on a course without a code
    identity = payload["record"]["identity"]
    assert identity["reference"]["source"] == "roster"
    assert [(c["kind"], c["outcome"], c["decision"], c["decided_by"], c["comment"]) for c in identity["checks"]] == [
        ("checkin", "mismatch", "accepted", "考试员甲", "家属证明"), ("in_cab", "mismatch", "", "", "")]
    assert len(identity["mismatch_frames"]) == 2
    assert verify(sessions, attempts=[attempt_id]).ok

    # the retention ends: pictures and descriptor go, the digests the seal names stay
    audit = AuditLog(sessions)
    late = T0 + timedelta(days=91)
    assert delete_expired(sessions, T0 + timedelta(days=89), 90) == []  # not yet
    deleted = delete_expired(sessions, late, 90, on_deleted=lambda b, what: audit.record(
        late, "system", "system", "face_data_deleted", f"booking {b}", str(what)))
    assert deleted == [booking_id]
    with sessions() as session:
        booking = session.get(Booking, booking_id)
        assert (booking.photo, booking.reference_photo, booking.face_descriptor) == (None, None, None)
        assert booking.photo_sha256 and booking.reference_sha256 and booking.photo_bytes > 0
        assert all(c.picture is None for c in session.query(IdentityCheck).filter_by(booking_id=booking_id))
        assert all(f.jpeg == b"" and f.jpeg_sha256 for f in session.query(FaceFlag).filter_by(attempt_id=attempt_id))
        entry = session.query(AuditEntry).filter_by(action="face_data_deleted").one()
        assert entry.target == f"booking {booking_id}" and "'descriptor': True" in entry.detail
    assert verify(sessions, attempts=[attempt_id]).ok  # the sealed record did not change
    assert delete_expired(sessions, late + timedelta(days=1), 90) == []  # once


def test_without_the_face_packages_checkin_falls_back_to_the_supervisors_eye(desk, engine):
    """In a child whose import of dlib fails: the reference is kept without a descriptor, and a
    check-in against it waits for the supervisor, who decides by looking."""
    sessions, _, booking_id, _ = desk
    ref, probe = Path(engine.url.database).with_name("ref.jpg"), Path(engine.url.database).with_name("probe.jpg")
    ref.write_bytes(picture(OBAMA_12))
    probe.write_bytes(picture(OBAMA_09))
    engine.dispose()
    code = f"""
import sys
sys.modules.update(dlib=None, _dlib_pybind11=None)
from pathlib import Path
from examroom.records.database import make_engine, session_factory
from examroom.records.models import Booking
from examroom.examday.checkin import CheckIn
from examroom.faces.identity import set_reference, describe_models
sessions = session_factory(make_engine({str(engine.url)!r}))
with sessions.begin() as session:
    set_reference(session.get(Booking, {booking_id}), Path({str(ref)!r}).read_bytes(), "roster", "importer")
presented = CheckIn(sessions).present({booking_id}, Path({str(probe)!r}).read_bytes(), "考试员甲")
print(presented.queue_no, presented.identity.outcome, presented.identity.unavailable_reason.split(':')[0])
print(CheckIn(sessions).decide({booking_id}, presented.identity.check_id, True, "考试员甲", "人工核对"))
print(describe_models().split(': ')[0])
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["None unavailable dlib (the dlib-bin package) cannot be imported", "1",
                                        "1:1 face verification unavailable"]
    with sessions() as session:
        booking = session.get(Booking, booking_id)
        assert (booking.state, booking.face_descriptor) == ("checked_in", None)
    assert checks(sessions, booking_id) == [("checkin", "unavailable", "", "accepted", "考试员甲")]


def test_roster_photos_named_by_id_number_become_the_bookings_references(tmp_path, capsys):
    """``examroom roster --photos DIR``: each photo to its candidate's booking, with its descriptor."""
    from examroom.cli.main import main
    from tests.examroom.examday.test_roster import write_csv

    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert main(["sitting", "add", "S1", "--opens", "2026-11-30T08:00+08:00", "--starts", "2026-11-30T08:30+08:00",
                 "--ends", "2026-11-30T11:30+08:00", "--database", url]) == 0
    roster = write_csv(tmp_path / "r.csv", [["", "王建国", id_number(81), "620100000081", "", "E", "", "S1", "初考"],
                                            ["", "李秀英", id_number(82), "620100000082", "", "E", "", "S1", "初考"]])
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / f"{id_number(81)}.jpg").write_bytes(picture(OBAMA_12))
    (folder / f"{id_number(82)}.png").write_bytes(encoded(fit_area(photo(face_photos.PROFILE_ONLY), 640, 480), ".png"))
    (folder / f"{id_number(83)}.jpg").write_bytes(picture(BIDEN_10))  # nobody booked
    (folder / "王建国.jpg").write_bytes(picture(OBAMA_09))  # not named by ID number
    (folder / f"{id_number(84)}.jpg").write_bytes(b"not a picture")
    capsys.readouterr()
    assert main(["roster", str(roster), "--database", url, "--commit", "--photos", str(folder), "--json"]) == 1
    photos = json.loads(capsys.readouterr().out)["photos"]
    assert photos["attached"] == [f"{id_number(81)}.jpg", f"{id_number(82)}.png"]
    assert photos["no_face"] == [f"{id_number(82)}.png: no_face"] and photos["unmatched"] == [f"{id_number(83)}.jpg"]
    assert [line.split(":")[0] for line in photos["bad"]] == [f"{id_number(84)}.jpg", "王建国.jpg"]
    sessions = session_factory(make_engine(url))
    with sessions() as session:
        first, second = session.query(Booking).order_by(Booking.id).all()
        assert (first.reference_source, first.reference_confirmed_by, len(first.face_descriptor)) == (
            "roster", "roster import", 512)
        assert second.reference_sha256 and second.face_descriptor is None
        entry, = session.query(AuditEntry).filter_by(action="reference_photos_imported").all()
        assert (entry.role, entry.target) == ("cli", str(folder)) and entry.detail.startswith("2 photo(s): ")
    assert main(["roster", str(roster), "--database", url, "--commit", "--photos", str(folder), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["photos"]["unchanged"] == [f"{id_number(81)}.jpg", f"{id_number(82)}.png"]


def test_the_attempt_listener_compares_with_the_bookings_face_and_warns_the_feed(desk, records):
    from examroom.faces.watch import AttemptFaceWatch
    from examroom.live.feed import LiveFeed

    sessions, checkin, booking_id, candidate_id = desk
    with_reference(sessions, booking_id, OBAMA_12)
    attempt_id = finished_attempt(records, booking_id=booking_id, candidate_id=candidate_id)
    without_booking = finished_attempt(records)
    feed = LiveFeed()
    heard = feed.subscribe()
    fanout = FrameFanout()
    listener = AttemptFaceWatch(sessions, {"V1": ("car-V1", fanout)}, interval=1.0, publish=feed.publish,
                                mismatch_run=2)
    listener("started", without_booking, "V1")
    assert listener.watches[without_booking].reference is None  # no booking: the one-face check only
    listener("finished", without_booking, "V1")
    listener("started", attempt_id, "V1")
    watch = listener.watches[attempt_id]
    watch.stop()  # this test feeds the watch itself, not through its thread
    assert watch.reference is not None and watch.booking_id == booking_id and watch.vehicle == "V1"
    for i in range(2):
        watch.sample(frame(on_frame(photo(BIDEN_10)), i))
    listener("finished", attempt_id, "V1")
    events = [heard.get(timeout=0) for _ in range(2)]
    assert events[0]["type"] == "state"
    assert {k: events[1][k] for k in ("type", "vehicle", "attempt", "camera", "frames")} == {
        "type": "identity", "vehicle": "V1", "attempt": attempt_id, "camera": "car-V1", "frames": 2}
