// bfloat16 products with float32 accumulation (see include/bf16gemm.h).
//
// op(A) and op(B) are packed as VDPBF16PS reads them: it multiplies the two bfloat16
// halves of each 32-bit lane of one register by those of another and adds both
// products into that lane's float32. So a pair of consecutive k shares a lane: A in
// blocks of 8 rows (one pair broadcast to all lanes per row), B in panels of 32 columns
// as [n / 32][k / 2][32] pairs (two registers per pair of k). A block of A is laid out
// as its source reads fastest: [8][k / 2] when A's rows are contiguous, [k / 2][8] when
// transposed (its columns are), so that packing is plain vector loads and stores. The
// kernel keeps an 8 x 32 block of C in 16 registers across the whole k loop. Odd k, and
// rows or columns past a block's end, are padded with zeros in the packed copies; only
// C's real rows and columns are written.
#include "bf16gemm.h"

#include "scratch.h"
#include <stdlib.h>
#include <string.h>

enum { MR = 8, NR = 32 };

static inline size_t pairsOf(int k) { return (size_t)(k + 1) / 2; }

// Round to nearest bfloat16, ties to even; NaNs stay (quiet) NaNs. For the one operand
// packed a value at a time (B transposed, packed once per pass). Unlike the vector
// conversions it keeps denormals instead of reading them as zero: below 2^-126, nothing
// a float32 sum of these products can show.
static inline uint32_t bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

static inline uint32_t pair(float lo, float hi) { return bf16(lo) | (bf16(hi) << 16); }

size_t al_bf16_packed_b_bytes(int k, int n) {
    return (size_t)((n + NR - 1) / NR) * pairsOf(k) * NR * sizeof(uint32_t);
}

#if defined(__x86_64__)
#include <immintrin.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// Sixteen floats to sixteen bfloat16 (round to nearest even; the instruction reads
// denormals as zero), each in the low half of a 32-bit lane.
BF16_TARGET static inline __m512i low16(__m512 v) {
    return _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(v));
}

// Sixteen pairs (lo[j], hi[j]) as VDPBF16PS reads them.
BF16_TARGET static inline __m512i pairs16(__m512 lo, __m512 hi) {
    return _mm512_or_si512(low16(lo), _mm512_slli_epi32(low16(hi), 16));
}

static inline __mmask16 firstLanes(int count) {
    return count >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << count) - 1);
}

BF16_TARGET void al_bf16_pack_b(int transB, int k, int n, const float *b, int ldb, void *packed) {
    uint32_t *p = packed;
    size_t kp = pairsOf(k);
    for (int j0 = 0; j0 < n; j0 += NR) {
        int width = n - j0 < NR ? n - j0 : NR;
        uint32_t *panel = p + (size_t)(j0 / NR) * kp * NR;
        for (size_t kk = 0; kk < kp; kk++) {
            int k0 = (int)(2 * kk);
            uint32_t *row = panel + kk * NR;
            if (!transB) {   // op(B)[k][j] = b[k * ldb + j]: two source rows, read along j
                const float *r0 = b + (size_t)k0 * ldb + j0, *r1 = r0 + ldb;
                for (int j = 0; j < NR; j += 16) {
                    __mmask16 lanes = j < width ? firstLanes(width - j) : 0;
                    __m512 lo = _mm512_maskz_loadu_ps(lanes, r0 + j);
                    __m512 hi = k0 + 1 < k ? _mm512_maskz_loadu_ps(lanes, r1 + j) : _mm512_setzero_ps();
                    _mm512_store_si512((void *)(row + j), pairs16(lo, hi));
                }
            } else {         // op(B)[k][j] = b[j * ldb + k]: the pair is adjacent (packed once per pass)
                for (int j = 0; j < width; j++) {
                    const float *s = b + (size_t)(j0 + j) * ldb + k0;
                    row[j] = k0 + 1 < k ? pair(s[0], s[1]) : bf16(s[0]);
                }
                for (int j = width; j < NR; j++) row[j] = 0;
            }
        }
    }
}

