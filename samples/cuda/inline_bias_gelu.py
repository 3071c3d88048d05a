"""Bias add + exact GELU as a hand-written CUDA kernel, built with torch's load_inline.

Module convention (KernelBench): `Model(features)`, `get_inputs`, `get_init_inputs`. The CUDA source is
the module-level string `CUDA_SOURCE`, passed to `load_inline` through that variable, so the analysis
finds the `__global__` kernel inside it and an edit to the kernel is an edit to the string.

The extension is built on first use, in `_extension()`, and cached: importing or scanning this file
never runs a compiler, and a machine without nvcc or a GPU can still read it. The first call pays the
build (about a minute for a cold build; torch caches it under ~/.cache/torch_extensions afterwards).

The kernel fuses what samples/pytorch/bias_gelu_function.py does in five eager kernels into one pass.
What is left on the table: scalar 4-byte loads (float4 loads would quarter the load instructions) and
a 64-bit modulo per element to find the bias column (a 2-D grid over rows and columns avoids it).
"""

import functools

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

BATCH = 8192
FEATURES = 4096

CUDA_SOURCE = r"""
#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

extern "C" __global__ void bias_gelu_kernel(const float* __restrict__ x, const float* __restrict__ bias,
                                            float* __restrict__ out, long long n, int features)
{
    const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    const float y = x[i] + bias[i % features];
    // Exact GELU: 0.5 y (1 + erf(y / sqrt(2))), all in float (erff, not erf).
    out[i] = 0.5f * y * (1.0f + erff(y * 0.70710678f));
}

at::Tensor bias_gelu(const at::Tensor& x, const at::Tensor& bias)
{
    TORCH_CHECK(x.is_cuda() && bias.is_cuda(), "bias_gelu: x and bias must be CUDA tensors");
    TORCH_CHECK(x.scalar_type() == at::kFloat && bias.scalar_type() == at::kFloat,
                "bias_gelu: x and bias must be float32");
    TORCH_CHECK(x.dim() >= 1 && x.size(-1) == bias.numel(),
                "bias_gelu: bias must have as many elements as the last dimension of x");
    const c10::cuda::CUDAGuard guard(x.device());
    const at::Tensor xc = x.contiguous();
    const at::Tensor bc = bias.contiguous();
    at::Tensor out = at::empty_like(xc);
    const long long n = xc.numel();
    if (n == 0) {
        return out;
    }
    const int threads = 256;
    const unsigned int blocks = static_cast<unsigned int>((n + threads - 1) / threads);
    bias_gelu_kernel<<<blocks, threads, 0, c10::cuda::getCurrentCUDAStream()>>>(
        xc.data_ptr<float>(), bc.data_ptr<float>(), out.data_ptr<float>(), n, static_cast<int>(bc.numel()));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return out;
}
"""

CPP_SOURCE = "at::Tensor bias_gelu(const at::Tensor& x, const at::Tensor& bias);"


@functools.cache
def _extension():
    # Built on first call, never at import: see the module docstring.
    return load_inline(
        name="kernelwright_sample_bias_gelu",
        cpp_sources=CPP_SOURCE,
        cuda_sources=CUDA_SOURCE,
        functions=["bias_gelu"],
        extra_cuda_cflags=["-O3"],
    )


class Model(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(features) * 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _extension().bias_gelu(x, self.bias)


def get_inputs():
    return [torch.randn(BATCH, FEATURES)]


def get_init_inputs():
    return [FEATURES]
