#include "cublas_emulation.h"

#include <cstdint>

#include "half_ops.h"

namespace fulmen {

namespace {

using Handle = CublasApi::Handle;
constexpr int kSuccess = 0, kInvalidValue = 7, kNotInitialized = 1;
constexpr int kR32F = 0, kR16F = 2, kR16BF = 14, kCompute32F = 68, kGemmDefault = -1;

Handle const kHandle = reinterpret_cast<Handle>(0x1);

int create(Handle* handle) {
  *handle = kHandle;
  return kSuccess;
}
int destroy(Handle handle) { return handle == kHandle ? kSuccess : kNotInitialized; }
int setStream(Handle handle, void*) { return handle == kHandle ? kSuccess : kNotInitialized; }

// C[b] = alpha·op(A[b])·op(B[b]) + beta·C[b], column-major, element (i, j) of an m × n result; `load` reads
// element `index` of an operand in its storage type.
template <typename Load>
int gemm(Handle handle, int transa, int transb, int m, int n, int k, float alpha, const void* A, int lda,
         long long strideA, const void* B, int ldb, long long strideB, float beta, float* C, int ldc, long long strideC,
         int batch, Load load) {
  if (handle != kHandle) return kNotInitialized;
  if (m < 0 || n < 0 || k < 0 || batch < 0 || (transa != 0 && transa != 1) || (transb != 0 && transb != 1))
    return kInvalidValue;
  if (lda < (transa ? (k > 1 ? k : 1) : (m > 1 ? m : 1)) || ldb < (transb ? (n > 1 ? n : 1) : (k > 1 ? k : 1)) ||
      ldc < (m > 1 ? m : 1))
    return kInvalidValue;
  for (int b = 0; b < batch; b++)
    for (int j = 0; j < n; j++)
      for (int i = 0; i < m; i++) {
        float acc = 0.0f;
        for (int l = 0; l < k; l++) {
          const long long a = b * strideA + (transa ? static_cast<long long>(i) * lda + l : static_cast<long long>(l) * lda + i);
          const long long bb = b * strideB + (transb ? static_cast<long long>(l) * ldb + j : static_cast<long long>(j) * ldb + l);
          acc += load(A, a) * load(B, bb);
        }
        float& c = C[b * strideC + static_cast<long long>(j) * ldc + i];
        c = alpha * acc + (beta == 0.0f ? 0.0f : beta * c);
      }
  return kSuccess;
}

int sgemmStridedBatched(Handle handle, int transa, int transb, int m, int n, int k, const float* alpha, const float* A,
                        int lda, long long strideA, const float* B, int ldb, long long strideB, const float* beta,
                        float* C, int ldc, long long strideC, int batch) {
  return gemm(handle, transa, transb, m, n, k, *alpha, A, lda, strideA, B, ldb, strideB, *beta, C, ldc, strideC, batch,
              [](const void* p, long long index) { return static_cast<const float*>(p)[index]; });
}

int gemmStridedBatchedEx(Handle handle, int transa, int transb, int m, int n, int k, const void* alpha, const void* A,
                         int Atype, int lda, long long strideA, const void* B, int Btype, int ldb, long long strideB,
                         const void* beta, void* C, int Ctype, int ldc, long long strideC, int batch, int computeType,
                         int algo) {
  // What the engine asks for: two half inputs of one format, float32 output, float32 compute, the default algo.
  if (Atype != Btype || (Atype != kR16F && Atype != kR16BF) || Ctype != kR32F || computeType != kCompute32F ||
      algo != kGemmDefault)
    return kInvalidValue;
  const HalfFormat format = Atype == kR16F ? HalfFormat::Float16 : HalfFormat::Bfloat16;
  return gemm(handle, transa, transb, m, n, k, *static_cast<const float*>(alpha), A, lda, strideA, B, ldb, strideB,
              *static_cast<const float*>(beta), static_cast<float*>(C), ldc, strideC, batch,
              [format](const void* p, long long index) { return halfValue(format, static_cast<const uint16_t*>(p)[index]); });
}

}  // namespace

void emulatedCublas(CublasApi& api) {
  api.create = create;
  api.destroy = destroy;
  api.setStream = setStream;
  api.sgemmStridedBatched = sgemmStridedBatched;
  api.gemmStridedBatchedEx = gemmStridedBatchedEx;
  api.library = "emulated cuBLAS";
  api.error.clear();
}

}  // namespace fulmen
