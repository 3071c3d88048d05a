"""Render the prompt data files (optimize/prompts/*.toml) for one proposal request.

The rendered prompt has two parts: a fixed context (system text, the reference file, the convention,
the device) that is identical in every round of a run, so providers mark it cacheable; and the per-round
part (feedback, the best so far, which candidate of how many).
"""

from __future__ import annotations

import functools
import importlib.resources
import string
import tomllib
from dataclasses import dataclass
from typing import Any

from kernelwright.core.errors import KernelwrightError
from kernelwright.core.site import Language
from kernelwright.core.text import format_us
from kernelwright.optimize.request import CandidateFeedback, Outcome, ProposalRequest

PROMPT_FILE = "optimize.toml"

# How much feedback a prompt carries: the latest entries, most relevant first. Old rounds add tokens
# without adding much the best-so-far and the latest failures do not already say.
MAX_FEEDBACK_ENTRIES = 24
MAX_MESSAGE_CHARS = 1200


class PromptError(KernelwrightError):
    """A prompt template is missing or refers to a value that does not exist."""


@dataclass(frozen=True)
class RenderedPrompt:
    system: str
    context: str  # reference + convention + device: fixed across the rounds of one run
    turn: str  # the round's request and feedback


@functools.cache
def load_templates(name: str = PROMPT_FILE) -> dict[str, Any]:
    resource = importlib.resources.files("kernelwright.optimize").joinpath("prompts", name)
    try:
        return tomllib.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PromptError(
            f"the prompt file optimize/prompts/{name} is missing; reinstall kernelwright"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise PromptError(f"the prompt file optimize/prompts/{name} is not valid TOML: {exc}") from None


def _fill(templates: dict[str, Any], key: str, **values: object) -> str:
    node: Any = templates
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise PromptError(f"the prompt file has no `{key}` template")
        node = node[part]
    try:
        return string.Template(str(node)).substitute({k: str(v) for k, v in values.items()}).strip()
    except KeyError as exc:
        raise PromptError(
            f"the prompt template `{key}` refers to ${{{exc.args[0]}}}, which is not provided"
        ) from None


def _fence(request: ProposalRequest) -> str:
    return "cuda" if request.language is Language.CUDA else "python"


def _device_details(request: ProposalRequest) -> str:
    d = request.device
    parts: list[str] = []
    if d.sm_count:
        parts.append(f"{d.sm_count} SMs")
    if d.memory_bytes:
        parts.append(f"{d.memory_bytes / 2**30:.0f} GiB")
    if d.bandwidth_bytes_per_s:
        parts.append(f"{d.bandwidth_bytes_per_s / 1e12:.2f} TB/s memory bandwidth")
    for dtype, flops in d.peak_flops:
        parts.append(f"{flops / 1e12:.0f} TFLOP/s {dtype}")
    if not d.is_gpu:
        parts.append("no GPU: candidates are checked on the CPU (Triton under its interpreter)")
    return (" (" + ", ".join(parts) + ")") if parts else ""


def _us(value: float | None) -> str:
    return "not measured" if value is None else format_us(value)


def _entry(templates: dict[str, Any], fb: CandidateFeedback) -> str:
    timing = ""
    if fb.median_us is not None:
        timing = f", {format_us(fb.median_us)}"
        if fb.speedup is not None:
            timing += f" ({fb.speedup:.2f}x the baseline)"
        if fb.roofline_fraction is not None:
            timing += f", {fb.roofline_fraction:.0%} of roofline"
    message = fb.message.strip()
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS // 2] + "\n...\n" + message[-MAX_MESSAGE_CHARS // 2 :]
    if fb.rationale and fb.outcome is Outcome.PASSED:
        message = f"Idea: {fb.rationale.strip()} {message}"
    return _fill(
        templates,
        "feedback_entry",
        round=fb.round,
        candidate=fb.candidate_id,
        outcome=fb.outcome.value.replace("_", " "),
        timing=timing,
        message=message,
    )


def render(request: ProposalRequest, index: int = 1) -> RenderedPrompt:
    """The prompt for candidate `index` (1-based) of `request.count` in this round."""
    t = load_templates()
    fence = _fence(request)
    system = _fill(t, "system", fence=fence)
    context = "\n\n".join(
        [
            _fill(
                t,
                "reference",
                path=request.path,
                fence=fence,
                file_text=request.file_text.rstrip("\n"),
                symbol=request.site.name,
                kind=request.site.kind.value.replace("_", " "),
                site_source=request.site_source.rstrip("\n"),
            ),
            _fill(t, f"convention.{request.convention.value}.task", symbol=request.expected_symbol),
            _fill(t, "device", device_name=request.device.name, device_details=_device_details(request)),
        ]
    )
    parts: list[str] = []
    if request.history:
        best_roofline = (
            f", {request.best_roofline_fraction:.0%} of roofline"
            if request.best_roofline_fraction is not None
            else ""
        )
        parts.append(
            _fill(
                t,
                "feedback_header",
                baseline=_us(request.baseline_us),
                best=_us(request.best_us),
                best_roofline=best_roofline,
            )
        )
        recent = request.history[-MAX_FEEDBACK_ENTRIES:]
        parts.append("\n".join(_entry(t, fb) for fb in recent))
    if request.best_source:
        parts.append(_fill(t, "best_so_far", fence=fence, best_source=request.best_source.rstrip("\n")))
    variety = "; make it a different idea from the others in this round" if request.count > 1 else ""
    parts.append(_fill(t, "round", round=request.round, index=index, count=request.count, variety=variety))
    return RenderedPrompt(system=system, context=context, turn="\n\n".join(parts))
