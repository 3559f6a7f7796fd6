// cuBLAS, loaded at run time: the package must install and run where CUDA's own libraries are absent (this
// project's machines have the runtime but not cuBLAS), and the GPU engine falls back to its tiled GEMM there.
// Declared here with cuBLAS's C ABI, so building needs no cuBLAS headers either.
#pragma once

#include <string>

namespace fulmen {

/** The cuBLAS entry points the GPU engine calls (the C API of libcublas, version 2). */
struct CublasApi {
  using Handle = struct CublasContext*;
  using Status = int;  // cublasStatus_t: 0 is CUBLAS_STATUS_SUCCESS
  Status (*create)(Handle*) = nullptr;
  Status (*destroy)(Handle) = nullptr;
  Status (*setStream)(Handle, void* stream) = nullptr;
  // cublasSgemmStridedBatched(handle, transa, transb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C,
  //                           ldc, strideC, batchCount); cublasOperation_t: 0 = N, 1 = T.
  Status (*sgemmStridedBatched)(Handle, int, int, int, int, int, const float*, const float*, int, long long,
                                const float*, int, long long, const float*, float*, int, long long, int) = nullptr;
  // cublasGemmStridedBatchedEx(handle, transa, transb, m, n, k, alpha, A, Atype, lda, strideA, B, Btype, ldb,
  //                            strideB, beta, C, Ctype, ldc, strideC, batchCount, computeType, algo): half inputs,
  // float32 output and accumulation (cudaDataType: 0 = R_32F, 2 = R_16F, 14 = R_16BF; CUBLAS_COMPUTE_32F = 68;
  // CUBLAS_GEMM_DEFAULT = -1, tensor cores where the types allow).
  Status (*gemmStridedBatchedEx)(Handle, int, int, int, int, int, const void*, const void*, int, int, long long,
                                 const void*, int, int, long long, const void*, void*, int, int, long long, int, int,
                                 int) = nullptr;
  /** The library that was loaded ("" when none). */
  std::string library;
  /** Why cuBLAS is not usable ("" when it is). */
  std::string error;

  bool available() const { return error.empty(); }
};

/**
 * Loads cuBLAS once ($FULMEN_CUBLAS_PATH, then libcublas.so.13, .12 and the unversioned name) and resolves its
 * entry points.
 */
const CublasApi& cublas();

}  // namespace fulmen
