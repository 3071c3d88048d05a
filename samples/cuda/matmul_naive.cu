// Single-precision matrix multiply C = A B, one thread per element of C, on a 2-D grid.
//
// Deliberately slow. Every thread streams a whole row of A and a whole column of B from global
// memory: each element of A is loaded n times and each element of B m times, so the kernel is bound
// by memory traffic (and L1/L2 hit rates) instead of arithmetic. Reads of B are coalesced across a
// warp, reads of A are a broadcast. A tiled kernel stages 32x32 (or larger) tiles of A and B in
// shared memory and has each thread compute several outputs from registers, cutting global traffic
// by the tile size; cuBLAS is another 5-10x beyond a simple tiled kernel.

// kernelwright: bench m=2048 n=2048 k=2048 a=randn(m*k) b=randn(k*n) c=empty(m*n) grid=((n+15)/16,(m+15)/16) block=(16,16) atol=1e-2 rtol=1e-3
extern "C" __global__ void sgemm_naive(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c, int m, int n, int k)
{
    const int col = blockIdx.x * blockDim.x + threadIdx.x;
    const int row = blockIdx.y * blockDim.y + threadIdx.y;
    if (row >= m || col >= n) {
        return;
    }
    const float* a_row = a + static_cast<size_t>(row) * k;
    float acc = 0.0f;
    for (int i = 0; i < k; ++i) {
        acc += a_row[i] * b[static_cast<size_t>(i) * n + col];
    }
    c[static_cast<size_t>(row) * n + col] = acc;
}
