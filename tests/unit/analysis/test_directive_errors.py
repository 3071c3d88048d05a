"""Malformed directives are KW001 findings with the exact range of the bad token, never exceptions."""

from __future__ import annotations

import pytest
from kernelwright.analysis import analyze
from kernelwright.core.site import Range, Severity

PY_HEAD = "def mk(): ...\n"


def py_errors(directive: str, target: str = "def f(x):\n    return x\n") -> list[tuple[Range, str]]:
    r = analyze(PY_HEAD + directive + "\n" + target, "t.py")
    assert all(f.rule == "KW001" and f.severity is Severity.ERROR for f in r.findings)
    return [(f.range, f.message) for f in r.findings]


def col(line: str, token: str) -> tuple[int, int]:
    start = line.index(token)
    return start, start + len(token)


@pytest.mark.parametrize(
    ("directive", "token", "fragment"),
    [
        ("# kernelwright: bench inputs=mk colour=red", "colour", "valid keys are inputs, init, atol"),
        ("# kernelwright: bench inputs=missing_fn", "missing_fn", "not defined at module level"),
        ("# kernelwright: bench inputs=mk shapes=no_such_fn", "no_such_fn", "not defined at module level"),
        ("# kernelwright: bench inputs=mk atol=abc", "abc", "wants a number"),
        ("# kernelwright: bench inputs=mk oops", "oops", "not `key=value`"),
        ("# kernelwright: bench inputs=mk inputs=mk", "inputs", "given twice"),
        ("# kernelwright: profile inputs=mk", "profile", "the only verb is `bench`"),
        ("# kernelwright: bench atol=0.1", "bench", "missing required key `inputs=NAME`"),
    ],
)
def test_python_directive_errors(directive: str, token: str, fragment: str) -> None:
    errors = py_errors(directive)
    assert len(errors) == 1, errors
    rng, message = errors[0]
    s, e = (
        col(directive, token)
        if "twice" not in fragment
        else (directive.rindex(token), directive.rindex(token) + len(token))
    )
    assert rng == Range.of(1, s, 1, e)
    assert fragment in message


def test_python_directive_not_followed_by_def() -> None:
    errors = py_errors("# kernelwright: bench inputs=mk", "\nx = 1\n")
    assert len(errors) == 1
    assert errors[0][0] == Range.of(1, 0, 1, len("# kernelwright: bench inputs=mk"))
    assert "directly above" in errors[0][1]


def test_python_directive_on_triton_kernel() -> None:
    errors = py_errors("# kernelwright: bench inputs=mk", "import triton\n@triton.jit\ndef k(x):\n    pass\n")
    # the import line breaks adjacency; put the kernel right below instead
    assert "directly above" in errors[0][1]
    r = analyze(
        "import triton\ndef mk(): ...\n# kernelwright: bench inputs=mk\n@triton.jit\ndef k(x):\n    pass\n",
        "t.py",
    )
    (f,) = r.findings
    assert "put the directive on the Python function that launches it" in f.message


CU_KERNEL = 'extern "C" __global__ void scale(const float* x, float* y, int n, float a)\n{\n    int i = blockIdx.x * blockDim.x + threadIdx.x;\n    if (i < n) y[i] = a * x[i];\n}\n'


def cu_errors(*lines: str) -> list[tuple[Range, str]]:
    r = analyze("\n".join(lines) + "\n" + CU_KERNEL, "k.cu")
    assert all(f.rule == "KW001" for f in r.findings), r.findings
    return [(f.range, f.message) for f in r.findings]


GOOD = "// kernelwright: bench n=1024 a=2.5 x=randn(n) y=empty(n) grid=(n+255)/256 block=256"


def test_cuda_directive_good() -> None:
    r = analyze(GOOD + "\n" + CU_KERNEL, "k.cu")
    assert r.findings == ()
    assert r.sites[0].spec is not None


@pytest.mark.parametrize(
    ("directive", "token", "fragment"),
    [
        (GOOD + " bogus=1", "bogus", "valid keys are x, y, n, a, grid, block"),
        (GOOD.replace("x=randn(n)", "x=ones(n)"), "ones(n)", "needs a factory"),
        (GOOD.replace("x=randn(n)", "x=randint(0,n)"), "randint(0,n)", "takes 3 argument(s), got 2"),
        (GOOD.replace("x=randn(n)", "x=randn(m)"), "randn(m)", "`m` is not a scalar parameter"),
        (GOOD.replace("grid=(n+255)/256", "grid=(n+255)/"), "(n+255)/", "does not parse"),
        (GOOD.replace("n=1024", "n=x+1"), "x+1", "`x` is not a scalar parameter"),
        (GOOD.replace("block=256", "block=(1,2,3,4)"), "(1,2,3,4)", "1 to 3 expressions"),
        (GOOD + " atol=-1", "-1", "finite number >= 0"),
    ],
)
def test_cuda_directive_errors(directive: str, token: str, fragment: str) -> None:
    errors = cu_errors(directive)
    assert len(errors) == 1, errors
    s, e = col(directive, token)
    assert errors[0][0] == Range.of(0, s, 0, e)
    assert fragment in errors[0][1]


def test_cuda_missing_keys_point_at_the_verb() -> None:
    errors = cu_errors("// kernelwright: bench n=16 x=randn(n) y=empty(n)")
    s, e = col("// kernelwright: bench", "bench")
    assert {m for _, m in errors} == {
        "missing `a=`: give parameter `a` an integer expression",
        "missing required key `grid=` (the launch shape)",
        "missing required key `block=` (the launch shape)",
    }
    assert all(r == Range.of(0, s, 0, e) for r, _ in errors)


def test_cuda_directive_continuation_lines_and_error_on_second_line() -> None:
    errors = cu_errors(
        "// kernelwright: bench n=16 a=1", "//   x=randn(n) y=empty(n)", "//   grid=1 block=16 smem=q"
    )
    assert len(errors) == 1
    assert errors[0][0] == Range.of(
        2, len("//   grid=1 block=16 smem="), 2, len("//   grid=1 block=16 smem=q")
    )


def test_cuda_directive_not_followed_by_kernel() -> None:
    r = analyze(GOOD + "\nint host_only(int a) { return a; }\n", "k.cu")
    (f,) = r.findings
    assert f.range == Range.of(0, 0, 0, len(GOOD))
    assert "directly above a __global__ kernel" in f.message


def test_cuda_plain_comment_between_directive_and_kernel_is_allowed() -> None:
    r = analyze(GOOD + "\n// Scales x by a.\n" + CU_KERNEL, "k.cu")
    assert r.findings == ()
    assert r.sites[0].spec is not None
