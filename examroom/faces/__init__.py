"""Faces: is there exactly one face in a picture, and who reviews the ones that are flagged.

Owns the face detector, the in-attempt face watch and the supervisor's face review.

May import: ``records``.
"""
