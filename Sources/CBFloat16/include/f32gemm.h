// float32 matrix products of ActionLab's own, for CPUs with AVX-512F.
//
// Row-major C = alpha op(A) op(B) + beta C, as cblas_sgemm takes it, with the operands
// packed as they are (no rounding) and the products summed in float32 by FMA. OpenBLAS
// picks its kernels from OPENBLAS_CORETYPE, which may name an older core than the one
// the program runs on; these use AVX-512 whatever that says. The caller checks that the
// CPU has AVX-512F before calling any of these: on another they stop the program
// (illegal instruction), as they do on other architectures.
#ifndef ACTIONLAB_F32GEMM_H
#define ACTIONLAB_F32GEMM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Bytes of op(B) (k x n) packed for al_f32_gemm_packed.
size_t al_f32_packed_b_bytes(int k, int n);

/// Packs op(B) (k x n; B itself n x k when transB) into `packed` (64-byte aligned,
/// al_f32_packed_b_bytes(k, n) bytes).
void al_f32_pack_b(int transB, int k, int n, const float *b, int ldb, void *packed);

/// C = alpha op(A) op(B) + beta C with op(B) packed by al_f32_pack_b(.., k, n, ..).
/// C is not read when beta is 0.
void al_f32_gemm_packed(int transA, int m, int n, int k, float alpha, const float *a, int lda,
                        const void *packedB, float beta, float *c, int ldc);

/// The same with B packed on the way, into the calling thread's scratch memory.
void al_f32_gemm(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);

#ifdef __cplusplus
}
#endif

#endif
