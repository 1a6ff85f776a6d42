/* fuzz.h - what the libFuzzer targets share: the entry points, a check
   that aborts (so libFuzzer keeps the input), and a small deterministic
   generator for choices a target derives from its input. Included after
   wt.h. */
#ifndef WT_FUZZ_H
#define WT_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An oracle failed: say which, then abort, which libFuzzer reports as a
   crash with the input saved. */
#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* xorshift64*: chunk sizes and similar choices, the same on every run */
static inline uint64_t fuzz_next(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* FNV-1a, to compare byte strings seen in two runs without keeping them */
static inline uint64_t fuzz_hash(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

#endif
