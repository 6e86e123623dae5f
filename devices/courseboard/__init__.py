"""Course sensor boards: Modbus RTU discrete inputs -> CourseInputs (driver and pymodbus twin)."""

from devices.courseboard.driver import CourseBoard, CourseBoardDriver
from devices.courseboard.simulator import CourseBoardSimulator

__all__ = ["CourseBoard", "CourseBoardDriver", "CourseBoardSimulator"]
