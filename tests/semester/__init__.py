"""Issue 19's semester simulation and its judge (``pytest tests/semester``).

- ``oracle.py``: a declared term's classes from ``dateutil.rrule`` and ``zoneinfo`` alone, apart from ``api/``
  (repeat rules, explicit ``class_dates`` and ``cycle_days`` over the term's calendar);
- ``term.py``: the semester, 35 sections in three zones (two on a rotating A/B schedule whose calendar is
  re-published with each holiday edit), and 20 days of edits; a second school on some days;
- ``drive.py``: the one place that runs the sync (engine level or ``dag.test()``);
- ``checks.py``: each day's checks, on the emulators' own state;
- ``test_semester.py``: the simulation (``engine`` and ``dag-days``); it prints a table of the days and every
  finding. ``SEMESTER_SCHOOLS=1`` leaves the second school out, to tell its effects from the first's own.
"""
