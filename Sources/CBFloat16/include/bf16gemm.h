// bfloat16 matrix products with float32 accumulation, for CPUs with AVX512_BF16.
//
// Row-major C = alpha op(A) op(B) + beta C, as cblas_sgemm takes it, with float32 A and B
// rounded to bfloat16 (to nearest, ties to even) as they are packed; the products of
// bfloat16 pairs are summed in float32 (VDPBF16PS). The caller checks that the CPU has
// AVX512_BF16 before calling any of these: on another they stop the program
// (illegal instruction). On other architectures they stop it too: no CPU there has
// AVX512_BF16, so ActionNet never calls them.
#ifndef ACTIONLAB_BF16GEMM_H
#define ACTIONLAB_BF16GEMM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Bytes of op(B) (k x n) packed for al_bf16_gemm_packed.
size_t al_bf16_packed_b_bytes(int k, int n);

/// Packs op(B) (k x n; B itself n x k when transB) into `packed` (64-byte aligned,
/// al_bf16_packed_b_bytes(k, n) bytes), rounding it to bfloat16.
void al_bf16_pack_b(int transB, int k, int n, const float *b, int ldb, void *packed);

/// C = alpha op(A) op(B) + beta C with op(B) packed by al_bf16_pack_b(.., k, n, ..).
/// C is not read when beta is 0.
void al_bf16_gemm_packed(int transA, int m, int n, int k, float alpha, const float *a, int lda,
                         const void *packedB, float beta, float *c, int ldc);

/// The same with B packed on the way, into the calling thread's scratch memory.
void al_bf16_gemm(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda,
                  const float *b, int ldb, float beta, float *c, int ldc);

#ifdef __cplusplus
}
#endif

#endif
