"""Scoring: observations in, deductions out.

Pure and deterministic: no I/O except the explicit TOML loaders
(:func:`scoring.course.load_course`, :func:`scoring.rules.load_ruleset`), no
clock, no global state. Never imports devices, examroom or web.

Modules: ``observations`` (the judge's only input), ``vehicle`` (exam vehicle
models), ``course`` (course files and item geometry), ``rules`` (rule sets as
data), ``judge`` (the attempt judge and :func:`scoring.judge.judge_stream`),
``items`` (one judge per item), ``general`` (rules of the whole attempt),
``report`` (plain-data views).
"""
