"""The builtin search's torch rewrites: where each applies, where it must not, and that what it writes
computes what the original does (run here on small CPU inputs; the loop verifies every one anyway)."""

from __future__ import annotations

import types
from pathlib import Path

import pytest
import torch
from kernelwright.core.site import SiteKind
from kernelwright.optimize.providers.builtin import rewrites as torch_rewrites
from kernelwright.optimize.providers.builtin.rewrites import rewrites

ROOT = Path(__file__).resolve().parents[3]
MODULE = SiteKind.TORCH_MODULE


def _by_slug(text: str, name: str = "Model", kind: SiteKind = MODULE, on_gpu: bool = True) -> dict[str, str]:
    return {r.slug: r.file_text for r in rewrites(text, name, kind, on_gpu=on_gpu, liger=False)}


def _load(text: str) -> types.ModuleType:
    module = types.ModuleType("rewritten")
    exec(compile(text, "<rewritten>", "exec"), module.__dict__)
    return module


def _same_outputs(original: str, rewritten: str, **tol: float) -> None:
    """Build both modules' Model with the CPU factories under one seed and compare their outputs."""
    outs = []
    for text in (original, rewritten):
        mod = _load(text)
        torch.manual_seed(0)
        init = mod.get_cpu_init_inputs() if hasattr(mod, "get_cpu_init_inputs") else mod.get_init_inputs()
        model = mod.Model(*init)
        torch.manual_seed(1)
        inputs = mod.get_cpu_inputs() if hasattr(mod, "get_cpu_inputs") else mod.get_inputs()
        with torch.inference_mode():
            outs.append(model(*inputs))
    a, b = outs
    for x, y in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,), strict=True):
        torch.testing.assert_close(y, x, **tol)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sample", "slug", "expect"),
    [
        ("samples/suite/causal_attention.py", "sdpa", "is_causal=True"),
        ("samples/suite/gpt_attention_block.py", "sdpa", "is_causal=True"),
        ("samples/suite/attention_scaled.py", "sdpa", "scale=1.0 / ("),
        (
            "samples/suite/dit_attention_hd128.py",
            "sdpa",
            "scaled_dot_product_attention(q, k, v, scale=scale)",
        ),
        ("samples/suite/llama_causal_attention_hd128.py", "sdpa", "is_causal=True, scale=1.0 / ("),
        ("samples/suite/softmax_temperature_mask.py", "triton-c0", "_kw_softmax("),
        ("samples/suite/gemm_bias_relu.py", "addmm-act", "_kw_addmm_act("),
        ("samples/suite/gemm_bias_relu.py", "linear", "torch.nn.functional.linear("),
        ("samples/suite/small_mlp_launch_bound.py", "addmm-act", "_kw_addmm_act("),
        ("samples/suite/cross_entropy_loss.py", "torch-ops", "torch.nn.functional.cross_entropy("),
        ("samples/suite/log_softmax.py", "torch-ops", "log_softmax("),
        ("samples/suite/log_softmax.py", "triton-c0", "return _kw_log_softmax(x)"),
        ("samples/suite/cross_entropy_loss.py", "triton-c0", "return _kw_cross_entropy(logits, targets)"),
        ("samples/suite/gelu_tanh.py", "torch-ops", 'approximate="tanh"'),
        ("samples/pytorch/softmax_unfused.py", "torch-ops", "torch.softmax(x, dim=1)"),
    ],
)
def test_each_rewrite_applies_where_its_pattern_is_and_computes_the_same(
    sample: str, slug: str, expect: str
) -> None:
    text = (ROOT / sample).read_text()
    found = _by_slug(text)
    assert slug in found, sorted(found)
    assert expect in found[slug]
    if "@triton.jit" not in found[slug]:  # Triton kernels need a GPU or the interpreter: test_fused_kernels
        _same_outputs(text, found[slug], atol=1e-4, rtol=1e-4)


def test_attention_rewrite_drops_the_scores_and_keeps_the_persons_names() -> None:
    text = (ROOT / "samples/pytorch/causal_attention.py").read_text()
    new = _by_slug(text, "causal_attention", SiteKind.TORCH_FUNCTION)["sdpa"]
    body = new.split("def causal_attention", 1)[1]
    assert "softmax" not in body and "masked_fill" not in body and "triu" not in body
    assert "scaled_dot_product_attention(q, k, v, is_causal=True, scale=1.0 / math.sqrt(q.shape[-1]))" in body
    mod, ref = _load(new), _load(text)
    q, k, v = ref.make_small_inputs()
    torch.testing.assert_close(
        mod.causal_attention(q, k, v), ref.causal_attention(q, k, v), atol=1e-5, rtol=1e-5
    )


