// float32 products (see include/f32gemm.h), laid out as the bfloat16 ones are
// (bf16gemm.c) with one k per lane instead of a pair: B in panels of 32 columns as
// [n / 32][k][32], A in blocks of 8 rows, [8][k] when A's rows are contiguous and [k][8]
// when transposed, so that packing is plain loads and stores. The kernel keeps an
// 8 x 32 block of C in 16 registers across the whole k loop, broadcasting one value of A
// per row and k. Rows or columns past a block's end are zeros in the packed copies; only
// C's real rows and columns are written.
#include "f32gemm.h"

#include "scratch.h"
#include <stdlib.h>
#include <string.h>

enum { MR = 8, NR = 32 };

size_t al_f32_packed_b_bytes(int k, int n) {
    return (size_t)((n + NR - 1) / NR) * (size_t)(k > 0 ? k : 1) * NR * sizeof(float);
}

#if defined(__x86_64__)
#include <immintrin.h>

#define F32_TARGET __attribute__((target("avx512f")))

static inline __mmask16 firstLanes(int count) {
    return count >= 16 ? (__mmask16)0xffff : count <= 0 ? 0 : (__mmask16)((1u << count) - 1);
}

F32_TARGET void al_f32_pack_b(int transB, int k, int n, const float *b, int ldb, void *packed) {
    float *p = packed;
    for (int j0 = 0; j0 < n; j0 += NR) {
        int width = n - j0 < NR ? n - j0 : NR;
        float *panel = p + (size_t)(j0 / NR) * k * NR;
        if (!transB) {   // op(B)[k][j] = b[k * ldb + j]: source rows, read along j
            __mmask16 m0 = firstLanes(width), m1 = firstLanes(width - 16);
            for (int kk = 0; kk < k; kk++) {
                const float *s = b + (size_t)kk * ldb + j0;
                _mm512_store_ps(panel + (size_t)kk * NR, _mm512_maskz_loadu_ps(m0, s));
                _mm512_store_ps(panel + (size_t)kk * NR + 16, _mm512_maskz_loadu_ps(m1, s + 16));
            }
        } else {         // op(B)[k][j] = b[j * ldb + k]: column j of the panel is source row j
            for (int j = 0; j < width; j++) {
                const float *s = b + (size_t)(j0 + j) * ldb;
                for (int kk = 0; kk < k; kk++) panel[(size_t)kk * NR + j] = s[kk];
            }
            for (int kk = 0; kk < k; kk++)
                for (int j = width; j < NR; j++) panel[(size_t)kk * NR + j] = 0;
        }
    }
}

// op(A) (m x k) in blocks of 8 rows: [8][k] per block when A's rows are contiguous
// (not transposed), [k][8] when its columns are; rows past m are zeros.
F32_TARGET static void packA(int transA, int m, int k, const float *a, int lda, float *p) {
    for (int i0 = 0; i0 < m; i0 += MR) {
        int height = m - i0 < MR ? m - i0 : MR;
        float *block = p + (size_t)(i0 / MR) * k * MR;
        if (!transA) {
            for (int i = 0; i < MR; i++) {
                float *d = block + (size_t)i * k;
                if (i >= height) { memset(d, 0, (size_t)k * sizeof *d); continue; }
                memcpy(d, a + (size_t)(i0 + i) * lda, (size_t)k * sizeof *d);
            }
        } else {         // op(A)[i][k] = a[k * lda + i]: rows of A^T, 8 at a time
            __mmask16 lanes = firstLanes(height) & 0xff;
            for (int kk = 0; kk < k; kk++) {
                __m512 v = _mm512_maskz_loadu_ps(lanes, a + (size_t)kk * lda + i0);
                _mm256_storeu_ps(block + (size_t)kk * MR, _mm512_castps512_ps256(v));
            }
        }
    }
}

