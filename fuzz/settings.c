/* fuzz/settings.c - the SETTINGS frame: reading the peer's
   (wt__settings_parse) and adding ours to nghttp3's control stream
   (wt__settings_inject).

   Input: one byte of options (server or client side, how much room the
   output gets, the session limit), then bytes that are read both as a
   SETTINGS payload and as the start of a control stream. The oracle: the
   rewritten stream is one SETTINGS frame holding nghttp3's settings
   unchanged followed by the WebTransport ones, written inside the room it
   was given (an exact-size heap buffer, so ASan sees any overrun). */
#define WT_IMPLEMENTATION
#include "../wt.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wt__wt_settings st;
    const uint8_t *in;
    uint8_t *out;
    size_t n, cap, used = 0;
    int server, r;
    uint64_t max_sessions;
    wt__settings_offer offer;
    if (size < 1) return 0;
    server = data[0] & 1;
    max_sessions = (data[0] >> 1) & 7 ? ((uint64_t)1 << (((data[0] >> 1) & 7) * 8)) - 1 : 16;
    in = data + 1;
    n = size - 1;

    r = wt__settings_parse(in, n, &st);
    FUZZ_CHECK(r == WT_OK || r == WT_ERR_PROTOCOL);
    FUZZ_CHECK(st.seen);

    /* the room: what a control stream prefix needs (256 in wt__conn), or
       less, to reach the refusal */
    cap = (data[0] & 0x10) ? (size_t)(data[0] >> 5) * 8 : 256;
    out = (uint8_t *)malloc(cap ? cap : 1);
    if (!out) return 0;
    memset(&offer, 0, sizeof offer);
    offer.draft02 = 1;
    offer.latest = server || (data[0] & 0x20);
    offer.max_sessions = server ? max_sessions : 0;
    if (offer.latest) offer.max_data = max_sessions, offer.max_streams_bidi = 100, offer.max_streams_uni = 7;
    r = wt__settings_inject(in, n, out, cap, &used, &offer);
    if (r > 0) {
        uint64_t stype, ftype, flen;
        size_t a, b, c, oa, ob, oc;
        wt__wt_settings ours;
        FUZZ_CHECK((size_t)r <= cap && used <= n);
        a = wt__varint_get(in, n, &stype);
        b = wt__varint_get(in + a, n - a, &ftype);
        c = wt__varint_get(in + a + b, n - a - b, &flen);
        FUZZ_CHECK(a && b && c && stype == 0 && ftype == 4 && used == a + b + c + flen);
        oa = wt__varint_get(out, (size_t)r, &stype);
        ob = wt__varint_get(out + oa, (size_t)r - oa, &ftype);
        oc = wt__varint_get(out + oa + ob, (size_t)r - oa - ob, &ftype);
        FUZZ_CHECK(oa && ob && oc && stype == 0 && oa + ob + oc + ftype == (size_t)r);
        /* nghttp3's settings first, unchanged */
        FUZZ_CHECK(ftype >= flen && !memcmp(out + oa + ob + oc, in + a + b + c, (size_t)flen));
        /* nghttp3 writes whole pairs; after such a part, ours read back
           (the last of a duplicate wins, and ours come last) */
        if (wt__settings_parse(in + a + b + c, (size_t)flen, &st) == WT_OK) {
            FUZZ_CHECK(wt__settings_parse(out + oa + ob + oc, (size_t)ftype, &ours) == WT_OK);
            FUZZ_CHECK(ours.wt_draft02 && ours.datagram);
            if (server) FUZZ_CHECK(ours.wt_enabled && ours.max_sessions == max_sessions);
            if (offer.latest)
                FUZZ_CHECK(ours.init_max_data == offer.max_data && ours.init_max_streams_bidi == 100 &&
                           ours.init_max_streams_uni == 7);
        }
    } else {
        FUZZ_CHECK(r == 0 || r == WT_ERR_H3 || r == WT_ERR_TOO_BIG);
    }
    free(out);
    return 0;
}