def test_reused_names_are_followed_and_given_back() -> None:
    """`x = self.gemm(x); x = x + self.bias; return torch.relu(x)` becomes one call on the input `x`."""
    text = (ROOT / "samples/pytorch/matmul_bias_relu.py").read_text()
    found = _by_slug(text)
    assert "        return _kw_addmm_act(x, self.gemm.weight, self.bias)\n" in found["addmm-act"]
    assert (
        "        x = torch.nn.functional.linear(x, self.gemm.weight, self.bias)\n        return torch.relu(x)\n"
        in (found["linear"])
    )
    assert "_kw1" not in found["addmm-act"] + found["linear"]


def test_written_out_layer_norm_is_recognised_with_its_weight_and_bias() -> None:
    text = (ROOT / "samples/pytorch/layernorm_gelu_unfused.py").read_text()
    new = _by_slug(text)["triton-c0"]
    assert "y = _kw_layer_norm(x, self.weight, self.bias, EPS)" in new
    assert "centered" not in new.split("def forward", 1)[1]


@pytest.mark.parametrize(
    "body",
    [
        # softmax over another dim than the last: not attention's
        "s = (q @ k.transpose(-2, -1)) * 0.125\n        return torch.softmax(s, dim=0) @ v",
        # the scores are not q @ k^T
        "s = q * k * 0.125\n        return torch.softmax(s, dim=-1) @ v",
        # masked with a finite value: SDPA's -inf semantics would differ
        "s = (q @ k.transpose(-2, -1)) * 0.125\n        s = s.masked_fill(self.m, -1e4)\n"
        "        return torch.softmax(s, dim=-1) @ v",
        # q reassigned between the scores and the weighted sum, in a branch the dataflow does not follow
        "s = (q @ k.transpose(-2, -1)) * 0.125\n        if q.sum() > 0:\n            q = q * 2\n"
        "        w = torch.softmax(s, dim=-1)\n        return w @ v + q",
    ],
)
def test_attention_lookalikes_are_left_alone(body: str) -> None:
    text = (
        f"import torch\n\n\nclass Model(torch.nn.Module):\n    def forward(self, q, k, v):\n        {body}\n"
    )
    found = _by_slug(text)
    assert "sdpa" not in found, found.get("sdpa")


def test_a_softmax_with_a_dtype_or_another_dim_is_not_fused() -> None:
    text = (
        "import torch\n\n\nclass Model(torch.nn.Module):\n    def forward(self, x):\n"
        "        return torch.softmax(x, dim=0) + torch.softmax(x, dim=-1, dtype=torch.float64)\n"
    )
    assert _by_slug(text) == {}


def _forward(body: str, args: str = "x") -> str:
    return (
        f"import torch\nimport torch.nn.functional as F\n\n\nclass Model(torch.nn.Module):\n"
        f"    def forward(self, {args}):\n        {body}\n"
    )


@pytest.mark.parametrize(
    ("body", "call"),
    [
        ("return F.log_softmax(x, dim=-1)", "_kw_log_softmax(x)"),
        ("return x.log_softmax(-1)", "_kw_log_softmax(x)"),
        ("p = torch.softmax(x, -1)\n        y = torch.log(p)\n        return y", "_kw_log_softmax(x)"),
        ("return torch.log_softmax(x * 2.0, dim=-1)", "_kw_log_softmax(x * 2.0)"),
    ],
)
def test_log_softmax_is_fused_in_each_way_it_is_written(body: str, call: str) -> None:
    found = _by_slug(_forward(body))
    assert f" {call}\n" in found["triton-c0"].split("def forward", 1)[1]
    assert "_kw_softmax" not in found["triton-c0"]  # the softmax that fed the log went with it
    assert "log-softmax" in next(r.why for r in rewrites(_forward(body), "Model", MODULE, True, liger=False))


