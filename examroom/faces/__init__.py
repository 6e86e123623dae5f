"""Faces: is there exactly one face in a picture, is it the booked candidate's, and who reviews the flagged ones.

Owns the face detector (one-face check), 1:1 verification against the booking's reference photo
(dlib models, loaded once per process: ``verification``), the booking's side of it and the
check-in comparison (``identity``), the in-attempt face watch, the supervisor's face review, and
the deletion of candidates' face data when its retention ends (``personal_data``).

May import: ``records``.
"""
