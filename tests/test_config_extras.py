"""The connection's odd corners: credentials in the endpoint URL, keys UTF-8 cannot encode, extras out of range,
and extras left over from the connection's former type."""

from __future__ import annotations

import copy
import logging
import math
import pickle

import pytest

from airflow_provider_wiziq.api.protocol.config import ClientConfig, config_from_connection, url_without_credentials
from airflow_provider_wiziq.api.protocol.errors import WizIQConfigError
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.protocol.signing import signature

SECRET = "s3cr3t-Key-\udcff-tail"  # as a surrogateescape-decoded URI gives a byte that is not UTF-8


def make(**fields: object) -> ClientConfig:
    return config_from_connection(
        host=fields.pop("host", "http://127.0.0.1:8765/apimanager.ashx"),
        login=fields.pop("login", "ak"),
        password=fields.pop("password", "sk"),
        extra=fields.pop("extra", None),
    )


class TestCredentialsInTheEndpoint:
    @pytest.mark.parametrize(
        "host",
        [
            "https://robin:hunter2@api.example.com/apimanager.ashx",
            "https://api.example.com/apimanager.ashx?token=hunter2",
            "https://robin:hunter2@api.example.com:8443/apimanager.ashx?token=hunter2#hunter2",
            "robin:hunter2@api.example.com/apimanager.ashx",
        ],
    )
    def test_repr_shows_the_endpoint_without_them(self, host):
        made = make(host=host)
        assert "hunter2" in made.endpoint  # still used when calling
        for text in (repr(made), str(made)):
            assert "hunter2" not in text
            assert "api.example.com" in text

    def test_no_plain_attribute_holds_the_password_or_the_secret_key(self):
        made = make(host="https://robin:hunter2@api.example.com/apimanager.ashx?token=t0k3n", password="sk-s3cr3t")
        attributes = vars(made)
        for secret in ("hunter2", "t0k3n", "sk-s3cr3t"):
            assert secret not in repr(attributes)
            assert not any(secret in str(value) or secret in repr(value) for value in attributes.values())
        # read as before: the endpoint as given, the key for signing
        assert (made.endpoint, made.secret_key) == (
            "https://robin:hunter2@api.example.com/apimanager.ashx?token=t0k3n",
            "sk-s3cr3t",
        )
        assert made == make(
            host="https://robin:hunter2@api.example.com/apimanager.ashx?token=t0k3n", password="sk-s3cr3t"
        )
        assert made != make(
            host="https://robin:other@api.example.com/apimanager.ashx?token=t0k3n", password="sk-s3cr3t"
        )
        assert pickle.loads(pickle.dumps(made)) == made == copy.deepcopy(made)

    def test_requests_go_to_the_url_without_them_and_carry_them_as_basic_auth(self):
        made = make(host="https://robin:hunter%32@api.example.com/apimanager.ashx?token=t0k3n")
        assert made.request_url == "https://api.example.com/apimanager.ashx?token=t0k3n"
        assert made.endpoint_auth() == ("robin", "hunter2")  # percent-decoded, as requests and httpx read it
        assert set(made.endpoint_secrets()) == {"hunter%32", "hunter2", "token=t0k3n"}
        plain = make(host="https://api.example.com/apimanager.ashx")
        assert (plain.request_url, plain.endpoint_auth(), plain.endpoint_secrets()) == (plain.endpoint, None, ())

    def test_a_refused_endpoint_is_named_without_them(self):
        with pytest.raises(WizIQConfigError) as caught:
            make(host="ftp://robin:hunter2@api.example.com/x?token=hunter2")
        assert "hunter2" not in str(caught.value)
        assert "api.example.com/x" in str(caught.value)

    @pytest.mark.parametrize(
        ("url", "shown"),
        [
            ("https://a:b@h.example/p?q=1#f", "https://h.example/p?***"),
            ("https://h.example:8443/apimanager.ashx", "https://h.example:8443/apimanager.ashx"),
            ("a:b@h.example/p", "h.example/p"),
            ("https://h.example?x", "https://h.example?***"),
        ],
    )
    def test_url_without_credentials(self, url, shown):
        assert url_without_credentials(url) == shown


class TestKeysUTF8CannotEncode:
    def test_the_signing_itself_would_leak_the_secret(self):
        # Why the configuration must refuse the key: the encoder's error quotes the whole string.
        with pytest.raises(UnicodeEncodeError) as caught:
            signature(secret_key=SECRET, access_key="ak", timestamp=1, method="create")
        assert "s3cr3t-Key" in repr(caught.value)

    @pytest.mark.parametrize("field", ["password", "login"])
    def test_refused_as_a_configuration_error_that_does_not_quote_the_key(self, field):
        with pytest.raises(WizIQConfigError, match="UTF-8") as caught:
            make(**{field: SECRET})
        error = caught.value
        assert error.__cause__ is None
        assert error.__context__ is None
        for text in (str(error), repr(error), repr(error.args)):
            assert "s3cr3t" not in text
            assert "\udcff" not in text

    def test_an_endpoint_utf8_cannot_encode_is_refused_without_quoting_it(self):
        with pytest.raises(WizIQConfigError, match="UTF-8") as caught:
            make(host="https://api.example.com/apimanager.ashx?token=hunter2\udcff")
        assert "hunter2" not in str(caught.value)
        assert caught.value.__cause__ is None

    def test_built_directly_it_is_refused_too(self):
        with pytest.raises(WizIQConfigError, match="secret key"):
            ClientConfig(endpoint="http://127.0.0.1/", access_key="ak", secret_key=SECRET)