@pytest.mark.parametrize(
    ("body", "call"),
    [
        ("return F.cross_entropy(x, t)", "_kw_cross_entropy(x, t)"),
        ("return F.cross_entropy(x, t, reduction='mean', ignore_index=3)", "_kw_cross_entropy(x, t, 3)"),
        (
            "lp = F.log_softmax(x, dim=1)\n        p = lp.gather(1, t.unsqueeze(1)).squeeze(1)\n"
            "        return -p.mean()",
            "_kw_cross_entropy(x, t)",
        ),
    ],
)
def test_cross_entropy_is_fused_in_each_way_it_is_written(body: str, call: str) -> None:
    found = _by_slug(_forward(body, "x, t"))
    assert f"return {call}\n" in found["triton-c0"]


@pytest.mark.parametrize(
    "body",
    [
        "return F.log_softmax(x, dim=0)",
        "return F.log_softmax(x, dim=-1, dtype=torch.float64)",
        "return torch.log(torch.softmax(x, dim=1))",
        "return F.cross_entropy(x, t, reduction='sum')",
        "return F.cross_entropy(x, t, weight=self.w)",
        "return F.cross_entropy(x, t, label_smoothing=0.1)",
        "return F.cross_entropy(x, t, ignore_index=self.pad)",
        "return -(F.log_softmax(x, dim=1).gather(1, t.unsqueeze(1)).squeeze(1)).sum()",
    ],
)
def test_log_softmax_and_cross_entropy_lookalikes_are_not_fused(body: str) -> None:
    found = _by_slug(_forward(body, "x, t"))
    assert not [slug for slug in found if slug.startswith("triton")], found


def test_a_function_with_no_pattern_gets_no_rewrite_and_a_bad_file_none_either() -> None:
    text = (ROOT / "samples/pytorch/bias_gelu_function.py").read_text()
    assert _by_slug(text, "bias_gelu", SiteKind.TORCH_FUNCTION) == {}
    assert rewrites("def f(:\n", "f", SiteKind.TORCH_FUNCTION, on_gpu=False) == []


def test_liger_candidates_only_where_liger_kernel_is_installed() -> None:
    text = (ROOT / "samples/suite/rms_norm.py").read_text()
    with_liger = {r.slug: r.file_text for r in rewrites(text, "Model", MODULE, on_gpu=True, liger=True)}
    assert "from liger_kernel.ops.rms_norm import LigerRMSNormFunction" in with_liger["liger"]
    assert "liger" not in _by_slug(text)
    assert torch_rewrites.liger_available() in (True, False)


def test_without_a_gpu_no_fused_kernel_is_proposed() -> None:
    """Under the CPU's Triton interpreter nothing can be timed, so a fused kernel could never win."""
    text = (ROOT / "samples/pytorch/layernorm_gelu_unfused.py").read_text()
    on_gpu = _by_slug(text)
    assert "triton-c0" in on_gpu
    assert rewrites(text, "Model", MODULE, on_gpu=False, liger=True) == []
    mixed = (ROOT / "samples/suite/transformer_block_small.py").read_text()
    cpu = {r.slug: r.file_text for r in rewrites(mixed, "Model", MODULE, on_gpu=False, liger=True)}
    assert set(cpu) == {"sdpa"} and "@triton.jit" not in cpu["sdpa"]


@pytest.mark.parametrize("sample", ["samples/suite/causal_attention.py", "samples/suite/attention_scaled.py"])
def test_on_a_gpu_sdpa_is_also_tried_on_each_of_its_other_kernels(sample: str) -> None:
    text = (ROOT / sample).read_text()
    found = _by_slug(text)
    assert "sdpa-cudnn" in found and "sdpa-efficient" in found
    assert "CUDNN_ATTENTION" in found["sdpa-cudnn"] and "EFFICIENT_ATTENTION" in found["sdpa-efficient"]
    assert not {"sdpa-cudnn", "sdpa-efficient"} & set(_by_slug(text, on_gpu=False))
    # Neither kernel runs on a CPU: held to SDPA's math kernel instead, the call computes the original.
    for slug, backend in (("sdpa-cudnn", "CUDNN_ATTENTION"), ("sdpa-efficient", "EFFICIENT_ATTENTION")):
        _same_outputs(
            text, found[slug].replace(f"_KwSDPBackend.{backend}", "_KwSDPBackend.MATH"), atol=1e-4, rtol=1e-4
        )
