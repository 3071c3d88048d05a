"""What a person can set: the model provider, budgets, device, auto-profiling, the workers' interpreter.

Settings arrive as untrusted JSON (VS Code's `kernelwright.*` section, initializationOptions, a neovim
table). `parse_settings` never raises: every key that is wrong is reported as a `SettingsProblem` that
names the key, what was wrong and the default used instead, and the rest of the object still applies.
Keys are accepted in camelCase (as editors write them) and in snake_case.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any


class ProviderName(enum.StrEnum):
    BUILTIN = "builtin"  # the built-in search: no model, no network
    ANTHROPIC = "anthropic"  # Claude through the official SDK
    OPENAI = "openai"  # any OpenAI-compatible server (vLLM, llama.cpp, Ollama) by base URL


class AutoProfile(enum.StrEnum):
    OFF = "off"
    ON_SAVE = "on_save"  # re-profile a measured site when its file (or a file it imports) is saved
    ON_CHANGE = "on_change"  # ... also on every edit, debounced


@dataclass(frozen=True)
class BudgetSettings:
    """Limits of one optimize run. None means no limit on that axis."""

    rounds: int = 4
    candidates: int = 16
    wall_seconds: float = 600.0
    tokens: int | None = None
    cost_usd: float | None = None


@dataclass(frozen=True)
class Settings:
    provider: ProviderName = ProviderName.BUILTIN
    model: str | None = None  # None: the provider's default model
    base_url: str | None = None  # None: the provider's default endpoint (or ANTHROPIC_BASE_URL)
    budgets: BudgetSettings = field(default_factory=BudgetSettings)
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    # Where candidate evaluation runs: auto | local | ray | ray://HOST:PORT (auto: Ray when RAY_ADDRESS is
    # set and Ray is installed, else the local worker pool).
    cluster: str = "auto"
    auto_profile: AutoProfile = AutoProfile.ON_SAVE
    python: str | None = None  # interpreter for the workers; None: the server's own
    debounce_ms: int = 300  # static diagnostics and watcher re-profiles wait this long for quiet
    # Also time torch.compile of the reference when profiling (its first compile takes tens of seconds).
    compile_baseline: bool = True
    # Run a model's candidates unconfined where this machine cannot box them (engine.confinement); off:
    # such runs are refused with the reason and the fix.
    allow_unconfined: bool = False


@dataclass(frozen=True)
class SettingsProblem:
    key: str  # dotted, as the person wrote it, e.g. "budgets.rounds"
    message: str  # what was wrong
    default: str  # the value used instead, as text

    def __str__(self) -> str:
        return f"kernelwright setting `{self.key}`: {self.message}; using {self.default}"


@dataclass(frozen=True)
class ParsedSettings:
    settings: Settings
    problems: tuple[SettingsProblem, ...] = ()


_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
# A Ray client address: the port is required (Ray's client server has no default the engine could assume).
RAY_CLIENT = re.compile(r"^ray://[^\s/:]+:\d+/?$")
_CLUSTER = re.compile(r"^(auto|local|ray)$|" + RAY_CLIENT.pattern)
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")

# Extra spellings editors use for the same keys (VS Code's python extension calls it pythonPath).
_ALIASES = {"python_path": "python", "interpreter": "python", "budget": "budgets"}


def _snake(key: str) -> str:
    snake = _CAMEL.sub("_", key).lower().replace("-", "_")
    return _ALIASES.get(snake, snake)


class _Invalid(Exception):
    """One value that does not fit its key; the message says what was expected."""


def _enum_of(cls: type[enum.StrEnum]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            # "onSave" -> "on_save"; "ON_SAVE", "on-save" and "on save" too.
            if text not in (text.lower(), text.upper()):
                text = _CAMEL.sub("_", text)
            norm = text.lower().replace("-", "_").replace(" ", "_")
            for member in cls:
                if member.value == norm:
                    return member
        choices = ", ".join(m.value for m in cls)
        raise _Invalid(f"{value!r} is not one of {choices}")

    return parse


def _optional_str(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise _Invalid(f"wanted a string, got {type(value).__name__} {value!r}")
    return value.strip()


def _device(value: Any) -> str:
    if isinstance(value, str) and _DEVICE.match(value.strip()):
        return value.strip()
    raise _Invalid(f"{value!r} is not a device: use auto, cpu, cuda or cuda:N")


def _cluster(value: Any) -> str:
    if isinstance(value, str) and _CLUSTER.match(value.strip()):
        return value.strip()
    raise _Invalid(f"{value!r} is not a cluster: use auto, local, ray or ray://HOST:PORT")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _Invalid(f"wanted true or false, got {value!r}")


def _int_at_least(low: int, optional: bool = False) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise _Invalid(f"wanted a whole number, got {value!r}")
        if value < low:
            raise _Invalid(f"must be at least {low}, got {value!r}")
        return int(value)

    return parse


def _float_above_zero(optional: bool = False) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(f"wanted a number, got {value!r}")
        if value <= 0:
            raise _Invalid(f"must be above zero, got {value!r}")
        return float(value)

    return parse


_BUDGET_FIELDS: dict[str, Callable[[Any], Any]] = {
    "rounds": _int_at_least(1),
    "candidates": _int_at_least(1),
    "wall_seconds": _float_above_zero(),
    "tokens": _int_at_least(1, optional=True),
    "cost_usd": _float_above_zero(optional=True),
}

_FIELDS: dict[str, Callable[[Any], Any]] = {
    "provider": _enum_of(ProviderName),
    "model": _optional_str,
    "base_url": _optional_str,
    "device": _device,
    "cluster": _cluster,
    "auto_profile": _enum_of(AutoProfile),
    "python": _optional_str,
    "debounce_ms": _int_at_least(0),
    "compile_baseline": _bool,
    "allow_unconfined": _bool,
}


def _show(value: object) -> str:
    if isinstance(value, enum.Enum):
        return repr(value.value)
    return repr(value)


def parse_settings(raw: object, base: Settings | None = None) -> ParsedSettings:
    """Settings from an editor's JSON object; keys not given keep `base`'s values (or the defaults)."""
    start = base or Settings()
    if raw is None:
        return ParsedSettings(start)
    if not isinstance(raw, Mapping):
        problem = SettingsProblem("kernelwright", f"wanted an object, got {type(raw).__name__}", "defaults")
        return ParsedSettings(start, (problem,))
    # A whole configuration object ({"kernelwright": {...}}) is accepted as well as the section itself.
    if set(raw) == {"kernelwright"}:
        return parse_settings(raw["kernelwright"], base)

    problems: list[SettingsProblem] = []
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        name = _snake(str(key))
        if name == "budgets":
            budgets, budget_problems = _parse_budgets(str(key), value, start.budgets)
            changes["budgets"] = budgets
            problems.extend(budget_problems)
            continue
        parser = _FIELDS.get(name)
        if parser is None:
            known = ", ".join(sorted([*_FIELDS, "budgets"]))
            problems.append(SettingsProblem(str(key), f"unknown key (known: {known})", "nothing: ignored"))
            continue
        try:
            changes[name] = parser(value)
        except _Invalid as exc:
            problems.append(SettingsProblem(str(key), str(exc), _show(getattr(start, name))))
    return ParsedSettings(replace(start, **changes), tuple(problems))


def _parse_budgets(
    key: str, raw: object, base: BudgetSettings
) -> tuple[BudgetSettings, list[SettingsProblem]]:
    if not isinstance(raw, Mapping):
        return base, [SettingsProblem(key, f"wanted an object, got {raw!r}", "the default budgets")]
    problems: list[SettingsProblem] = []
    changes: dict[str, Any] = {}
    for sub, value in raw.items():
        name = _snake(str(sub))
        parser = _BUDGET_FIELDS.get(name)
        dotted = f"{key}.{sub}"
        if parser is None:
            known = ", ".join(f.name for f in fields(BudgetSettings))
            problems.append(SettingsProblem(dotted, f"unknown key (known: {known})", "nothing: ignored"))
            continue
        try:
            changes[name] = parser(value)
        except _Invalid as exc:
            problems.append(SettingsProblem(dotted, str(exc), _show(getattr(base, name))))
    return replace(base, **changes), problems
