"""Settings parse from editors' JSON; every bad key is named with the default used, nothing raises."""

from __future__ import annotations

from kernelwright.core.settings import AutoProfile, BudgetSettings, ProviderName, Settings, parse_settings


def test_defaults_when_nothing_given() -> None:
    parsed = parse_settings(None)
    assert parsed.settings == Settings()
    assert parsed.problems == ()


def test_camel_case_keys_and_values_as_vscode_writes_them() -> None:
    parsed = parse_settings(
        {
            "provider": "anthropic",
            "model": "claude-sonnet-4-5",
            "baseUrl": "http://localhost:8000/v1",
            "autoProfile": "onChange",
            "pythonPath": "/opt/venv/bin/python",
            "debounceMs": 150,
            "device": "cuda:1",
            "compileBaseline": False,
            "budgets": {"rounds": 2, "wallSeconds": 30, "costUsd": 1.5},
        }
    )
    s = parsed.settings
    assert parsed.problems == ()
    assert s.provider is ProviderName.ANTHROPIC
    assert s.model == "claude-sonnet-4-5"
    assert s.base_url == "http://localhost:8000/v1"
    assert s.auto_profile is AutoProfile.ON_CHANGE
    assert s.python == "/opt/venv/bin/python"
    assert s.debounce_ms == 150
    assert s.device == "cuda:1"
    assert s.compile_baseline is False
    assert s.budgets == BudgetSettings(rounds=2, candidates=16, wall_seconds=30.0, tokens=None, cost_usd=1.5)


def test_whole_configuration_object_is_accepted() -> None:
    parsed = parse_settings({"kernelwright": {"autoProfile": "off"}})
    assert parsed.settings.auto_profile is AutoProfile.OFF


def test_each_bad_key_is_named_with_the_default_and_the_rest_applies() -> None:
    parsed = parse_settings(
        {
            "provider": "gpt-9000",
            "device": "tpu",
            "debounceMs": -5,
            "budgets": {"rounds": "many", "candidates": 3},
            "colour": "blue",
            "model": "m",
        }
    )
    by_key = {p.key: p for p in parsed.problems}
    assert set(by_key) == {"provider", "device", "debounceMs", "budgets.rounds", "colour"}
    assert "builtin" in by_key["provider"].default
    assert "anthropic" in by_key["provider"].message  # the choices are listed
    assert "cuda:N" in by_key["device"].message
    assert "unknown key" in by_key["colour"].message
    assert "budgets.rounds" in str(by_key["budgets.rounds"]) and "using 4" in str(by_key["budgets.rounds"])
    # Good keys next to bad ones still apply.
    assert parsed.settings.model == "m"
    assert parsed.settings.budgets.candidates == 3
    assert parsed.settings.provider is ProviderName.BUILTIN


def test_not_an_object() -> None:
    parsed = parse_settings(["provider", "anthropic"])
    assert parsed.settings == Settings()
    assert len(parsed.problems) == 1 and "wanted an object" in parsed.problems[0].message


def test_partial_update_keeps_the_base() -> None:
    base = parse_settings({"model": "a", "autoProfile": "off"}).settings
    parsed = parse_settings({"model": "b"}, base)
    assert parsed.settings.model == "b"
    assert parsed.settings.auto_profile is AutoProfile.OFF


def test_bool_is_not_a_number_and_a_string_is_not_a_bool() -> None:
    parsed = parse_settings({"debounceMs": True, "compileBaseline": "no"})
    assert [p.key for p in parsed.problems] == ["debounceMs", "compileBaseline"]
    assert parsed.settings.debounce_ms == 300
    assert parsed.settings.compile_baseline is True


def test_cluster_setting() -> None:
    assert parse_settings({"cluster": "ray://head-node:10001"}).settings.cluster == "ray://head-node:10001"
    assert parse_settings({"cluster": " local "}).settings.cluster == "local"
    parsed = parse_settings({"cluster": "kubernetes"})
    assert parsed.settings.cluster == "auto"
    assert len(parsed.problems) == 1 and "ray://HOST:PORT" in str(parsed.problems[0])
    # Refused here, as the engine would refuse it at the first job: a Ray client address needs its port.
    no_port = parse_settings({"cluster": "ray://head"})
    assert no_port.settings.cluster == "auto" and "ray://HOST:PORT" in str(no_port.problems[0])
