/* fuzz/demux.c - the stream demultiplexer (wt__demux): what the first
   bytes of a peer's stream say it is.

   Input: one byte whose low bit says bidirectional, then the stream's
   first bytes. The oracle: a decision, once made on a prefix, never
   changes as more bytes arrive (wt_h3.c decides on whatever prefix has
   come, at most 16 bytes), a WebTransport header fits the 16 bytes the
   stream keeps, and it re-encodes to the session ID it names. */
#define WT_IMPLEMENTATION
#include "../wt.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *p = data + 1;
    size_t n, k, hdr = 0;
    uint64_t sid = 0;
    int bidi, kind;
    if (size < 1) return 0;
    bidi = data[0] & 1;
    n = size - 1;
    kind = wt__demux(p, n, bidi, &sid, &hdr);
    FUZZ_CHECK(kind == WT__DEMUX_MORE || kind == WT__DEMUX_H3 || kind == WT__DEMUX_WT || kind == WT__DEMUX_CTRL);
    if (kind == WT__DEMUX_WT) {
        uint8_t enc[16];
        size_t a, b;
        uint64_t type;
        FUZZ_CHECK(hdr >= 2 && hdr <= 16 && hdr <= n);
        FUZZ_CHECK(sid <= WT__VARINT_MAX);
        /* the header is exactly the type and the session ID, in the lengths used */
        a = wt__varint_get(p, n, &type);
        FUZZ_CHECK(a && type == (bidi ? WT__STREAM_TYPE_BIDI : WT__STREAM_TYPE_UNI));
        b = wt__varint_get(p + a, n - a, &type);
        FUZZ_CHECK(b && a + b == hdr && type == sid);
        /* the shortest encoding of the ID is no longer than the one received */
        FUZZ_CHECK(wt__varint_put(enc, sid) <= b);
        FUZZ_CHECK(wt__varint_get(enc, sizeof enc, &type) && type == sid);
    }
    if (n > 0 && kind == WT__DEMUX_MORE) FUZZ_CHECK(n < 16); /* 16 bytes always decide */
    /* every shorter prefix: undecided, or the same decision */
    for (k = 0; k < n && k <= 16; k++) {
        uint64_t sid2 = 0;
        size_t hdr2 = 0;
        int kind2 = wt__demux(p, k, bidi, &sid2, &hdr2);
        if (kind2 == WT__DEMUX_MORE) continue;
        FUZZ_CHECK(kind2 == kind);
        if (kind == WT__DEMUX_WT) FUZZ_CHECK(sid2 == sid && hdr2 == hdr);
    }
    return 0;
}
