"""The example DAGs and their sample exports, shipped with the provider so that a pip install can run them.

Airflow finds DAGs among the globals of a file in its DAG folder, so one line there brings an example in::

    from airflow_provider_wiziq.example_dags.wiziq_term_sync import plan_dag, sync_dag

- :mod:`.wiziq_term_provisioning`: ``provisioning_dag`` (one mapped task per section) and
  ``provisioning_bulk_dag`` (one bulk task), a 40-section term and a provisioning report;
- :mod:`.wiziq_term_sync`: ``sync_dag`` and ``plan_dag``, the same term kept in sync (on every supported Airflow:
  its ledger in the term asset's state store on 3.3, in Airflow Variables on 3.1 and 3.2);
- :mod:`.wiziq_term_sync_oneroster`: ``oneroster_dag``, a term kept in sync from a OneRoster bundle, its meeting
  patterns and its A/B calendar;
- :mod:`.wiziq_term_sync_reviewed`: ``reviewed_dag``, the same sync where a person approves a destructive plan;
- :mod:`.wiziq_enrollment_pipeline`: ``enrollment_dag``, create, enroll, wait, attendance;
- :mod:`.wiziq_class_events`: ``wait_dag`` (a wait that announces its class on ``wiziq://classes/<conn_id>``)
  and ``after_class_dag`` (attendance and recordings, scheduled on those events).

The sample exports are package data: :data:`FALL_TERM_SECTIONS` (40 sections in seven time zones, by WizIQ's
parameter names, ``section_id`` as their key) and :data:`ROSTER` (``attendee_id``, ``screen_name``, language);
and a small generated OneRoster 1.1 bundle, :data:`ONEROSTER_SAMPLE` (12 classes, 150 students), with the
:data:`ONEROSTER_MEETING_PATTERNS` that say what its periods mean and the :data:`ONEROSTER_CALENDAR` of its
A/B days (read by :func:`airflow_provider_wiziq.oneroster.read_oneroster`).
"""

from __future__ import annotations

from pathlib import Path

#: The folder these files are installed in.
FOLDER = Path(__file__).resolve().parent
#: A term's export: 40 sections, one row each (``section_id`` and ``create_recurring``'s parameters).
FALL_TERM_SECTIONS = FOLDER / "fall_term_sections.csv"
#: A class roster: ``attendee_id``, ``screen_name``, ``language_culture_name``.
ROSTER = FOLDER / "roster.csv"

#: A OneRoster 1.1 CSV bundle (a folder): a fall semester of 12 classes and 150 students.
ONEROSTER_SAMPLE = FOLDER / "oneroster_sample"
#: What each period of the sample bundle means: days or cycle days, time, length, zone (period 8: nothing).
ONEROSTER_MEETING_PATTERNS = FOLDER / "oneroster_meeting_patterns.csv"
#: The sample's fall instructional days, alternating A and B days (``date,day``).
ONEROSTER_CALENDAR = FOLDER / "oneroster_calendar.csv"

__all__ = [
    "FALL_TERM_SECTIONS",
    "FOLDER",
    "ONEROSTER_CALENDAR",
    "ONEROSTER_MEETING_PATTERNS",
    "ONEROSTER_SAMPLE",
    "ROSTER",
]
