// Per-thread scratch memory for the packed operands of one product, shared by the
// bfloat16 and float32 kernels: kept for the thread's next calls (a layer makes
// thousands of small products) and freed when the thread ends.
#ifndef ACTIONLAB_GEMM_SCRATCH_H
#define ACTIONLAB_GEMM_SCRATCH_H

#include <stddef.h>

struct GemmScratch { void *a, *b; size_t aBytes, bBytes; };

/// This thread's scratch, made at its first use.
struct GemmScratch *al_thread_scratch(void);

/// `*buffer` with room for at least `bytes` (64-byte aligned, grown in whole pages; its
/// contents are not kept when it grows).
void *al_scratch_grow(void **buffer, size_t *capacity, size_t bytes);

#endif
