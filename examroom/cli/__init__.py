"""The ``examroom`` command line: one module per command group.

May import every room; nothing imports it except the entry point and ``bench``.
"""
