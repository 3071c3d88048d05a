// SAXPY, out = a * x + y: the simplest memory-bound kernel, with a float scalar parameter.
//
// A float parameter takes a number in the directive (a=2.5). The result goes to a separate `out`
// rather than updating `y` in place, so the inputs stay unchanged and verification can compare `out`.
//
// This one is close to the memory roofline already (12 bytes moved per element, 2 flops); what is left
// is launch shape (block size, elements per thread) and float4 loads, which the launch-shape search
// and a vectorised candidate can try.

// kernelwright: bench n=16777216 a=2.5 x=randn(n) y=randn(n) out=empty(n) grid=(n+255)/256 block=256
extern "C" __global__ void saxpy(int n, float a, const float* __restrict__ x, const float* __restrict__ y, float* __restrict__ out)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = a * x[i] + y[i];
    }
}
