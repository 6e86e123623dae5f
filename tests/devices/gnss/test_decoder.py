import glob
import os
from datetime import datetime, timedelta, timezone

import pytest

from devices.gnss.decoder import KNOT, NmeaEpochDecoder
from devices.gnss.driver import replay
from devices.gnss.simulator import GnssTruth, build_epoch
from tests.shared_data import NMEA_DIR

pytestmark = pytest.mark.own_clock  # no port, child process or thread: runs beside the others

LOGS = sorted(glob.glob(os.path.join(NMEA_DIR, "*.log")))
T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=timezone.utc)


def read(name):
    with open(os.path.join(NMEA_DIR, name), "rb") as fh:
        return fh.read()


def push_all(dec, sentences):
    out = []
    for s in sentences:
        out += dec.push(s, 1.0, T0)
    return out


def test_there_are_logs():
    assert len(LOGS) >= 10


@pytest.mark.parametrize("path", LOGS, ids=os.path.basename)
@pytest.mark.parametrize("epoch_end", ["GGA", "auto", None])
def test_every_real_log_parses_without_exception(path, epoch_end):
    with open(path, "rb") as fh:
        data = fh.read()
    fixes, drv = replay(data, epoch_end=epoch_end)
    for f in fixes:
        assert -90 <= f.latitude <= 90 and -180 <= f.longitude <= 180
        assert f.quality > 0
    # A layout is confirmed by three sentences of a type in a row: beidou-gb.log has only two GGAs
    # with a position, at its end.
    if b"GGA," in data and not path.endswith(("trimble-lassen_iq-3dfix.log", "beidou-gb.log")):
        assert fixes, "a log with GGA sentences gives fixes"


def test_first_fix_of_beidou_bd_log():
    # $GNGGA,074155.799,3114.8770,N,12135.2463,E,1,05,1.3,156.9,M,8.3,M,,0000,4.9*77
    # $GNRMC,074155.799,A,3114.8770,N,12135.2463,E,0.30,4.94,250215,,,A*76 (after the GGA)
    fixes, drv = replay(read("beidou-bd.log"), epoch_end="auto")
    f = fixes[0]
    assert f.receiver_time == "074155.799"
    assert f.talker == "GN"
    assert f.latitude == pytest.approx(31 + 14.8770 / 60, abs=1e-9)
    assert f.longitude == pytest.approx(121 + 35.2463 / 60, abs=1e-9)
    assert f.quality == 1 and f.satellites == 5 and f.hdop == 1.3 and f.altitude == 156.9
    assert f.speed == pytest.approx(0.30 * KNOT) and f.course == pytest.approx(4.94)
    assert drv.decoder.counts["no_fix_epochs"] == 5  # the log starts without a fix
    assert drv.decoder.epoch_end == "RMC"  # learned: this receiver sends GGA then RMC


def test_first_fix_of_beidou_bd_log_with_default_epoch_end():
    fixes, drv = replay(read("beidou-bd.log"))
    assert fixes[0].latitude == pytest.approx(31 + 14.8770 / 60)
    assert fixes[0].speed is None  # RMC after GGA is late with epoch_end="GGA": documented
    assert drv.decoder.counts["late"] > 0


def test_ublox_with_binary_ubx_frames():
    data = read("ublox-zed-f9p_hpg1.11.log")
    fixes, drv = replay(data)
    # every GNGGA with a fix survives the interleaved UBX frames
    assert len(fixes) == data.count(b"$GNGGA,") == 655
    assert drv.frames_dropped > 0
    f = fixes[0]
    assert (f.receiver_time, f.talker, f.satellites) == ("011903.00", "GN", 12)
    assert f.latitude == pytest.approx(-(45 + 52.65550 / 60))
    assert f.speed == pytest.approx(0.214 * KNOT)  # RMC came first in this epoch


