"""examroom: the exam-room controller of a 科目二 test course.

The package is laid out in rooms, each a sub-package that owns one part of the course's work
(``docs/architecture.md`` gives the reasons). Rooms import downwards only, in this order::

    messages  <  courseclock  <  records  <  accounts, faces, live, city  <  examday  <  video  <  site
              <  station  <  simulation  <  cli

``messages`` (errors a supervisor reads, as Chinese msgids the web translates) is the bottom:
every room may import it.

``loopback`` (the one local HTTP server of the live link and the live view) imports no other room;
nor does ``heap`` (the process's C heap: the controller's arena limit, the trim after the face
models are released).

``examroom`` itself imports ``devices`` and ``scoring`` and never ``web``; the allowed imports
are checked by ``tests/test_architecture.py``.
"""
