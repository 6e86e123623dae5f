"""Face review records: the review mark, thumbnails, and the migration that added the mark's columns."""

from __future__ import annotations

from datetime import datetime, timezone

import cv2
import numpy as np
import pytest
import sqlalchemy
from alembic import command

from examroom.records.database import alembic_config, upgrade
from examroom.faces.review import FaceReviewError, flags_to_review, mark_reviewed, thumbnail
from tests.examroom.face_pictures import jpeg, no_face

NOW = datetime(2026, 11, 29, 5, 0, tzinfo=timezone.utc)


def test_thumbnails_shrink_to_the_width_and_never_enlarge():
    big = cv2.imdecode(np.frombuffer(thumbnail(jpeg(no_face()), 120), np.uint8), cv2.IMREAD_COLOR)
    assert big.shape == (round(no_face().shape[0] * 120 / no_face().shape[1]), 120, 3)
    small = cv2.imdecode(np.frombuffer(thumbnail(jpeg(no_face()[:50, :80]), 240), np.uint8), cv2.IMREAD_COLOR)
    assert small.shape == (50, 80, 3)
    with pytest.raises(ValueError, match="not a decodable image"):
        thumbnail(b"GIF89a not really")


def test_unknown_attempts_and_flags(records):
    assert flags_to_review(records.sessions, 404) == []
    with pytest.raises(FaceReviewError, match="attempt 404 has no face flag 1"):
        mark_reviewed(records.sessions, 404, 1, "auditor", "", NOW)


def test_the_review_columns_come_and_go_with_their_migration(engine):
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def columns() -> set[str]:
        return {c["name"] for c in sqlalchemy.inspect(engine).get_columns("face_flags")}

    assert {"reviewed_by", "reviewed_utc", "review_comment"} <= columns()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008_faces")
    assert not {"reviewed_by", "reviewed_utc", "review_comment"} & columns() and "jpeg" in columns()
    upgrade(engine)
    assert {"reviewed_by", "reviewed_utc", "review_comment"} <= columns()
