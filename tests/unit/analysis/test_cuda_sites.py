"""CUDA kernels in .cu files: sites, parameters, dtypes, specs."""

from __future__ import annotations

from kernelwright.analysis import analyze
from kernelwright.core.site import CudaArgument, CudaParamRole, CudaSpec, Language, Range, SiteKind

SRC = """\
#include <cuda_fp16.h>
// kernelwright: bench rows=64 cols=32 x=randn(rows*cols) out=empty(rows)
//   grid=(rows+127)/128 block=128 smem=128*4 atol=1e-4
extern "C" __global__ void row_sum(const float* __restrict__ x, float* out, int rows, int cols)
{
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r < rows) { float s = 0.0f; for (int c = 0; c < cols; ++c) s += x[r * cols + c]; out[r] = s; }
}

__device__ float helper(float a) { return a; }

template <typename T>
__global__ void tmpl(T* y, const __half* h, const __nv_bfloat16* b, unsigned int u, int64_t q,
                     long long ll, unsigned char uc, char c, bool f, double d, int8_t i8)
{
}

namespace ns {
__global__ void __launch_bounds__(256) inner(float* __restrict__ const p) {}
}
"""


def test_kernels_and_params() -> None:
    r = analyze(SRC, "k.cu")
    assert r.language is Language.CUDA
    assert [(s.kind, s.name) for s in r.sites] == [
        (SiteKind.CUDA_KERNEL, "row_sum"),
        (SiteKind.CUDA_KERNEL, "tmpl"),
        (SiteKind.CUDA_KERNEL, "inner"),
    ]
    row_sum, tmpl, inner = r.sites
    assert row_sum.range == Range.of(3, 0, 7, 1)
    assert row_sum.name_range == Range.of(3, 27, 3, 34)
    assert tmpl.range.start.line == 11  # the template line
    dtypes = {p.name: (p.dtype, p.role) for p in tmpl.spec.params} if tmpl.spec else None
    assert dtypes is None  # no directive, no spec
    assert inner.spec is None


def test_spec_from_directive_with_continuation() -> None:
    row_sum = analyze(SRC, "k.cu").sites[0]
    spec = row_sum.spec
    assert isinstance(spec, CudaSpec)
    assert spec.kernel == "row_sum"
    assert [
        (p.name, p.c_type, p.base_type, p.is_pointer, p.is_const, p.role, p.dtype) for p in spec.params
    ] == [
        ("x", "const float* __restrict__", "float", True, True, CudaParamRole.INPUT, "float32"),
        ("out", "float*", "float", True, False, CudaParamRole.OUTPUT, "float32"),
        ("rows", "int", "int", False, False, CudaParamRole.SCALAR, "int32"),
        ("cols", "int", "int", False, False, CudaParamRole.SCALAR, "int32"),
    ]
    assert spec.arguments == (
        CudaArgument("x", "randn(rows*cols)", "randn", ("rows*cols",)),
        CudaArgument("out", "empty(rows)", "empty", ("rows",)),
        CudaArgument("rows", "64"),
        CudaArgument("cols", "32"),
    )
    assert spec.grid == ("(rows+127)/128",)
    assert spec.block == ("128",)
    assert spec.smem == "128*4"
    assert spec.atol == 1e-4 and spec.rtol is None


def test_dtype_mapping() -> None:
    src = SRC.replace(
        "template <typename T>\n",
        "// kernelwright: bench y=zeros(1) h=rand(1) b=randn(1) u=1 q=1 ll=1 uc=1 c=1 f=1 d=1 i8=1 grid=1 block=1\ntemplate <typename T>\n",
    )
    tmpl = analyze(src, "k.cu").site("tmpl")
    assert tmpl is not None and isinstance(tmpl.spec, CudaSpec)
    got = {p.name: (p.base_type, p.dtype, p.role) for p in tmpl.spec.params}
    assert got == {
        "y": ("T", None, CudaParamRole.OUTPUT),
        "h": ("__half", "float16", CudaParamRole.INPUT),
        "b": ("__nv_bfloat16", "bfloat16", CudaParamRole.INPUT),
        "u": ("unsigned int", "uint32", CudaParamRole.SCALAR),
        "q": ("int64_t", "int64", CudaParamRole.SCALAR),
        "ll": ("long long", "int64", CudaParamRole.SCALAR),
        "uc": ("unsigned char", "uint8", CudaParamRole.SCALAR),
        "c": ("char", "int8", CudaParamRole.SCALAR),
        "f": ("bool", "bool", CudaParamRole.SCALAR),
        "d": ("double", "float64", CudaParamRole.SCALAR),
        "i8": ("int8_t", "int8", CudaParamRole.SCALAR),
    }


def test_two_d_grid() -> None:
    src = "// kernelwright: bench n=4 m=8 y=empty(n*m) grid=(n,(m+7)/8) block=(8,8)\n__global__ void k(float* y, int n, int m) { int i = threadIdx.x; if (i < n) y[i] = 0.0f; }\n"
    (site,) = analyze(src, "k.cu").sites
    assert isinstance(site.spec, CudaSpec)
    assert site.spec.grid == ("n", "(m+7)/8")
    assert site.spec.block == ("8", "8")


def test_cuh_and_host_functions_are_not_sites() -> None:
    src = "__device__ float f(float a) { return a; }\nvoid host(float* p) { p[0] = 1.0f; }\n"
    assert analyze(src, "k.cuh").sites == ()
