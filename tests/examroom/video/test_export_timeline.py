from datetime import datetime, timedelta, timezone

import pytest

from examroom.video.export import Chapter, ExportError, ExportTimeline, chapters_metadata
from examroom.video.index import SegmentInfo

T0 = datetime(2026, 11, 29, 4, 0, tzinfo=timezone.utc)


def _segment(i: int, start: float, duration: float = 10.0) -> SegmentInfo:
    begin = T0 + timedelta(seconds=start)
    return SegmentInfo(i, "top", f"s{i}.mp4", begin, begin + timedelta(seconds=duration), duration, 1, False)


def test_positions_collapse_gaps_between_segments():
    timeline = ExportTimeline([_segment(1, 0), _segment(2, 10), _segment(3, 35, 5)])  # 15 s gap before #3
    assert timeline.duration == 25
    assert timeline.position(T0 + timedelta(seconds=12.5)) == pytest.approx(12.5)
    assert timeline.position(T0 + timedelta(seconds=36)) == pytest.approx(21)
    assert timeline.position(T0 + timedelta(seconds=25)) == pytest.approx(20), "a time in a gap shows what follows"
    assert timeline.position(T0 - timedelta(seconds=3)) == 0
    assert timeline.position(T0 + timedelta(seconds=99)) == 25
    assert timeline.utc_at(21) == T0 + timedelta(seconds=36)


def test_chapters_start_at_each_mark_after_a_lead_in():
    timeline = ExportTimeline([_segment(1, 0), _segment(2, 10)])
    text = chapters_metadata(timeline, [Chapter(T0 + timedelta(seconds=14.25), "扣10分 停车=不准"),
                                        Chapter(T0 + timedelta(seconds=3), "扣100分 碰擦桩杆")], "考试 7")
    assert text.startswith(";FFMETADATA1\ntitle=考试 7\n")
    starts = [int(line.split("=")[1]) for line in text.splitlines() if line.startswith("START=")]
    ends = [int(line.split("=")[1]) for line in text.splitlines() if line.startswith("END=")]
    assert starts == [0, 3000, 14250] and ends == [3000, 14250, 20000]
    assert "title=扣10分 停车\\=不准" in text  # '=' is escaped in ffmetadata


def test_an_empty_range_cannot_be_exported():
    with pytest.raises(ExportError, match="no recorded segments"):
        ExportTimeline([])