// C[rows x cols] (at most 8 x 32) = alpha (A block) (B panel) + beta C; row r's value at
// k of the A block at a[r * rowStride + k * kStride].
F32_TARGET static inline __attribute__((always_inline))
void kernel(int k, const float *a, size_t rowStride, size_t kStride, const float *b,
            float alpha, float beta, float *c, int ldc, int rows, int cols) {
    __m512 acc[MR][2];
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int kk = 0; kk < k; kk++) {
        __m512 b0 = _mm512_load_ps(b + (size_t)kk * NR);
        __m512 b1 = _mm512_load_ps(b + (size_t)kk * NR + 16);
        for (int r = 0; r < MR; r++) {
            __m512 ar = _mm512_set1_ps(a[r * rowStride + kk * kStride]);
            acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
        }
    }
    __mmask16 m0 = firstLanes(cols), m1 = firstLanes(cols - 16);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int r = 0; r < MR; r++) {
        if (r >= rows) break;
        float *cr = c + (size_t)r * ldc;
        __m512 v0 = _mm512_mul_ps(acc[r][0], va), v1 = _mm512_mul_ps(acc[r][1], va);
        if (beta != 0) {
            v0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m0, cr), vb, v0);
            v1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m1, cr + 16), vb, v1);
        }
        _mm512_mask_storeu_ps(cr, m0, v0);
        _mm512_mask_storeu_ps(cr + 16, m1, v1);
    }
}

// Rows of A packed and multiplied at a time: about 128 KiB of packed A, which stays in
// L2 while every panel of B passes over it (all of a tall A would come from memory once
// per panel).
static inline int rowsPerChunk(int k) {
    int rows = (32768 / (k > 0 ? k : 1)) / MR * MR;
    return rows < MR ? MR : rows;
}

F32_TARGET void al_f32_gemm_packed(int transA, int m, int n, int k, float alpha, const float *a, int lda,
                                   const void *packedB, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    int chunk = rowsPerChunk(k);
    if (chunk > m) chunk = (m + MR - 1) / MR * MR;
    struct GemmScratch *s = al_thread_scratch();
    float *pa = al_scratch_grow(&s->a, &s->aBytes, (size_t)chunk * (size_t)k * sizeof(float) + 64);
    const float *pb = packedB;
    for (int c0 = 0; c0 < m; c0 += chunk) {
        int chunkRows = m - c0 < chunk ? m - c0 : chunk;
        packA(transA, chunkRows, k, transA ? a + c0 : a + (size_t)c0 * lda, lda, pa);
        for (int j0 = 0; j0 < n; j0 += NR) {
            const float *panel = pb + (size_t)(j0 / NR) * k * NR;
            int cols = n - j0 < NR ? n - j0 : NR;
            for (int i0 = 0; i0 < chunkRows; i0 += MR) {
                int rows = chunkRows - i0 < MR ? chunkRows - i0 : MR;
                const float *block = pa + (size_t)(i0 / MR) * k * MR;
                float *cb = c + (size_t)(c0 + i0) * ldc + j0;
                if (!transA) kernel(k, block, (size_t)k, 1, panel, alpha, beta, cb, ldc, rows, cols);
                else kernel(k, block, 1, MR, panel, alpha, beta, cb, ldc, rows, cols);
            }
        }
    }
}

#else

void al_f32_pack_b(int transB, int k, int n, const float *b, int ldb, void *packed) {
    abort();
}

void al_f32_gemm_packed(int transA, int m, int n, int k, float alpha, const float *a, int lda,
                        const void *packedB, float beta, float *c, int ldc) {
    abort();
}

#endif

void al_f32_gemm(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    struct GemmScratch *s = al_thread_scratch();
    void *pb = al_scratch_grow(&s->b, &s->bBytes, al_f32_packed_b_bytes(k, n) + 64);
    al_f32_pack_b(transB, k, n, b, ldb, pb);
    al_f32_gemm_packed(transA, m, n, k, alpha, a, lda, pb, beta, c, ldc);
}