def test_bare_log_replay_spaces_fixes_by_their_epochs():
    # A log has no arrival times: the first fix gets the given stamp, the others their epochs'
    # distance from it (1 Hz here, 655 epochs from 01:19:03 to 01:29:57 on 2019-04-12).
    start = datetime(2019, 4, 12, 9, 0, 0, tzinfo=timezone.utc)
    fixes, _ = replay(read("ublox-zed-f9p_hpg1.11.log"), mono=5.0, utc=start)
    assert (fixes[0].mono, fixes[0].utc, fixes[0].receiver_date) == (5.0, start, "120419")
    assert fixes[-1].receiver_time == "012957.00" and fixes[-1].mono == pytest.approx(5.0 + 654)
    assert fixes[-1].utc == start + timedelta(seconds=654)
    assert all(b.mono - a.mono == pytest.approx(1.0) for a, b in zip(fixes, fixes[1:]))


def test_skytraq_dgps_quality_and_vtg_in_the_right_epoch():
    fixes, drv = replay(read("skytraq-dgps.log"), epoch_end="auto")
    assert all(f.quality == 2 for f in fixes)
    assert fixes[0].course == pytest.approx(122.7) and fixes[0].speed == 0.0


def test_twin_order_groups_one_fix_per_epoch():
    dec = NmeaEpochDecoder("g")
    truth = GnssTruth(30.5, 114.25, altitude=20.0, speed=5.0, course=90.0, heading=91.5,
                      quality=5, satellites=18, hdop=0.8, correction_age=2.0)
    fixes = push_all(dec, [s for k in range(3) for s in build_epoch(truth, T0 + timedelta(seconds=k / 10))])
    assert len(fixes) == 3
    f = fixes[0]
    assert (f.latitude, f.longitude, f.altitude) == (pytest.approx(30.5), pytest.approx(114.25), 20.0)
    assert (f.quality, f.satellites, f.hdop, f.correction_age) == (5, 18, 0.8, 2.0)
    assert f.speed == pytest.approx(5.0, abs=1e-3) and f.course == 90.0 and f.heading == 91.5
    assert (f.mono, f.utc, f.device, f.receiver_time) == (1.0, T0, "g", "080000.00")


def test_fallback_emits_when_time_changes():
    dec = NmeaEpochDecoder("g", epoch_end=None)
    truth = GnssTruth(30.5, 114.25)
    for k in (2, 1):  # held until a third confirms their layout
        assert push_all(dec, build_epoch(truth, T0 - timedelta(seconds=k / 10))) == []
    first = build_epoch(truth, T0)
    # not 080000.00: not over yet
    assert [f.receiver_time for f in push_all(dec, first)] == ["075959.80", "075959.90"]
    fixes = push_all(dec, build_epoch(truth, T0.replace(microsecond=100000))[:1])
    assert len(fixes) == 1 and fixes[0].receiver_time == "080000.00"


def test_first_epochs_wait_for_a_third_to_confirm_their_layout():
    """A stream's first sentences are compared with nothing: an XOR-blind double deletion
    (``3000.0000600`` -> ``3000.000600``) would pass. They are held until two more sentences of
    each type show the same layout, so the first fix is two epochs late; the first epochs are
    refused when one of the next contradicts them, and so are two first epochs damaged alike
    (the layout they agree on is not confirmed by the third)."""
    from devices.framing import with_checksum

    def epoch(k):
        return build_epoch(truth, T0 + timedelta(seconds=k / 10))

    def damaged(k):  # two zeros lost: the XOR does not change
        return [with_checksum(s[1:s.index("*")].replace("3030.0000000", "3030.00000", 1)) for s in epoch(k)]

    dec = NmeaEpochDecoder("g")
    truth = GnssTruth(30.5, 114.25)
    assert push_all(dec, epoch(0)) == [] and push_all(dec, epoch(1)) == []
    assert [f.receiver_time for f in push_all(dec, epoch(2))] == ["080000.00", "080000.10", "080000.20"]
    assert damaged(0) != epoch(0)
    # one damaged first epoch, then two damaged alike: refused, and the fixes start with the
    # first three intact epochs in a row
    for first, fixed in (([damaged(0)], ["080000.10", "080000.20", "080000.30"]),
                         ([damaged(0), damaged(1)], ["080000.20", "080000.30", "080000.40"])):
        dec = NmeaEpochDecoder("g")
        stream = first + [epoch(k) for k in range(len(first), len(first) + 3)]
        for sentences in stream[:-1]:
            assert push_all(dec, sentences) == []
        assert [f.receiver_time for f in push_all(dec, stream[-1])] == fixed
        assert dec.counts["layout_changed"] == 2 * len(first)  # GGA and RMC of each damaged epoch


