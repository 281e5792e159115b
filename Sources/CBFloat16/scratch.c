#include "scratch.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_key_t scratchKey;
static pthread_once_t scratchOnce = PTHREAD_ONCE_INIT;

static void freeScratch(void *s) {
    struct GemmScratch *scratch = s;
    free(scratch->a);
    free(scratch->b);
    free(scratch);
}

static void makeScratchKey(void) { pthread_key_create(&scratchKey, freeScratch); }

struct GemmScratch *al_thread_scratch(void) {
    pthread_once(&scratchOnce, makeScratchKey);
    struct GemmScratch *s = pthread_getspecific(scratchKey);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) abort();
        pthread_setspecific(scratchKey, s);
    }
    return s;
}

void *al_scratch_grow(void **buffer, size_t *capacity, size_t bytes) {
    if (bytes > *capacity) {
        free(*buffer);
        bytes = (bytes + 4095) & ~(size_t)4095;
        if (posix_memalign(buffer, 64, bytes) != 0) abort();
        *capacity = bytes;
    }
    return *buffer;
}
