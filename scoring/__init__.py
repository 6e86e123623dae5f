"""Scoring: observations in, deductions out.

Pure and deterministic: no I/O except the explicit TOML loaders
(:func:`scoring.course.load_course`, :func:`scoring.rules.load_ruleset`), no
clock, no global state. Never imports devices, examroom or web.

Modules: ``observations`` (the judge's only input), ``vehicle`` (exam vehicle
models), ``course`` (course files), ``item_geometry`` and the generators
``layouts`` (桩考, 坡道, 单边桥), ``small_car_layouts`` (the C3 items) and
``bay_layouts`` (移库: C4 option, tractors), ``rules`` (rule sets as data, one
file per standard version), ``overrides`` (province and course overrides, the
effective rule set), ``rule_snapshot`` (a stored effective set back, checked
against its hash), ``judge`` (the attempt judge and
:func:`scoring.judge.judge_stream`), ``items`` (one judge per item),
``general`` (rules of the whole attempt), ``motion`` (stops, rollback),
``report`` (plain-data views).
"""