def test_a_stream_damaged_alike_every_third_epoch_gives_every_intact_epoch():
    """Three of the last five agreeing confirm a layout: a stream whose every third epoch lost the
    same two characters (a receiver's burst overrunning a small buffer at one place) is read, its
    damaged epochs refused, never learnt as the layout."""
    from devices.framing import with_checksum

    truth = GnssTruth(30.5, 114.25)

    def epoch(k):
        sentences = build_epoch(truth, T0 + timedelta(seconds=k / 10))
        if k % 3 == 1:
            return [with_checksum(s[1:s.index("*")].replace("3030.0000000", "3030.00000", 1)) for s in sentences]
        return sentences

    dec = NmeaEpochDecoder("g")
    fixes = push_all(dec, [s for k in range(10) for s in epoch(k)])
    assert [f.receiver_time for f in fixes] == [f"0800{k // 10:02d}.{k % 10}0" for k in range(10) if k % 3 != 1]
    assert all(f.latitude == pytest.approx(30.5, abs=1e-9) for f in fixes)


def test_no_fix_epoch_is_not_a_reading_but_shows_in_status():
    dec = NmeaEpochDecoder("g")
    for k in range(3):
        assert push_all(dec, build_epoch(GnssTruth(0, 0, quality=0), T0 + timedelta(seconds=k / 10))) == []
    assert dec.status.fix_quality == 0 and dec.counts["no_fix_epochs"] == 3


@pytest.mark.parametrize("sentence", [
    "$GPGGA,080000.00,3030.0,N,11415.0,E,X,08,1.0,20.0,M,,M,,*00",  # quality not a number
    "$GPGGA,080000.00,9130.0,N,11415.0,E,1,08,1.0,20.0,M,,M,,*00",  # latitude 91
    "$GPGGA,080000.00,3030.0,Q,11415.0,E,1,08,1.0,20.0,M,,M,,*00",  # hemisphere Q
    "$GPGGA,080000.00,30x0.0,N,11415.0,E,1,08,1.0,20.0,M,,M,,*00",  # bad ddmm.mm
    "$GPGGA,8h0000.00,3030.0,N,11415.0,E,1,08,1.0,20.0,M,,M,,*00",  # bad time
    "$GPRMC,080000.00,Z,3030.0,N,11415.0,E,1.0,2.0,010524,,,A*00",  # status Z
    "$GPHDT,abc,T*00",
    "$GPVTG,400.0,T,,M,1.0,N,1.8,K,A*00",  # course 400
])
def test_malformed_fields_are_counted_not_emitted(sentence):
    dec = NmeaEpochDecoder("g")
    body = sentence[1:sentence.index("*")]
    from devices.framing import with_checksum
    out = dec.push(with_checksum(body), 0.0, T0)
    assert out == [] and dec.malformed == 1


def test_unknown_and_unused_types_are_ignored_not_dropped():
    from devices.framing import with_checksum
    dec = NmeaEpochDecoder("g")
    for body in ("GPGSV,1,1,00", "PSRFEPE,074150.799,V,,,,,", "GPZZZ,1", "XXGGA,080000.00,,,,,0,00,,,M,,M,,"):
        dec.push(with_checksum(body), 0.0, T0)
    assert dec.malformed == 0 and dec.counts["ignored"] == 4


