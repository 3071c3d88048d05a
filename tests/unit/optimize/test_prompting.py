"""Prompts are data: every template renders, feedback reaches the turn, the fixed context stays fixed."""

from __future__ import annotations

import dataclasses

import pytest
from kernelwright.core.site import Convention
from kernelwright.optimize import prompting
from kernelwright.optimize.request import CandidateFeedback, Outcome
from support.optimize_requests import module_request


def test_every_convention_has_a_task_template() -> None:
    templates = prompting.load_templates()
    assert set(templates["convention"]) == {c.value for c in Convention}


def test_render_puts_reference_and_device_in_the_context_and_feedback_in_the_turn() -> None:
    history = (
        CandidateFeedback("r1-a", 1, Outcome.LOAD_FAILED, "SyntaxError: invalid syntax (line 12)"),
        CandidateFeedback(
            "r1-b",
            1,
            Outcome.PASSED,
            "passed 3 trials",
            median_us=80.0,
            speedup=1.5,
            roofline_fraction=0.42,
            rationale="fused",
        ),
    )
    plain = prompting.render(module_request())
    with_history = prompting.render(module_request(round=2, history=history))
    assert plain.context == with_history.context
    assert plain.system == with_history.system
    assert "class Model(nn.Module)" in plain.context and "ModelNew" in plain.context
    assert "132 SMs" in plain.context and "3.35 TB/s" in plain.context
    assert "SyntaxError" in with_history.turn
    assert "80 µs (1.50x the baseline), 42% of roofline" in with_history.turn
    assert "baseline: 120 µs" in with_history.turn
    assert "SyntaxError" not in plain.turn


def test_long_messages_are_shortened_in_the_middle() -> None:
    long = "A" * 5000 + "END"
    request = module_request(round=2, history=(CandidateFeedback("x", 1, Outcome.CHECK_FAILED, long),))
    turn = prompting.render(request).turn
    assert "END" in turn and len(turn) < 3000


def test_a_template_that_names_a_missing_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    templates = dict(prompting.load_templates())
    templates["device"] = "Target: ${no_such_value}"
    monkeypatch.setattr(prompting, "load_templates", lambda name=prompting.PROMPT_FILE: templates)
    with pytest.raises(prompting.PromptError, match="no_such_value"):
        prompting.render(module_request())


def test_several_candidates_ask_for_different_ideas() -> None:
    request = dataclasses.replace(module_request(), count=3)
    assert (
        "different idea" in prompting.render(request, 2).turn
        and "2 of 3" in prompting.render(request, 2).turn
    )
