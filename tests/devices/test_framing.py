import pytest
from hypothesis import given, settings, strategies as st

from devices.framing import SentenceFramer, with_checksum
from tests.devices.mutation import MUTATIONS, mutate

pytestmark = pytest.mark.own_clock  # no port, child process or thread: runs beside the others

GGA = "$GPGGA,021613.949,5029.3800,N,10441.0389,W,1,04,12.5,572.4,M,-20.3,M,0.0,0000*7E"
RMC = "$GPRMC,021613.949,A,5029.3800,N,10441.0389,W,0.009850,267.99,280706,,*19"


def feed_all(framer, *chunks):
    out = []
    for c in chunks:
        out += framer.feed(c)
    return out


def test_good_sentences_with_crlf_and_lf():
    f = SentenceFramer()
    assert feed_all(f, (GGA + "\r\n" + RMC + "\n").encode()) == [GGA, RMC]
    assert f.dropped == 0


def test_with_checksum_matches_real_sentence():
    assert with_checksum(GGA[1:-3]) == GGA


def test_bad_checksum_dropped_and_counted():
    f = SentenceFramer()
    bad = GGA[:-2] + "7F"
    assert feed_all(f, (bad + "\r\n" + RMC + "\r\n").encode()) == [RMC]
    assert f.counts["bad_checksum"] == 1 and f.dropped == 1


def test_lower_case_checksum_accepted():
    f = SentenceFramer()
    s = with_checksum("GPHDT,1.0,T")
    assert feed_all(f, (s[:-2] + s[-2:].lower() + "\r\n").encode()) == [s]


def test_garbage_before_frame_is_one_drop():
    f = SentenceFramer()
    assert feed_all(f, b"\xb5\x62\x01\x07\x00garbage\x00" + GGA.encode() + b"\r\n") == [GGA]
    assert f.counts["garbage"] == 1


def test_whitespace_between_frames_is_not_garbage():
    f = SentenceFramer()
    assert feed_all(f, b"\r\n\r\n" + GGA.encode() + b"\r\n\r\n  ") == [GGA]
    assert f.dropped == 0


def test_partial_frame_split_across_reads():
    f = SentenceFramer()
    data = (GGA + "\r\n").encode()
    for cut in range(1, len(data)):
        f = SentenceFramer()
        assert feed_all(f, data[:cut], data[cut:]) == [GGA], cut
    f = SentenceFramer()
    assert feed_all(f, *[bytes([b]) for b in data]) == [GGA]  # one byte per read


def test_truncated_sentence_resyncs_on_next_dollar():
    f = SentenceFramer()
    assert feed_all(f, GGA[:30].encode(), (RMC + "\r\n").encode()) == [RMC]
    assert f.counts["truncated"] == 1


def test_overlong_line_dropped_then_resync():
    f = SentenceFramer(max_length=82)
    assert feed_all(f, b"$GPXXX," + b"1" * 200 + b"\r\n" + (RMC + "\r\n").encode()) == [RMC]
    assert f.counts["overlong"] == 1 and f.dropped == 1


def test_overlong_without_line_end_does_not_grow_buffer():
    f = SentenceFramer(max_length=82)
    for _ in range(100):
        f.feed(b"$" + b"A" * 1000)
    assert f.counts["overlong"] == 100
    assert f._buf is None or len(f._buf) <= 82


def test_missing_checksum_and_binary_inside_are_malformed():
    f = SentenceFramer()
    assert feed_all(f, b"$GPGGA,1,2,3\r\n$GP\x01GGA*00\r\n") == []
    assert f.counts["malformed"] == 2


def test_body_without_address_field_is_malformed():
    f = SentenceFramer()
    assert feed_all(f, (with_checksum("389,W,1,04") + "\r\n").encode()) == []
    assert f.counts["malformed"] == 1


def test_reset_counts_partial_as_truncated():
    f = SentenceFramer()
    f.feed(GGA[:20].encode())
    f.reset()
    assert f.counts["truncated"] == 1
    assert feed_all(f, (RMC + "\r\n").encode()) == [RMC]


STREAM = ((GGA + "\r\n" + RMC + "\r\n") * 3).encode()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(1, 64))
def test_fuzz_random_bytes(data, chunk):
    f = SentenceFramer()
    for i in range(0, len(data), chunk):
        for s in f.feed(data[i:i + chunk]):
            assert s.startswith("$") and "*" in s


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(STREAM) - 1), st.integers(0, 255), st.sampled_from(MUTATIONS),
       st.integers(1, 50))
def test_fuzz_single_mutation_never_invents_a_sentence(pos, byte, op, chunk):
    """An 8-bit XOR catches any single substituted, inserted or deleted byte."""
    data = mutate(STREAM, pos, byte, op)
    f = SentenceFramer()
    out = []
    for i in range(0, len(data), chunk):
        out += f.feed(data[i:i + chunk])
    for s in set(out) - {GGA, RMC}:
        # only possible when the damage was a new "$": the tail of a real sentence
        assert byte == 0x24 and op in ("sub", "ins") and (GGA.endswith(s[1:]) or RMC.endswith(s[1:]))
    if data != STREAM:
        assert len(out) >= 4  # one damaged sentence (maybe two if a "$"/"\n" was hit) at most
