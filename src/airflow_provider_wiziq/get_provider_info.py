"""Provider metadata for Airflow's provider manager. A plain dict: a failure here breaks every Airflow import."""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    """What ``airflow providers`` lists; the connection form's types and ranges come from the extras' table."""
    from airflow_provider_wiziq import __version__
    from airflow_provider_wiziq.api.protocol.config import EXTRAS

    return {
        "package-name": "airflow-provider-wiziq",
        "name": "WizIQ",
        "description": "Provision WizIQ virtual classroom classes and recurring series from Airflow.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "WizIQ",
                "external-doc-url": "https://www.wiziq.com/",
                "tags": ["service"],
            }
        ],
        "operators": [{"integration-name": "WizIQ", "python-modules": ["airflow_provider_wiziq.operators.wiziq"]}],
        "hooks": [{"integration-name": "WizIQ", "python-modules": ["airflow_provider_wiziq.hooks.wiziq"]}],
        "sensors": [{"integration-name": "WizIQ", "python-modules": ["airflow_provider_wiziq.sensors.wiziq"]}],
        "triggers": [{"integration-name": "WizIQ", "python-modules": ["airflow_provider_wiziq.triggers.wiziq"]}],
        "extra-links": ["airflow_provider_wiziq.operators.series.WizIQClassLink"],
        # Also an ``airflow.plugins`` entry point (pyproject.toml): Airflow loads the plugins named here only
        # with ``[core] lazy_discover_providers = False``, the entry point always (Airflow's own providers do both).
        "plugins": [{"name": "wiziq_status_pings", "plugin-class": "airflow_provider_wiziq.plugins.WizIQPingPlugin"}],
        "config": {
            "wiziq": {
                "description": "WizIQ status pings (docs/deployment.md): read by the api-server, the workers and "
                "the triggerer alike.",
                "options": {
                    "ping_secret": {
                        "description": "Signs the status_ping_url tokens; comma-separated to rotate (the first "
                        "signs new URLs, every one is accepted). Unset: pings are off and waits poll.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "sensitive": True,
                        "example": None,
                        "default": None,
                    },
                    "ping_inbox": {
                        "description": "Where the api-server records pings and the triggerers read them: an "
                        "ObjectStoragePath URL every one of them reaches (file:///shared/wiziq-pings, "
                        "s3://bucket/wiziq-pings). Unset: pings are off and waits poll.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "file:///opt/airflow/wiziq-pings",
                        "default": None,
                    },
                    "ping_idle_interval": {
                        "description": "Seconds between a triggerer's full polls of a pinged connection's waits "
                        "(or the sensors' poke_interval, if longer): how late a lost ping is made up for.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "600",
                        "default": "900",
                    },
                },
            }
        },
        "connection-types": [
            {
                "connection-type": "wiziq",
                "hook-class-name": "airflow_provider_wiziq.hooks.wiziq.WizIQHook",
                "hook-name": "WizIQ",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "host": "API endpoint URL",
                        "login": "Access key",
                        "password": "Secret key",
                    },
                    "placeholders": {
                        "host": "https://class.api.wiziq.com/apimanager.ashx",
                        "login": "your WizIQ access key",
                        "password": "your WizIQ secret key",
                    },
                },
                "conn-fields": {name: {**form, "schema": EXTRAS[name].schema()} for name, form in _FORM.items()},
            }
        ],
    }


#: The connection form's label and help for each extra.
_FORM: dict[str, dict[str, str]] = {
    "connect_timeout": {
        "label": "Connect timeout (s)",
        "description": "Seconds to wait for a connection. Default 10.",
    },
    "read_timeout": {
        "label": "Read timeout (s)",
        "description": "Seconds to wait for an answer. Default 60.",
    },
    "max_retries": {
        "label": "Max retries",
        "description": "Re-sends of a call that is safe to repeat after a transient error. Default 4.",
    },
    "retry_budget": {
        "label": "Retry budget (s)",
        "description": "Seconds one call may spend across all its attempts. Default 120.",
    },
    "backoff_initial": {
        "label": "Backoff start (s)",
        "description": "First wait before re-sending; doubles each time, with jitter. Default 1.",
    },
    "backoff_max": {
        "label": "Backoff cap (s)",
        "description": "Longest wait between attempts (a Retry-After may ask more). Default 30.",
    },
    "max_response_bytes": {
        "label": "Answer size cap (bytes)",
        "description": "Larger answers are refused unread. Default 5242880 (5 MiB).",
    },
    "max_series_classes": {
        "label": "Max classes per series",
        "description": "Classes one recurring series may hold. Default 60.",
    },
    "max_class_minutes": {
        "label": "Plan: MaxClassMinutes",
        "description": "Your plan's longest class, checked before sending (error 1010).",
    },
    "max_user_per_class": {
        "label": "Plan: MaxUserPerClass",
        "description": "Your plan's largest attendee_limit, checked before sending (error 1011).",
    },
    "max_concurrent_class": {
        "label": "Plan: MaxConcurrentClass",
        "description": "Your plan's simultaneous classes (error 1012, decided by WizIQ).",
    },
    "ping_base_url": {
        "label": "Status ping URL",
        "description": "Public URL of Airflow's /wiziq/ping route (no token): new classes get a signed "
        "status_ping_url and their waits wake on WizIQ's pings. Needs [wiziq] ping_secret.",
    },
    "allow_insecure_http": {
        "label": "Allow plain http to a remote host",
        "description": "WizIQ does not sign the payload: leave off unless on a trusted network.",
    },
}