#: Values no extra may take, as they come from JSON or from the connection form's text.
NOT_NUMBERS = [math.nan, "nan", math.inf, "inf", "-inf", "1e400", 10**400, True, False, "", [3], {"a": 1}]


class TestExtrasOutOfRange:
    @pytest.mark.parametrize(
        "name",
        [
            "connect_timeout",
            "read_timeout",
            "retry_budget",
            "backoff_initial",
            "backoff_max",
            "max_retries",
            "max_response_bytes",
            "max_series_classes",
            "max_class_minutes",
            "max_user_per_class",
            "max_concurrent_class",
        ],
    )
    @pytest.mark.parametrize("value", [v for v in NOT_NUMBERS if v != ""], ids=repr)
    def test_a_numeric_extra_is_a_finite_number(self, name, value):
        with pytest.raises(WizIQConfigError, match=f"extra {name} ") as caught:
            make(extra={name: value})
        assert caught.value.__cause__ is None

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("backoff_initial", -1),
            ("backoff_initial", 0),
            ("backoff_max", "-0.5"),
            ("max_series_classes", 0),
            ("max_series_classes", "-3"),
            ("max_class_minutes", 0),
            ("max_user_per_class", -1),
            ("max_concurrent_class", 0),
            ("max_retries", -1),
            ("max_retries", 2.5),
            ("max_retries", "2.5"),
            ("max_retries", 10**6),
            ("connect_timeout", 1e12),
            ("read_timeout", 10**9),
            ("retry_budget", -5),
            ("max_response_bytes", 10),
            ("max_response_bytes", 2**70),
        ],
    )
    def test_out_of_range(self, name, value):
        with pytest.raises(WizIQConfigError, match=f"extra {name} ") as caught:
            make(extra={name: value})
        assert caught.value.__cause__ is None

    @pytest.mark.parametrize("value", ["yes", "1", 1, 0, "on", math.nan, [True]], ids=repr)
    def test_a_switch_is_true_or_false(self, value):
        with pytest.raises(WizIQConfigError, match="extra allow_insecure_http "):
            make(extra={"allow_insecure_http": value})

    @pytest.mark.parametrize(("value", "read"), [(True, True), ("TRUE", True), (" false ", False), (False, False)])
    def test_a_switch_as_json_or_text(self, value, read):
        assert make(extra={"allow_insecure_http": value}).allow_insecure_http is read

    def test_numbers_as_text_and_integral_floats_are_read(self):
        made = make(extra={"max_retries": "3", "max_series_classes": 40.0, "read_timeout": " 2.5 ", "backoff_max": 7})
        assert (made.max_retries, made.limits.max_series_classes, made.read_timeout, made.backoff_max) == (
            3,
            40,
            2.5,
            7.0,
        )
        assert type(made.max_retries) is int
        assert type(made.limits.max_series_classes) is int

    @pytest.mark.parametrize(
        ("field", "value"),
        [("backoff_initial", -1.0), ("read_timeout", math.nan), ("max_retries", True), ("connect_timeout", math.inf)],
    )
    def test_built_directly_the_same_rules_hold(self, field, value):
        with pytest.raises(WizIQConfigError, match=f"extra {field} "):
            ClientConfig(endpoint="http://127.0.0.1/", access_key="ak", secret_key="sk", **{field: value})

    def test_plan_limits_built_directly_are_checked_too(self):
        with pytest.raises(WizIQConfigError, match="extra max_series_classes "):
            ClientConfig(
                endpoint="http://127.0.0.1/", access_key="ak", secret_key="sk", limits=PlanLimits(max_series_classes=0)
            )


class TestExtrasLeftFromAnotherConnectionType:
    @pytest.mark.parametrize("value", [None, ""])
    def test_an_unknown_empty_extra_is_ignored_and_logged(self, value, caplog):
        with caplog.at_level(logging.INFO, logger="airflow_provider_wiziq.api.protocol.config"):
            made = make(extra={"timeout": value, "verify_ssl": value, "read_timeout": 9})
        assert made.read_timeout == 9
        logged = caplog.text
        assert "timeout" in logged
        assert "verify_ssl" in logged

    @pytest.mark.parametrize("value", [0, False, "x", " ", [], {}])
    def test_an_unknown_extra_that_is_set_is_still_refused(self, value):
        with pytest.raises(WizIQConfigError, match="Unknown WizIQ connection extra 'timeout'"):
            make(extra={"timeout": value, "verify_ssl": None})
