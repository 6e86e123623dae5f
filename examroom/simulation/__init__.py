"""Simulation: a whole course without hardware, honest to the real one.

Owns the simulated vehicles, riders, course devices and cameras (with weather), the scripted
scenarios, the demo and the crash drill.

May import every room below ``cli``.
"""
