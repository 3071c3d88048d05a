// Sum reduction, first pass: each block sums 2 * blockDim.x elements into one partial sum, in
// dynamic shared memory with __syncthreads() between the halving steps.
//
// Shows `smem=` (dynamic shared memory in bytes, here one float per thread). blockDim.x must be a power
// of two for the halving loop; the directive launches 256 threads. A second pass (or the caller) sums
// `partial`. The tree order is fixed, so results are bitwise reproducible run to run.
//
// Deliberately slow. Once fewer than 32 threads are active, every step still pays a full
// __syncthreads() and a shared-memory round trip for a handful of additions, and each thread loads
// only two elements. Faster: a grid-stride loop so each thread sums many elements in a register
// first, then __shfl_down_sync within each warp and shared memory only across warps.

// kernelwright: bench n=16777216 x=randn(n) partial=empty((n+511)/512) grid=(n+511)/512 block=256 smem=256*4 atol=1e-3 rtol=1e-4
extern "C" __global__ void block_sum(const float* __restrict__ x, float* __restrict__ partial, int n)
{
    extern __shared__ float buf[];
    const unsigned int tid = threadIdx.x;
    const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x * 2 + tid;
    const size_t count = static_cast<size_t>(n);

    // Each thread adds two elements while loading, halving the number of blocks.
    float v = 0.0f;
    if (i < count) {
        v = x[i];
    }
    if (i + blockDim.x < count) {
        v += x[i + blockDim.x];
    }
    buf[tid] = v;
    __syncthreads();

    for (unsigned int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (tid < stride) {
            buf[tid] += buf[tid + stride];
        }
        // Outside the `if`: every thread of the block must reach the barrier.
        __syncthreads();
    }
    if (tid == 0) {
        partial[blockIdx.x] = buf[0];
    }
}
