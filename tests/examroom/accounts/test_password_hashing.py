"""Passwords are hashed with argon2id at argon2-cffi's defaults outside the tests."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY

from examroom.accounts.users import _hasher_and_decoy


def test_the_shipped_parameters_are_argon2s_defaults():
    hasher, decoy = _hasher_and_decoy(())  # HASH_PARAMETERS as shipped: empty
    default = PasswordHasher()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == \
        (default.time_cost, default.memory_cost, default.parallelism) == \
        (RFC_9106_LOW_MEMORY.time_cost, RFC_9106_LOW_MEMORY.memory_cost, RFC_9106_LOW_MEMORY.parallelism)
    assert decoy.startswith(f"$argon2id$v=19$m={default.memory_cost},t={default.time_cost},p={default.parallelism}$")


def test_a_cheap_test_hash_still_verifies_under_the_shipped_hasher():
    cheap, _ = _hasher_and_decoy((("memory_cost", 1024), ("parallelism", 1), ("time_cost", 1)))
    shipped, _ = _hasher_and_decoy(())
    assert shipped.verify(cheap.hash("a long password"), "a long password")
    assert shipped.check_needs_rehash(cheap.hash("a long password"))  # and is upgraded at the next sign-in
