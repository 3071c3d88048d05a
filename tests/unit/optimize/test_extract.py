"""Code out of model replies: fences, several files, prose, truncation, and replies with no usable code."""

from __future__ import annotations

from kernelwright.core.site import Language
from kernelwright.optimize.extract import Extracted, NoCode, extract_candidate, find_blocks

MODEL_NEW = (
    "import torch\n\n\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x * 2\n"
)


def test_a_python_fence_with_prose_around_it() -> None:
    reply = f"Here is a faster version.\n\n```python\n{MODEL_NEW}```\n\nIt avoids a copy."
    got = extract_candidate(reply, "ModelNew", Language.PYTHON)
    assert isinstance(got, Extracted) and got.source == MODEL_NEW


def test_unlabeled_and_tilde_fences() -> None:
    for fence in ("```", "~~~"):
        reply = f"{fence}\n{MODEL_NEW}{fence}\n"
        got = extract_candidate(reply, "ModelNew", Language.PYTHON)
        assert isinstance(got, Extracted) and "class ModelNew" in got.source


def test_the_block_that_defines_the_symbol_wins_over_examples() -> None:
    reply = (
        "Usage example:\n```python\nmodel = ModelNew()\nprint(model(x))\n```\n"
        f"The implementation:\n```python\n{MODEL_NEW}```\n"
    )
    got = extract_candidate(reply, "ModelNew", Language.PYTHON)
    assert isinstance(got, Extracted) and got.source == MODEL_NEW


def test_the_last_defining_block_is_the_final_version() -> None:
    second = MODEL_NEW.replace("x * 2", "x + x")
    reply = f"First try:\n```python\n{MODEL_NEW}```\nBetter:\n```python\n{second}```"
    got = extract_candidate(reply, "ModelNew", Language.PYTHON)
    assert isinstance(got, Extracted) and "x + x" in got.source


def test_helpers_in_another_file_are_prepended() -> None:
    kernel = "import triton\nimport triton.language as tl\n\n\n@triton.jit\ndef double_kernel(x_ptr, n, BLOCK: tl.constexpr):\n    pass\n"
    model = "import torch\n\n\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        double_kernel[(1,)](x, x.numel(), BLOCK=128)\n        return x\n"
    reply = f"```python title=kernels.py\n{kernel}```\n\n```python title=model.py\n{model}```\n"
    got = extract_candidate(reply, "ModelNew", Language.PYTHON)
    assert isinstance(got, Extracted)
    assert got.blocks_used == 2
    assert got.source.index("def double_kernel") < got.source.index("class ModelNew")


def test_filenames_from_info_strings_and_comments() -> None:
    blocks = find_blocks(
        "```python title=a.py\nx = 1\n```\n```cuda\n// file: k.cu\nint y;\n```\n```b.py\nz = 2\n```"
    )
    assert [(b.language, b.filename) for b in blocks] == [
        ("python", "a.py"),
        ("cuda", "k.cu"),
        ("py", "b.py"),
    ]


def test_a_reply_with_no_code_is_no_code_not_a_crash() -> None:
    for reply in ["", "   ", "I think you should use shared memory.", "```bash\npip install triton\n```"]:
        got = extract_candidate(reply, "ModelNew", Language.PYTHON)
        assert isinstance(got, NoCode), reply
        assert got.reason


def test_code_that_defines_the_wrong_symbol_is_no_code() -> None:
    got = extract_candidate("```python\nclass Model:\n    pass\n```", "ModelNew", Language.PYTHON)
    assert isinstance(got, NoCode) and "ModelNew" in got.reason


def test_a_defining_block_with_a_syntax_error_is_kept_for_the_worker_to_report() -> None:
    got = extract_candidate("```python\nclass ModelNew(:\n    pass\n```", "ModelNew", Language.PYTHON)
    assert isinstance(got, Extracted) and "does not parse" in got.note


def test_a_truncated_reply_keeps_the_code_with_a_note() -> None:
    got = extract_candidate(f"```python\n{MODEL_NEW}", "ModelNew", Language.PYTHON)
    assert isinstance(got, Extracted) and "truncated" in got.note


def test_bare_code_without_fences_is_accepted_only_when_it_parses() -> None:
    got = extract_candidate(MODEL_NEW, "ModelNew", Language.PYTHON)
    assert isinstance(got, Extracted)
    assert isinstance(
        extract_candidate("Use ModelNew with class ModelNew", "ModelNew", Language.PYTHON), NoCode
    )


def test_cuda_blocks_pick_the_kernel_by_name() -> None:
    helper = "```cpp\n#include <cuda_runtime.h>\nint host_main() { return 0; }\n```"
    kernel = (
        '```cuda\nextern "C" __global__ void row_sum(const float* __restrict__ x, float* out, int rows, int cols) {\n'
        "    int r = blockIdx.x * blockDim.x + threadIdx.x;\n    if (r < rows) out[r] = 0.0f;\n}\n```"
    )
    got = extract_candidate(f"{helper}\nAnd the kernel:\n{kernel}", "row_sum", Language.CUDA)
    assert isinstance(got, Extracted) and "__global__ void row_sum" in got.source
    assert isinstance(extract_candidate(helper, "row_sum", Language.CUDA), NoCode)