def test_talker_ids_accepted():
    for talker in ("GP", "GN", "BD", "GB", "GL", "GA"):
        dec = NmeaEpochDecoder("g")
        fixes = push_all(dec, [s for k in range(3) for s in build_epoch(
            GnssTruth(30.5, 114.25), T0 + timedelta(seconds=k / 10), talker=talker)])
        assert len(fixes) == 3 and fixes[0].talker == talker


def _epochs(n, **truth):
    return [s for k in range(n) for s in build_epoch(GnssTruth(30.5, 114.25, **truth), T0 + timedelta(seconds=k / 10))]


@pytest.mark.parametrize("good, bad", [
    ("0.70,0.000,M", ".70,0.000,M"),  # HDOP without its integer digit
    ("080000.00,3030", "08000.00,3030"),  # time with five digits
    ("0.00,010524", "0.00,01524"),  # date with five digits
    ("3030.0000000,N", "3030.0e0000,N"),  # an exponent: float() reads it, NMEA has none
    ("11415.0000000,E", "1141_5.000000,E"),  # float() also reads "1_415"
    ("4,20,0.70", "4,2,0,0.70"),  # a field more (a comma for a digit)
    (",,,R*", ",,R*"),  # a field fewer
])
def test_the_standard_formats_refuse_what_pynmea2_reads(good, bad):
    """Each of these still parses with pynmea2; NMEA 0183's field formats and counts refuse it."""
    from devices.framing import with_checksum

    sentences = _epochs(6)
    hit = [i for i, s in enumerate(sentences[:9]) if good in s][-1]  # in epoch 2
    body = sentences[hit][1:sentences[hit].index("*")].replace(good.replace(",R*", ",R"), bad.replace(",R*", ",R"))
    dec = NmeaEpochDecoder("g")
    fixes = push_all(dec, sentences[:hit] + [with_checksum(body)] + sentences[hit + 1:])
    assert dec.malformed == 1 and len(fixes) == 6  # epoch 2 from its other sentence
    for f in fixes:  # none carries the damaged sentence's values
        assert (f.latitude, f.longitude, f.quality) == (30.5, 114.25, 4) and f.hdop in (0.7, None)


def test_vtg_knots_and_kmh_must_agree():
    from devices.framing import with_checksum

    dec = NmeaEpochDecoder("g")
    push_all(dec, _epochs(2, speed=5.0))
    assert dec.push(with_checksum("GNVTG,90.00,T,,M,9.719,N,18.000,K,A"), 1.0, T0) == []
    assert dec.malformed == 0  # 9.719 kn = 18.0 km/h to their last digits
    assert dec.push(with_checksum("GNVTG,90.00,T,,M,9.719,N,1.000,K,A"), 1.0, T0) == [] and dec.malformed == 1


def test_rmc_and_vtg_of_one_epoch_must_agree_on_speed_and_course():
    """``23.326`` -> ``2.326`` and ``359.00`` -> ``59.00`` (two equal digits lost: same XOR, same
    layout) in an RMC: its VTG still says 23.326 kn and 359 degrees, so the epoch is refused."""
    from devices.framing import with_checksum

    sentences = _epochs(4, speed=12.0, course=359.0)
    rmc = sentences[6]
    assert rmc.startswith("$GNRMC,080000.20") and ",23.326,359.00," in rmc
    damaged = with_checksum(rmc[1:rmc.index("*")].replace(",23.326,359.00,", ",2.326,59.00,"))
    assert damaged[-2:] == rmc[-2:]  # the checksum does not see it
    dec = NmeaEpochDecoder("g")
    fixes = push_all(dec, sentences[:6] + [damaged] + sentences[7:])
    assert [f.receiver_time for f in fixes] == ["080000.00", "080000.10", "080000.30"]
    assert dec.counts["inconsistent_epochs"] == 1


