"""The weekly draw is a pure function of (seed, the course's attempts): anyone re-running it gets the
same sample; the classes always reviewed are always in; the share is respected."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, strategies as st

from examroom.city.sampling import (
    SHARE, Attempt, commitment, draw, draw_key, population_digest, share_count,
)

ALWAYS = ("manual_fail", "device_fault", "override", "seal_warning")
COURSE = "4201001"

seeds = st.binary(min_size=32, max_size=32)
shares = st.sampled_from([0.01, 0.05, 0.1, 0.25, 0.5, 1.0]) | st.floats(min_value=0.001, max_value=1.0)
attempt_lists = st.lists(
    st.tuples(st.integers(min_value=1, max_value=10**6), st.frozensets(st.sampled_from(ALWAYS), max_size=2)),
    max_size=120, unique_by=lambda pair: pair[0],
).map(lambda pairs: [Attempt(COURSE, i, c) for i, c in pairs])


@given(seeds, attempt_lists, shares, st.randoms(use_true_random=False))
def test_the_same_seed_and_attempts_give_the_same_sample_in_any_order(seed, attempts, share, rnd):
    shuffled = list(attempts)
    rnd.shuffle(shuffled)
    assert draw(seed, attempts, share, ALWAYS) == draw(seed, shuffled, share, ALWAYS)
    assert population_digest(attempts) == population_digest(shuffled)


@given(seeds, attempt_lists, shares)
def test_every_attempt_of_a_class_always_reviewed_is_in(seed, attempts, share):
    sampled = {d.id: d for d in draw(seed, attempts, share, ALWAYS)}
    for attempt in attempts:
        if attempt.classes:
            assert attempt.id in sampled
            assert set(sampled[attempt.id].reasons) == set(attempt.classes)


@given(seeds, attempt_lists, shares)
def test_the_share_is_drawn_from_the_others(seed, attempts, share):
    drawn = draw(seed, attempts, share, ALWAYS)
    by_share = [d for d in drawn if d.reasons == (SHARE,)]
    others = [a for a in attempts if not a.classes]
    assert len(by_share) == min(len(others), share_count(share, len(attempts)))
    assert all(a.classes == frozenset() for a in attempts if a.id in {d.id for d in by_share})
    assert len(drawn) == len(by_share) + sum(1 for a in attempts if a.classes)


@given(seeds, attempt_lists, shares)
def test_a_class_not_configured_as_always_is_only_drawn_by_chance(seed, attempts, share):
    drawn = draw(seed, attempts, share, always=("seal_warning",))
    for d in drawn:
        assert d.reasons in ((SHARE,), ("seal_warning",))


@given(seeds, attempt_lists)
def test_an_attempt_added_does_not_move_the_others_tickets(seed, attempts):
    extra = Attempt(COURSE, 10**6 + 1)
    before = {d.id: d.ticket for d in draw(seed, attempts, 1.0, ALWAYS)}
    after = {d.id: d.ticket for d in draw(seed, attempts + [extra], 1.0, ALWAYS)}
    assert all(after[i] == t for i, t in before.items())


def test_the_share_is_exact_at_round_figures_and_rounds_up():
    assert share_count(0.05, 100) == 5  # 0.05 × 100 is 5.000000000000001 in floats
    assert share_count(0.05, 101) == 6
    assert share_count(0.05, 1) == 1
    assert share_count(0.05, 0) == 0
    assert share_count(0.07, 100) == 7


def test_another_seed_draws_another_sample_and_the_share_looks_random():
    attempts = [Attempt(COURSE, i) for i in range(1, 1001)]
    first = {d.id for d in draw(b"\x01" * 32, attempts, 0.1, ALWAYS)}
    second = {d.id for d in draw(b"\x02" * 32, attempts, 0.1, ALWAYS)}
    assert len(first) == len(second) == 100 and first != second
    # Over many seeds each attempt is drawn about share of the time (no favourite ids).
    counts = [0] * 1001
    for n in range(200):
        for d in draw(hashlib.sha256(str(n).encode()).digest(), attempts, 0.1, ALWAYS):
            counts[d.id] += 1
    low_ids, high_ids = sum(counts[1:501]), sum(counts[501:])
    assert abs(low_ids - high_ids) < 0.1 * (low_ids + high_ids)


def test_the_beacon_changes_the_draw_and_the_commitment_is_the_seeds_sha256():
    seed = bytes(range(32))
    attempts = [Attempt(COURSE, i) for i in range(1, 201)]
    assert commitment(seed) == hashlib.sha256(seed).hexdigest()
    assert draw_key(seed) == seed and draw_key(seed, "round 123: ab12") != seed
    assert draw(seed, attempts, 0.1, ALWAYS) != draw(seed, attempts, 0.1, ALWAYS, beacon="round 123: ab12")


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="share"):
        draw(b"s", [Attempt(COURSE, 1)], 0, ALWAYS)
    with pytest.raises(ValueError, match="one course"):
        draw(b"s", [Attempt(COURSE, 1), Attempt("4201002", 1)], 0.5, ALWAYS)
    with pytest.raises(ValueError, match="twice"):
        draw(b"s", [Attempt(COURSE, 1), Attempt(COURSE, 1, frozenset({"override"}))], 0.5, ALWAYS)


def test_a_known_draw_stays_the_same():
    """A published draw must re-run identically on every later version of this code."""
    attempts = [Attempt(COURSE, i, frozenset({"device_fault"}) if i == 7 else frozenset()) for i in range(1, 41)]
    drawn = draw(bytes.fromhex("00" * 31 + "2a"), attempts, 0.05, ALWAYS)
    assert [(d.id, d.reasons) for d in drawn] == EXPECTED_KNOWN_DRAW


EXPECTED_KNOWN_DRAW = [(7, ("device_fault",)), (31, (SHARE,)), (37, (SHARE,))]
