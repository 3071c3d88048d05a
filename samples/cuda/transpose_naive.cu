// Matrix transpose, one thread per element, on a 2-D grid of 32x8 blocks.
//
// Shows the 2-D launch form of the directive: grid=(x,y) and block=(x,y).
//
// Deliberately slow. Reads are coalesced (threadIdx.x walks a row of `src`), but writes are not:
// consecutive threads write dst[col*rows + row] for consecutive `col`, `rows` floats apart, so each
// warp's store touches 32 sectors. The standard fix stages a 32x32 tile in shared memory (padded to
// 32x33 so the column reads do not hit the same bank), then writes the tile out row by row, making
// both sides coalesced; that reaches most of the device's copy bandwidth.

// kernelwright: bench rows=4096 cols=4096 src=randn(rows*cols) dst=empty(rows*cols) grid=((cols+31)/32,(rows+7)/8) block=(32,8)
extern "C" __global__ void transpose(const float* __restrict__ src, float* __restrict__ dst, int rows, int cols)
{
    const int col = blockIdx.x * blockDim.x + threadIdx.x;
    const int row = blockIdx.y * blockDim.y + threadIdx.y;
    if (row < rows && col < cols) {
        dst[static_cast<size_t>(col) * rows + row] = src[static_cast<size_t>(row) * cols + col];
    }
}
