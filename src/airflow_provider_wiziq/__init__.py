"""Apache Airflow provider for the WizIQ virtual classroom Class API."""

from __future__ import annotations

__version__ = "0.1.0"
