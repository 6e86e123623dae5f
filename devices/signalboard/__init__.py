"""Vehicle signal board: ``$EXSIG`` sentences over serial -> SignalFrame (see docs/signal-board.md)."""

from devices.signalboard.driver import SignalBoard, SignalBoardDriver
from devices.signalboard.protocol import BITS, MOTORCYCLE, THREE_WHEELER, SignalState, decode, encode
from devices.signalboard.simulator import SignalBoardSimulator

__all__ = ["BITS", "MOTORCYCLE", "THREE_WHEELER", "SignalBoard", "SignalBoardDriver",
           "SignalBoardSimulator", "SignalState", "decode", "encode"]
