"""The serial ID-card reader over a pseudo-terminal cable."""

import queue

import serial

from devices.cardreader import CardReader
from devices.nullmodem import NullModem


def test_card_numbers_arrive_and_noise_is_counted():
    cards: queue.Queue = queue.Queue()
    with NullModem() as cable:
        reader = CardReader(cable.b, cards.put).start()
        try:
            device = serial.serial_for_url(cable.a)
            device.write(b"62010219900101123x\r\n\x00garbage\r\n110105194912")
            device.write(b"31002X\n")
            assert cards.get(timeout=10) == "62010219900101123X"
            assert cards.get(timeout=10) == "11010519491231002X"
            device.close()
        finally:
            reader.stop()
    assert (reader.cards, reader.rejected) == (2, 1)