// op(A) (m x k) in blocks of 8 rows: [8][kp] per block when A's rows are contiguous
// (not transposed), [kp][8] when its columns are; rows past m are zeros.
BF16_TARGET static void packA(int transA, int m, int k, const float *a, int lda, uint32_t *p) {
    size_t kp = pairsOf(k);
    for (int i0 = 0; i0 < m; i0 += MR) {
        int height = m - i0 < MR ? m - i0 : MR;
        uint32_t *block = p + (size_t)(i0 / MR) * kp * MR;
        if (!transA) {   // row i: k floats, two per pair, 32 at a time
            for (int i = 0; i < MR; i++) {
                uint32_t *d = block + (size_t)i * kp;
                if (i >= height) { memset(d, 0, kp * sizeof *d); continue; }
                const float *s = a + (size_t)(i0 + i) * lda;
                for (int k0 = 0; k0 < k; k0 += 32) {
                    __m512 lo = _mm512_maskz_loadu_ps(firstLanes(k - k0), s + k0);
                    __m512 hi = k - k0 > 16 ? _mm512_maskz_loadu_ps(firstLanes(k - k0 - 16), s + k0 + 16) : _mm512_setzero_ps();
                    __m512i bf = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);   // lo's 16, then hi's
                    int count = (int)kp - k0 / 2;
                    _mm512_mask_storeu_epi32(d + k0 / 2, firstLanes(count), bf);
                }
            }
        } else {         // op(A)[i][k] = a[k * lda + i]: rows of A^T, 8 at a time
            __mmask16 lanes = firstLanes(height);
            for (size_t kk = 0; kk < kp; kk++) {
                int k0 = (int)(2 * kk);
                const float *r0 = a + (size_t)k0 * lda + i0, *r1 = r0 + lda;
                __m512 lo = _mm512_maskz_loadu_ps(lanes & 0xff, r0);
                __m512 hi = k0 + 1 < k ? _mm512_maskz_loadu_ps(lanes & 0xff, r1) : _mm512_setzero_ps();
                _mm256_storeu_si256((__m256i *)(block + kk * MR), _mm512_castsi512_si256(pairs16(lo, hi)));
            }
        }
    }
}

// C[rows x cols] (at most 8 x 32) = alpha (A block) (B panel) + beta C; row r's pair kk
// of the A block at a[r * rowStride + kk * pairStride].
BF16_TARGET static inline __attribute__((always_inline))
void kernel(size_t kp, const uint32_t *a, size_t rowStride, size_t pairStride, const uint32_t *b,
            float alpha, float beta, float *c, int ldc, int rows, int cols) {
    __m512 acc[MR][2];
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (size_t kk = 0; kk < kp; kk++) {
        __m512bh b0 = (__m512bh)_mm512_load_si512((const void *)(b + kk * NR));
        __m512bh b1 = (__m512bh)_mm512_load_si512((const void *)(b + kk * NR + 16));
        for (int r = 0; r < MR; r++) {
            __m512bh ar = (__m512bh)_mm512_set1_epi32((int)a[r * rowStride + kk * pairStride]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], ar, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], ar, b1);
        }
    }
    __mmask16 m0 = firstLanes(cols), m1 = cols > 16 ? firstLanes(cols - 16) : 0;
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

BF16_TARGET void al_bf16_gemm_packed(int transA, int m, int n, int k, float alpha, const float *a, int lda,
                                     const void *packedB, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    size_t kp = pairsOf(k);
    struct GemmScratch *s = al_thread_scratch();
    uint32_t *pa = al_scratch_grow(&s->a, &s->aBytes, (size_t)((m + MR - 1) / MR) * kp * MR * sizeof(uint32_t) + 64);
    packA(transA, m, k, a, lda, pa);
    const uint32_t *pb = packedB;
    for (int j0 = 0; j0 < n; j0 += NR) {
        const uint32_t *panel = pb + (size_t)(j0 / NR) * kp * NR;
        int cols = n - j0 < NR ? n - j0 : NR;
        for (int i0 = 0; i0 < m; i0 += MR) {
            int rows = m - i0 < MR ? m - i0 : MR;
            const uint32_t *block = pa + (size_t)(i0 / MR) * kp * MR;
            float *cb = c + (size_t)i0 * ldc + j0;
            if (!transA) kernel(kp, block, kp, 1, panel, alpha, beta, cb, ldc, rows, cols);
            else kernel(kp, block, 1, MR, panel, alpha, beta, cb, ldc, rows, cols);
        }
    }
}

#else

void al_bf16_pack_b(int transB, int k, int n, const float *b, int ldb, void *packed) {
    abort();
}

void al_bf16_gemm_packed(int transA, int m, int n, int k, float alpha, const float *a, int lda,
                         const void *packedB, float beta, float *c, int ldc) {
    abort();
}

#endif

void al_bf16_gemm(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda,
                  const float *b, int ldb, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    struct GemmScratch *s = al_thread_scratch();
    void *pb = al_scratch_grow(&s->b, &s->bBytes, al_bf16_packed_b_bytes(k, n) + 64);
    al_bf16_pack_b(transB, k, n, b, ldb, pb);
    al_bf16_gemm_packed(transA, m, n, k, alpha, a, lda, pb, beta, c, ldc);
}
