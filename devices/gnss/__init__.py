"""GNSS receivers: NMEA 0183 over serial -> GnssFix (driver, decoder, simulated twin)."""

from devices.gnss.decoder import NmeaEpochDecoder
from devices.gnss.driver import GnssDriver, GnssReceiver, replay
from devices.gnss.simulator import GnssSimulator, GnssTruth, build_epoch

__all__ = ["GnssDriver", "GnssReceiver", "GnssSimulator", "GnssTruth", "NmeaEpochDecoder",
           "build_epoch", "replay"]