def test_a_vtg_is_not_tied_to_an_epoch_across_lost_bytes():
    """GGA, VTG per epoch: epoch 7's VTG and epoch 8's GGA lost. Epoch 8's VTG arrives after
    epoch 7's GGA; by the learned order it would be epoch 7's. Bytes were lost between them, so
    it is not used: epoch 7 goes out without a speed, never with epoch 8's."""
    lines = [s + "\r\n" for k in range(12) for s in build_epoch(
        GnssTruth(30.5, 114.25, speed=float(k), course=10.0 * k), T0 + timedelta(seconds=k / 10))
        if s[3:6] in ("GGA", "VTG")]
    lines = [lines[k + 1] if k % 2 == 0 else lines[k - 1] for k in range(len(lines))]  # GGA, VTG
    assert lines[14].startswith("$GNGGA,080000.70") and lines[15].startswith("$GNVTG")
    data = "".join(lines[:15]) + "$GNVTG,70.0" + "$GNGGA,080000.8" + "".join(lines[17:])
    fixes, drv = replay(data.encode(), epoch_end="auto")
    by_time = {f.receiver_time: f for f in fixes}
    assert by_time["080000.70"].speed is None and drv.decoder.counts["untimed_across_damage"] == 1
    for t, f in by_time.items():
        k = round(float(t[4:]) * 10)
        assert f.speed is None or f.speed == pytest.approx(k, abs=1e-3)


def test_a_real_log_damaged_where_the_checksum_cannot_see():
    """rst39.log with one GGA's time and station id each one "0" short (``204132.10`` ->
    ``204132.1``, ``0138`` -> ``138``): the XOR is unchanged, pynmea2 reads 204132.1, and the
    fix would carry the next epoch's position at this one's time. The time's layout refuses it."""
    from tests.devices.gnss.test_real_logs import oracle

    data = read("rst39.log")
    line = b"$GPGGA,204132.10,4205.733715,N,08802.040978,W,2,08,1.0,221.921,M,,,3,0138*15"
    assert line in data
    damaged = data.replace(line, line.replace(b"204132.10", b"204132.1").replace(b",0138*", b",138*"))
    fixes, drv = replay(damaged, epoch_end="auto")
    truth = oracle(data)
    assert fixes and all(f.receiver_time in truth for f in fixes)
    assert drv.decoder.counts["layout_changed"] == 1


@pytest.mark.parametrize("order", [("RMC", "VTG"), ("VTG", "RMC"), ("RMC", "VTG", "GGA")])
def test_while_the_order_is_learnt_an_rmc_needs_its_vtg_to_agree(order):
    """epoch_end="auto" places no VTG until the order is known, so the RMC/VTG comparison of an
    epoch has nothing to compare; an RMC is used only when the VTG beside it agrees. Epoch 1's RMC
    lost a "3" from its speed and its course: no fix carries 2.326 kn or 59 degrees."""
    epochs = [{s[3:6]: s for s in build_epoch(GnssTruth(30.5, 114.25, speed=12.0, course=359.0),
                                               T0 + timedelta(seconds=k / 10))} for k in range(8)]
    rmc = epochs[1]["RMC"]
    epochs[1]["RMC"] = rmc.replace(",23.326,359.00,", ",2.326,59.00,")
    assert epochs[1]["RMC"] != rmc and epochs[1]["RMC"][-2:] == rmc[-2:]
    data = "".join(e[t] + "\r\n" for e in epochs for t in order).encode()
    fixes, drv = replay(data, epoch_end="auto")
    assert fixes and all(f.speed is None or f.speed == pytest.approx(12.0, abs=1e-3) for f in fixes)
    assert all(f.course is None or f.course == 359.0 for f in fixes)
    assert drv.decoder.counts["rmc_unconfirmed"] == 1
