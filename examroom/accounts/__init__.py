"""Accounts: who may sign in, as what, and what they did.

Owns users and roles with their password hashes, login sessions, the sign-in throttle, the
audit log and the secrets files (web session key).

May import: ``records``.
"""
