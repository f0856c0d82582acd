"""``python -m airflow_provider_wiziq.cli``: the ``wiziq-term`` console script."""

from __future__ import annotations

from airflow_provider_wiziq.cli import main

raise SystemExit(main())
