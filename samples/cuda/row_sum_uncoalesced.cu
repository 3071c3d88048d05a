// Row sums of a row-major matrix with one thread per row: the textbook uncoalesced access.
//
// CUDA convention: the directive above the kernel gives every parameter a value (sizes as integer
// expressions, pointers as factories), then the launch shape. `out` is a non-const pointer, so it is
// the output that verification compares.
//
// Deliberately slow. In each step of the loop, the 32 threads of a warp read x[row*cols + j] for 32
// consecutive rows: 32 addresses `cols` floats apart, so every load instruction touches 32 different
// 32-byte sectors and uses 4 bytes of each. A faster kernel gives each row to a warp (or a block):
// lanes read consecutive columns (coalesced, 128 bytes per warp per load, ideally as float4), sum
// their strided share, and combine with __shfl_down_sync; it then runs near memory bandwidth.

// kernelwright: bench rows=8192 cols=1024 x=randn(rows*cols) out=empty(rows) grid=(rows+127)/128 block=128 atol=1e-3 rtol=1e-4
extern "C" __global__ void row_sum(const float* __restrict__ x, float* __restrict__ out, int rows, int cols)
{
    const int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= rows) {
        return;
    }
    // size_t offset: rows * cols can exceed 2^31 for large matrices.
    const float* row_ptr = x + static_cast<size_t>(row) * cols;
    float acc = 0.0f;
    for (int j = 0; j < cols; ++j) {
        acc += row_ptr[j];
    }
    out[row] = acc;
}
