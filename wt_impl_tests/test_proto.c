/* test_proto.c - the wire-format pieces, without a network: error-code
   mapping, capsules, the stream demultiplexer, SETTINGS rewriting, the send
   buffer and URL parsing. Expected values come from the wire notes
   (webtransport-wire.md) and RFC 9000/9114/9297, not from the code. */

/* ---------------------------------------------------------------- helpers */

/* A fixed-seed LCG (Numerical Recipes constants): reproducible "random"
   chunk sizes, independent of the C library's rand(). */
static uint32_t proto_lcg(uint32_t *state) {
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8; /* the low bits of an LCG are poor */
}

/* A byte that depends on its position, so data delivered out of order,
   twice or shifted by any amount is caught. */
static uint8_t proto_pattern(size_t i) { return (uint8_t)(((uint32_t)i * 2654435761u) >> 24); }

static void proto_put_varint(wt__buf *b, uint64_t v) {
    uint8_t tmp[8];
    size_t n = wt__varint_put(tmp, v);
    CHECK(wt__buf_append(NULL, b, tmp, n) == WT_OK);
}

static void proto_put_bytes(wt__buf *b, const void *p, size_t n) { CHECK(wt__buf_append(NULL, b, p, n) == WT_OK); }

/* Prints what was being tested when a helper's checks failed. */
#define PROTO_CONTEXT(before, ...)                                           \
    do {                                                                     \
        if (wt_test_failed_checks != (before)) {                             \
            printf("      while testing: ");                                 \
            printf(__VA_ARGS__);                                             \
            printf("\n");                                                    \
        }                                                                    \
    } while (0)

/* ---------------------------------------------------------------- 1. error codes */

/* One code: in the WebTransport range, not a reserved codepoint, and back. */
static void proto_check_code_roundtrip(uint32_t c) {
    int before = wt_test_failed_checks;
    uint64_t h = wt_code_to_h3(c);
    CHECK(h >= WT__H3_CODE_FIRST && h <= WT__H3_CODE_LAST);
    CHECK((h - 0x21) % 0x1f != 0);
    CHECK(h == WT__H3_CODE_FIRST + c + c / 0x1e); /* the formula of the drafts */
    CHECK_EQ_INT(wt_h3_to_code(h), c);
    PROTO_CONTEXT(before, "code %lu -> h3 0x%llx", (unsigned long)c, (unsigned long long)h);
}

WT_TEST(proto_errcode_known_values) {
    CHECK(wt_code_to_h3(0) == 0x52e4a40fa8dbULL);
    CHECK(wt_code_to_h3(0xffffffffu) == 0x52e5ac983162ULL);
    CHECK_EQ_INT(wt_h3_to_code(0x52e4a40fa8dbULL), 0);
    CHECK_EQ_INT(wt_h3_to_code(0x52e5ac983162ULL), 0xffffffffLL);
    /* 0x1e codes per 0x1f codepoints: code 29 and 30 straddle a reserved one */
    CHECK(wt_code_to_h3(29) + 2 == wt_code_to_h3(30));
    CHECK(wt_code_to_h3(1) == wt_code_to_h3(0) + 1);
}

WT_TEST(proto_errcode_roundtrip) {
    static const uint32_t fixed[] = {0, 1, 0x1d, 0x1e, 0x1f, 255, 0xffff, 0xfffffffeu, 0xffffffffu};
    size_t i;
    uint32_t c;
    uint64_t prev;
    for (i = 0; i < WT__COUNTOF(fixed); i++) proto_check_code_roundtrip(fixed[i]);
    /* every code near both ends; the mapping must be strictly increasing */
    prev = wt_code_to_h3(0);
    for (c = 1; c < 3000; c++) {
        proto_check_code_roundtrip(c);
        CHECK(wt_code_to_h3(c) > prev);
        prev = wt_code_to_h3(c);
    }
    for (c = 0xffffffffu - 3000; c != 0; c++) proto_check_code_roundtrip(c); /* wraps to 0 after the last */
    /* a step that is not a multiple of 0x1e, across the whole 32-bit range */
    for (i = 0; i <= 4000; i++) proto_check_code_roundtrip((uint32_t)(i * 1073741u + i % 0x1e));
}

/* Every HTTP/3 code in [from, to]: reserved ones give -1, the others map to a
   code that maps back to the same HTTP/3 code (so the mapping is a bijection). */
static void proto_check_h3_window(uint64_t from, uint64_t to) {
    uint64_t h;
    int before = wt_test_failed_checks;
    for (h = from; h <= to; h++) {
        int64_t c = wt_h3_to_code(h);
        if ((h - 0x21) % 0x1f == 0) {
            CHECK_EQ_INT(c, -1);
        } else {
            CHECK(c >= 0 && c <= 0xffffffffLL);
            if (c >= 0) CHECK(wt_code_to_h3((uint32_t)c) == h);
        }
        if (wt_test_failed_checks != before) break; /* one report per window is enough */
    }
    PROTO_CONTEXT(before, "h3 code 0x%llx", (unsigned long long)h);
}

WT_TEST(proto_errcode_rejects) {
    /* the first reserved codepoint inside the range, computed, not copied */
    uint64_t first = WT__H3_CODE_FIRST;
    uint64_t reserved = first + (0x1f - (first - 0x21) % 0x1f) % 0x1f;
    CHECK((reserved - 0x21) % 0x1f == 0);
    CHECK(reserved > first && reserved < first + 0x1f);
    CHECK_EQ_INT(wt_h3_to_code(reserved), -1);
    CHECK_EQ_INT(wt_h3_to_code(reserved + 0x1f), -1);
    CHECK_EQ_INT(wt_h3_to_code(reserved - 1) + 1, wt_h3_to_code(reserved + 1));
    /* outside the range */
    CHECK_EQ_INT(wt_h3_to_code(WT__H3_CODE_FIRST - 1), -1);
    CHECK_EQ_INT(wt_h3_to_code(WT__H3_CODE_LAST + 1), -1);
    CHECK_EQ_INT(wt_h3_to_code(0), -1);
    CHECK_EQ_INT(wt_h3_to_code(UINT64_MAX), -1);
    /* generic HTTP/3 codes browsers reset WT streams with */
    CHECK_EQ_INT(wt_h3_to_code(WT__H3_REQUEST_CANCELLED), -1);
    CHECK_EQ_INT(wt_h3_to_code(WT__H3_CONNECT_ERROR), -1);
    CHECK_EQ_INT(wt_h3_to_code(WT__H3_NO_ERROR), -1);
    CHECK_EQ_INT(wt_h3_to_code(WT__ERR_SESSION_GONE), -1);
    proto_check_h3_window(WT__H3_CODE_FIRST, WT__H3_CODE_FIRST + 3000);
    proto_check_h3_window(WT__H3_CODE_LAST - 3000, WT__H3_CODE_LAST);
}

/* ---------------------------------------------------------------- 2. capsules */

static void proto_check_close_roundtrip(uint32_t code, const char *reason, size_t rl) {
    uint8_t buf[8 + 4 + WT__REASON_MAX + 8];
    wt__capsule c;
    size_t n = wt__capsule_close(buf, code, reason, rl), k;
    int before = wt_test_failed_checks, used;
    memset(&c, 0, sizeof c);
    /* type 0x2843 is a 2-byte varint; the length covers the code and reason */
    CHECK_EQ_INT(n, 2 + wt__varint_len(4 + rl) + 4 + rl);
    used = wt__capsule_parse(buf, n, &c, WT__CAPSULE_MAX);
    CHECK_EQ_INT(used, n);
    if (used <= 0 || c.len < 4) {
        PROTO_CONTEXT(before, "CLOSE capsule code 0x%lx, reason of %zu bytes", (unsigned long)code, rl);
        return;
    }
    CHECK(c.type == WT__CAPSULE_CLOSE);
    CHECK_EQ_INT(c.len, 4 + rl);
    CHECK(c.value == buf + n - 4 - rl);
    /* the code is big-endian */
    CHECK_EQ_INT(c.value[0], (code >> 24) & 0xff);
    CHECK_EQ_INT(c.value[1], (code >> 16) & 0xff);
    CHECK_EQ_INT(c.value[2], (code >> 8) & 0xff);
    CHECK_EQ_INT(c.value[3], code & 0xff);
    CHECK(rl == 0 || memcmp(c.value + 4, reason, rl) == 0);
    /* a capsule cut anywhere is "need more", never an error or a capsule */
    for (k = 0; k < n; k++) CHECK_EQ_INT(wt__capsule_parse(buf, k, &c, WT__CAPSULE_MAX), 0);
    /* trailing bytes of the next capsule are not consumed */
    buf[n] = 0x40;
    CHECK_EQ_INT(wt__capsule_parse(buf, n + 1, &c, WT__CAPSULE_MAX), n);
    PROTO_CONTEXT(before, "CLOSE capsule code 0x%lx, reason of %zu bytes", (unsigned long)code, rl);
}

WT_TEST(proto_capsule_close_roundtrip) {
    char long_reason[WT__REASON_MAX];
    size_t i;
    for (i = 0; i < sizeof long_reason; i++) long_reason[i] = (char)('a' + i % 26);
    proto_check_close_roundtrip(0, "", 0);
    proto_check_close_roundtrip(0x01020304u, "", 0);
    proto_check_close_roundtrip(0xfffffffeu, "bye", 3);
    proto_check_close_roundtrip(0x80000001u, long_reason, sizeof long_reason);
    proto_check_close_roundtrip(42, long_reason, 60); /* length 64: the first 2-byte length */
}

WT_TEST(proto_capsule_parse_limits) {
    uint8_t buf[16];
    wt__capsule c;
    size_t n = 0;
    /* a CLOSE announcing one byte more than allowed: rejected from the header alone */
    n += wt__varint_put(buf + n, WT__CAPSULE_CLOSE);
    n += wt__varint_put(buf + n, WT__CAPSULE_MAX + 1);
    CHECK_EQ_INT(wt__capsule_parse(buf, n, &c, WT__CAPSULE_MAX), WT_ERR_TOO_BIG);
    /* the same length is fine under a larger max (it just needs more bytes) */
    CHECK_EQ_INT(wt__capsule_parse(buf, n, &c, WT__CAPSULE_MAX + 1), 0);
    /* max is inclusive */
    n = wt__capsule_close(buf, 7, "", 0);
    CHECK_EQ_INT(wt__capsule_parse(buf, n, &c, 4), n);
    CHECK_EQ_INT(wt__capsule_parse(buf, n, &c, 3), WT_ERR_TOO_BIG);
    /* an 8-byte length varint near 2^62 */
    n = 0;
    n += wt__varint_put(buf + n, WT__CAPSULE_DRAIN);
    n += wt__varint_put(buf + n, WT__VARINT_MAX);
    CHECK_EQ_INT(wt__capsule_parse(buf, n, &c, WT__CAPSULE_MAX), WT_ERR_TOO_BIG);
}

/* What the capsule reader delivered. */
typedef struct proto_capsules_seen {
    int count;
    uint64_t types[8];
    size_t lens[8];
    uint32_t close_code;
    char close_reason[WT__REASON_MAX];
    size_t close_reason_len;
} proto_capsules_seen;

static int proto_capsule_record(void *ctx, const wt__capsule *c) {
    proto_capsules_seen *seen = (proto_capsules_seen *)ctx;
    if (seen->count < (int)WT__COUNTOF(seen->types)) {
        seen->types[seen->count] = c->type;
        seen->lens[seen->count] = c->len;
    }
    seen->count++;
    if (c->type == WT__CAPSULE_CLOSE && c->len >= 4 && c->len - 4 <= WT__REASON_MAX) {
        seen->close_code = ((uint32_t)c->value[0] << 24) | ((uint32_t)c->value[1] << 16) |
                           ((uint32_t)c->value[2] << 8) | c->value[3];
        seen->close_reason_len = c->len - 4;
        memcpy(seen->close_reason, c->value + 4, c->len - 4);
    }
    return WT_OK;
}

/* Feeds p in chunks of 1..maxchunk bytes (sizes from seed; all of it at
   once when maxchunk >= n); returns the first error, or WT_OK. */
static int proto_feed(const uint8_t *p, size_t n, size_t maxchunk, uint32_t seed, proto_capsules_seen *seen) {
    wt__capsule_reader r;
    size_t off = 0;
    memset(&r, 0, sizeof r);
    memset(seen, 0, sizeof *seen);
    while (off < n) {
        size_t k = maxchunk >= n ? n : 1 + proto_lcg(&seed) % maxchunk;
        int rv;
        if (k > n - off) k = n - off;
        rv = wt__capsule_feed(&r, p + off, k, proto_capsule_record, seen);
        if (rv != WT_OK) {
            wt__capsule_reader_free(&r);
            return rv;
        }
        off += k;
    }
    /* the stream ends on a capsule boundary: nothing may be left over, and
       a long capsule's buffer went back once it was done */
    CHECK_EQ_INT(r.len, 0);
    CHECK(r.skip == 0);
    CHECK(r.buf == r.small);
    wt__capsule_reader_free(&r);
    return WT_OK;
}

#define PROTO_GREASE_LEN 100000

/* [GREASE capsule of 100000 bytes][WT_MAX_DATA][DRAIN][CLOSE 0xdeadbeef "done"]:
   the GREASE one is skipped, the other three come out */
static void proto_build_capsule_stream(wt__buf *s) {
    uint8_t drain_lookalike[5], close_cap[64];
    size_t i;
    /* 0x78ae needs the 4-byte varint form: 80 00 78 ae, then length 00 */
    CHECK_EQ_INT(wt__varint_put(drain_lookalike, WT__CAPSULE_DRAIN), 4);
    drain_lookalike[4] = 0x00;
    /* RFC 9297 reserves capsule types 0x29 * N + 0x17 for greasing. Its value
       is made of DRAIN lookalikes: a reader that parses skipped bytes sees them. */
    proto_put_varint(s, 0x29ULL * 0x1234 + 0x17);
    proto_put_varint(s, PROTO_GREASE_LEN);
    for (i = 0; i + sizeof drain_lookalike <= PROTO_GREASE_LEN; i += sizeof drain_lookalike)
        proto_put_bytes(s, drain_lookalike, sizeof drain_lookalike);
    for (; i < PROTO_GREASE_LEN; i++) proto_put_bytes(s, "\0", 1);
    /* a flow-control capsule with a small value */
    proto_put_varint(s, 0x190b4d3d);
    proto_put_varint(s, wt__varint_len(1000000));
    proto_put_varint(s, 1000000);
    proto_put_varint(s, WT__CAPSULE_DRAIN);
    proto_put_varint(s, 0);
    proto_put_bytes(s, close_cap, wt__capsule_close(close_cap, 0xdeadbeefu, "done", 4));
}

static void proto_check_drain_then_close(const proto_capsules_seen *seen) {
    CHECK_EQ_INT(seen->count, 3);
    CHECK(seen->types[0] == WT__CAPSULE_MAX_DATA); /* flow control: read, not skipped */
    CHECK_EQ_INT(seen->lens[0], 4);
    CHECK(seen->types[1] == WT__CAPSULE_DRAIN);
    CHECK_EQ_INT(seen->lens[1], 0);
    CHECK(seen->types[2] == WT__CAPSULE_CLOSE);
    CHECK(seen->close_code == 0xdeadbeefu);
    CHECK_EQ_INT(seen->close_reason_len, 4);
    CHECK(memcmp(seen->close_reason, "done", 4) == 0);
}

WT_TEST(proto_capsule_feed_stream) {
    static const uint32_t seeds[] = {1, 2, 3, 12345, 0xc0ffee};
    proto_capsules_seen seen;
    wt__buf s = {0};
    size_t i;
    proto_build_capsule_stream(&s);
    REQUIRE(s.len > PROTO_GREASE_LEN);

    CHECK_EQ_INT(proto_feed(s.data, s.len, s.len, 7, &seen), WT_OK); /* one call */
    proto_check_drain_then_close(&seen);
    CHECK_EQ_INT(proto_feed(s.data, s.len, s.len / 3, 7, &seen), WT_OK); /* large pieces */
    proto_check_drain_then_close(&seen);
    CHECK_EQ_INT(proto_feed(s.data, s.len, 1, 7, &seen), WT_OK); /* byte by byte */
    proto_check_drain_then_close(&seen);
    for (i = 0; i < WT__COUNTOF(seeds); i++) {
        int before = wt_test_failed_checks;
        size_t maxchunk = 2 + i * 701; /* from 2 bytes to more than the reader's buffer */
        CHECK_EQ_INT(proto_feed(s.data, s.len, maxchunk, seeds[i], &seen), WT_OK);
        proto_check_drain_then_close(&seen);
        PROTO_CONTEXT(before, "chunks of up to %zu bytes, seed %lu", maxchunk, (unsigned long)seeds[i]);
    }
    wt__buf_free(NULL, &s);
}

WT_TEST(proto_capsule_feed_close_too_big) {
    proto_capsules_seen seen;
    uint8_t buf[8 + 4 + WT__REASON_MAX + 8];
    char reason[WT__REASON_MAX];
    size_t n = 0;
    n += wt__varint_put(buf + n, WT__CAPSULE_CLOSE);
    n += wt__varint_put(buf + n, WT__CAPSULE_MAX + 1);
    memset(buf + n, 'x', 8);
    CHECK(proto_feed(buf, n + 8, n + 8, 1, &seen) < 0);
    CHECK_EQ_INT(seen.count, 0);
    CHECK(proto_feed(buf, n + 8, 1, 1, &seen) < 0);
    CHECK_EQ_INT(seen.count, 0);
    /* the largest allowed CLOSE (a 1024-byte reason) still goes through */
    memset(reason, 'r', sizeof reason);
    n = wt__capsule_close(buf, 5, reason, sizeof reason);
    CHECK_EQ_INT(proto_feed(buf, n, 1, 1, &seen), WT_OK);
    CHECK_EQ_INT(seen.count, 1);
    CHECK_EQ_INT(seen.close_reason_len, WT__REASON_MAX);
}

/* ---------------------------------------------------------------- 3. demultiplexer */

/* A WT stream header (type bytes as given, then the session id as a minimal
   varint) plus 3 payload bytes; every prefix is tried. */
static void proto_check_wt_header(const uint8_t *type, size_t type_len, uint64_t sid, int bidi) {
    uint8_t buf[8 + 8 + 3];
    size_t hdr = type_len, k;
    int before = wt_test_failed_checks;
    memcpy(buf, type, type_len);
    hdr += wt__varint_put(buf + hdr, sid);
    memcpy(buf + hdr, "abc", 3);
    for (k = 0; k <= hdr + 3; k++) {
        uint64_t got_sid = 0xbad;
        size_t got_len = 0xbad;
        int kind = wt__demux(buf, k, bidi, &got_sid, &got_len);
        if (k < hdr) {
            CHECK_EQ_INT(kind, WT__DEMUX_MORE);
        } else {
            CHECK_EQ_INT(kind, WT__DEMUX_WT);
            CHECK(got_sid == sid);
            CHECK_EQ_INT(got_len, hdr);
        }
    }
    /* the same bytes on the other kind of stream are not WebTransport */
    {
        uint64_t got_sid;
        size_t got_len;
        CHECK_EQ_INT(wt__demux(buf, hdr + 3, !bidi, &got_sid, &got_len), WT__DEMUX_H3);
    }
    PROTO_CONTEXT(before, "%s stream, %zu-byte type, session id %llu", bidi ? "bidi" : "uni", type_len,
                  (unsigned long long)sid);
}

WT_TEST(proto_demux_wt_streams) {
    /* session ids whose varints take 1, 1, 2, 4 and 8 bytes */
    static const uint64_t sids[] = {0, 4, 64, 16384 * 4, 1073741824ULL * 4};
    /* 0x41 and 0x54 are > 63, so their shortest varint form already has 2 bytes;
       longer (non-minimal) encodings are legal QUIC varints too */
    static const uint8_t bidi2[] = {0x40, 0x41}, bidi4[] = {0x80, 0, 0, 0x41};
    static const uint8_t bidi8[] = {0xc0, 0, 0, 0, 0, 0, 0, 0x41};
    static const uint8_t uni2[] = {0x40, 0x54}, uni4[] = {0x80, 0, 0, 0x54};
    size_t i;
    for (i = 0; i < WT__COUNTOF(sids); i++) {
        proto_check_wt_header(bidi2, sizeof bidi2, sids[i], 1);
        proto_check_wt_header(bidi4, sizeof bidi4, sids[i], 1);
        proto_check_wt_header(bidi8, sizeof bidi8, sids[i], 1);
        proto_check_wt_header(uni2, sizeof uni2, sids[i], 0);
        proto_check_wt_header(uni4, sizeof uni4, sids[i], 0);
    }
}

/* The first bytes of a stream that is not WebTransport: need is the length
   of its first varint; before that MORE, from then on the expected kind. */
static void proto_check_demux_other(const uint8_t *p, size_t n, size_t need, int bidi, int want) {
    size_t k;
    int before = wt_test_failed_checks;
    for (k = 0; k <= n; k++) {
        uint64_t sid;
        size_t hl;
        CHECK_EQ_INT(wt__demux(p, k, bidi, &sid, &hl), k < need ? WT__DEMUX_MORE : want);
    }
    PROTO_CONTEXT(before, "%s stream starting 0x%02x", bidi ? "bidi" : "uni", (unsigned)p[0]);
}

WT_TEST(proto_demux_other_streams) {
    static const uint8_t headers[] = {0x01, 0x05, 0xaa, 0xbb};  /* HEADERS frame */
    static const uint8_t data[] = {0x00, 0x02, 0xaa, 0xbb};     /* DATA frame: bidi, not control */
    static const uint8_t ctrl[] = {0x00, 0x04, 0x00};           /* control stream, empty SETTINGS */
    static const uint8_t ctrl_long[] = {0x40, 0x00, 0x04, 0x00}; /* stream type 0 in 2 bytes */
    static const uint8_t qenc[] = {0x02}, qdec[] = {0x03};
    static const uint8_t grease[] = {0x21, 0x41, 0x00};          /* 0x1f * 0 + 0x21, then junk */
    static const uint8_t grease2[] = {0x40, 0xfe, 0x00};         /* 0x1f * 7 + 0x21 */
    static const uint8_t push[] = {0x01, 0x00};                  /* push stream (uni 0x01) */
    uint64_t sid;
    size_t hl;
    CHECK_EQ_INT(wt__demux(headers, 0, 1, &sid, &hl), WT__DEMUX_MORE);
    CHECK_EQ_INT(wt__demux(headers, 0, 0, &sid, &hl), WT__DEMUX_MORE);
    proto_check_demux_other(headers, sizeof headers, 1, 1, WT__DEMUX_H3);
    proto_check_demux_other(data, sizeof data, 1, 1, WT__DEMUX_H3);
    proto_check_demux_other(ctrl, sizeof ctrl, 1, 0, WT__DEMUX_CTRL);
    proto_check_demux_other(ctrl_long, sizeof ctrl_long, 2, 0, WT__DEMUX_CTRL);
    proto_check_demux_other(qenc, sizeof qenc, 1, 0, WT__DEMUX_H3);
    proto_check_demux_other(qdec, sizeof qdec, 1, 0, WT__DEMUX_H3);
    proto_check_demux_other(push, sizeof push, 1, 0, WT__DEMUX_H3);
    proto_check_demux_other(grease, sizeof grease, 1, 0, WT__DEMUX_H3);
    proto_check_demux_other(grease, sizeof grease, 1, 1, WT__DEMUX_H3);
    proto_check_demux_other(grease2, sizeof grease2, 2, 0, WT__DEMUX_H3);
    proto_check_demux_other(grease2, sizeof grease2, 2, 1, WT__DEMUX_H3);
}

/* ---------------------------------------------------------------- 4. SETTINGS */

/* Writes a control-stream start as nghttp3 does: stream type 0x00, then a
   SETTINGS frame (0x04, length, id/value pairs). Returns the bytes. */
static size_t proto_settings_frame(uint8_t *out, const uint64_t *pairs, size_t nvals) {
    uint8_t payload[128];
    size_t pl = 0, o = 0, i;
    for (i = 0; i < nvals; i++) pl += wt__varint_put(payload + pl, pairs[i]);
    o += wt__varint_put(out + o, 0x00);
    o += wt__varint_put(out + o, 0x04);
    o += wt__varint_put(out + o, pl);
    memcpy(out + o, payload, pl);
    return o + pl;
}

/* What a server (the superset, max_sessions 16, flow-control limits) or an
   auto-dialect client offers. */
static const wt__settings_offer *proto_offer(int server) {
    static wt__settings_offer o[2];
    memset(&o[server], 0, sizeof o[server]);
    o[server].draft02 = o[server].latest = 1;
    o[server].max_data = 1 << 20;
    o[server].max_streams_bidi = 100, o[server].max_streams_uni = 50;
    if (server) o[server].max_sessions = 16;
    return &o[server];
}

/* Runs wt__settings_inject on in (n bytes, of which frame_len are the
   control-stream prefix) and parses the payload it wrote into *st. */
static void proto_inject_and_parse(const uint8_t *in, size_t n, size_t frame_len, int server, wt__wt_settings *st) {
    uint8_t out[256];
    size_t consumed = 0xbad, hl, orig_payload, orig_hdr;
    uint64_t flen = 0, orig_flen = 0;
    int r = wt__settings_inject(in, n, out, sizeof out, &consumed, proto_offer(server));
    memset(st, 0, sizeof *st);
    REQUIRE(r > 0);
    CHECK_EQ_INT(consumed, frame_len);
    CHECK_EQ_INT(out[0], 0x00);
    CHECK_EQ_INT(out[1], 0x04);
    REQUIRE((hl = wt__varint_get(out + 2, (size_t)r - 2, &flen)) > 0);
    CHECK_EQ_INT(2 + hl + flen, r); /* the length covers exactly what follows */
    /* the original pairs come first, unchanged; ours follow (our inputs
       have 1-byte stream and frame types) */
    orig_hdr = 2 + wt__varint_get(in + 2, n - 2, &orig_flen);
    orig_payload = (size_t)orig_flen;
    CHECK(flen > orig_payload);
    CHECK(memcmp(out + 2 + hl, in + orig_hdr, orig_payload) == 0);
    CHECK_EQ_INT(wt__settings_parse(out + 2 + hl, (size_t)flen, st), WT_OK);
}

WT_TEST(proto_settings_inject) {
    /* nghttp3-like server SETTINGS: QPACK capacity, blocked streams, CONNECT, datagrams */
    static const uint64_t pairs[] = {0x01, 4096, 0x07, 100, 0x08, 1, 0x33, 1};
    uint8_t in[128];
    size_t n = proto_settings_frame(in, pairs, WT__COUNTOF(pairs)), frame_len = n;
    wt__wt_settings st;
    /* the next frame on the stream (a GOAWAY) is not consumed */
    in[n++] = 0x07, in[n++] = 0x01, in[n++] = 0x00;

    proto_inject_and_parse(in, n, frame_len, 1, &st);
    CHECK(st.seen);
    CHECK(st.wt_draft02);
    CHECK(st.wt_enabled);
    CHECK(st.datagram);
    CHECK(st.connect);
    CHECK(st.max_sessions == 16);

    CHECK(st.init_max_data == 1 << 20);
    CHECK(st.init_max_streams_bidi == 100);
    CHECK(st.init_max_streams_uni == 50);

    /* an auto-dialect client: both enables and its limits, no max_sessions */
    proto_inject_and_parse(in, n, frame_len, 0, &st);
    CHECK(st.wt_draft02);
    CHECK(st.wt_enabled);
    CHECK(st.datagram);
    CHECK(st.connect); /* from the original pairs */
    CHECK(st.max_sessions == 0);
    CHECK(WT__SETTINGS_FC(&st));
}

WT_TEST(proto_settings_offer_by_dialect) {
    wt__ep ep;
    wt__settings_offer o;
    memset(&ep, 0, sizeof ep);
    ep.lim.max_sessions = 16, ep.lim.session_max_data = 4096;
    ep.lim.session_max_streams_bidi = 10, ep.lim.session_max_streams_uni = 20;
    ep.server = 1;
    ep.dialect = WT_DIALECT_DRAFT02; /* ignored by a server: it offers everything */
    wt__settings_offer_of(&ep, &o);
    CHECK(o.draft02 && o.latest && o.max_sessions == 16 && o.max_data == 4096);
    CHECK(o.max_streams_bidi == 10 && o.max_streams_uni == 20);
    ep.server = 0;
    ep.dialect = WT_DIALECT_AUTO;
    wt__settings_offer_of(&ep, &o);
    CHECK(o.draft02 && o.latest && o.max_sessions == 0 && o.max_data == 4096);
    ep.dialect = WT_DIALECT_DRAFT02;
    wt__settings_offer_of(&ep, &o);
    CHECK(o.draft02 && !o.latest && o.max_data == 0 && o.max_streams_bidi == 0 && o.max_streams_uni == 0);
    ep.dialect = WT_DIALECT_LATEST;
    wt__settings_offer_of(&ep, &o);
    CHECK(!o.draft02 && o.latest && o.max_data == 4096 && o.max_streams_uni == 20);
}

WT_TEST(proto_settings_inject_adds_datagram) {
    /* an empty SETTINGS frame: everything WebTransport needs comes from us,
       including a datagram setting (0xffd277) */
    uint8_t in[8];
    size_t n = proto_settings_frame(in, NULL, 0);
    wt__wt_settings st;
    CHECK_EQ_INT(n, 3);
    proto_inject_and_parse(in, n, n, 1, &st);
    CHECK(st.datagram);
    CHECK(st.wt_draft02);
    CHECK(st.wt_enabled);
    CHECK(!st.connect);
    CHECK(st.max_sessions == 16);
}

WT_TEST(proto_settings_inject_errors) {
    static const uint64_t pairs[] = {0x01, 4096, 0x07, 100, 0x08, 1, 0x33, 1};
    uint8_t in[128], out[256];
    size_t n = proto_settings_frame(in, pairs, WT__COUNTOF(pairs)), k, consumed;
    /* an incomplete frame, from empty to one byte short: wait for more */
    for (k = 0; k < n; k++) {
        consumed = 0xbad;
        CHECK_EQ_INT(wt__settings_inject(in, k, out, sizeof out, &consumed, proto_offer(1)), 0);
    }
    /* output too small for the rewritten frame */
    CHECK(wt__settings_inject(in, n, out, n, &consumed, proto_offer(1)) < 0);
    /* not a control stream (stream type 0x01 = push) */
    in[0] = 0x01;
    CHECK(wt__settings_inject(in, n, out, sizeof out, &consumed, proto_offer(1)) < 0);
    /* a control stream not starting with SETTINGS (0x07 = GOAWAY) */
    in[0] = 0x00, in[1] = 0x07;
    CHECK(wt__settings_inject(in, n, out, sizeof out, &consumed, proto_offer(1)) < 0);
}

WT_TEST(proto_settings_parse) {
    /* GREASE ids (0x1f * N + 0x21) and unknown ids are skipped; values other
       than 1 do not enable anything */
    static const uint64_t pairs[] = {0x1f * 7 + 0x21, 1, WT__H3_SETTINGS_WT_ENABLE_DRAFT02, 1,
                                     0x1fULL * 1000000 + 0x21, 123456789, WT__H3_SETTINGS_WT_MAX_SESSIONS, 3,
                                     0x2b61, 65536, WT__H3_SETTINGS_WT_ENABLED, 2,
                                     WT__H3_SETTINGS_ENABLE_CONNECT, 1};
    uint8_t p[128];
    size_t n = 0, i;
    wt__wt_settings st;
    for (i = 0; i < WT__COUNTOF(pairs); i++) n += wt__varint_put(p + n, pairs[i]);
    CHECK_EQ_INT(wt__settings_parse(p, n, &st), WT_OK);
    CHECK(st.seen);
    CHECK(st.wt_draft02);
    CHECK(!st.wt_enabled); /* 2 is not 1 */
    CHECK(!st.datagram);
    CHECK(st.connect);
    CHECK(st.max_sessions == 3);

    /* the empty payload is a valid SETTINGS frame */
    CHECK_EQ_INT(wt__settings_parse(p, 0, &st), WT_OK);
    CHECK(st.seen && !st.wt_draft02 && !st.connect && st.max_sessions == 0);

    /* the draft-04 datagram id alone counts */
    n = wt__varint_put(p, WT__H3_SETTINGS_H3_DATAGRAM_DRAFT04);
    n += wt__varint_put(p + n, 1);
    CHECK_EQ_INT(wt__settings_parse(p, n, &st), WT_OK);
    CHECK(st.datagram);
}

WT_TEST(proto_settings_parse_truncated) {
    /* 0x01 = 4096 (1 + 2 bytes), 0x2b603742 = 1 (4 + 1 bytes) */
    uint8_t p[16];
    size_t n = 0, pair1, k;
    wt__wt_settings st;
    n += wt__varint_put(p + n, 0x01);
    n += wt__varint_put(p + n, 4096);
    pair1 = n;
    n += wt__varint_put(p + n, WT__H3_SETTINGS_WT_ENABLE_DRAFT02);
    n += wt__varint_put(p + n, 1);
    CHECK_EQ_INT(wt__settings_parse(p, n, &st), WT_OK);
    CHECK(st.wt_draft02);
    /* a payload ending inside a pair (id cut, value missing, value cut) */
    for (k = 1; k < n; k++) {
        if (k == pair1) continue; /* a whole first pair is valid */
        CHECK_EQ_INT(wt__settings_parse(p, k, &st), WT_ERR_PROTOCOL);
    }
    CHECK_EQ_INT(wt__settings_parse(p, pair1, &st), WT_OK);
}

/* ---------------------------------------------------------------- 5. send buffer */

/* The model of a send buffer: bytes [0, appended) were appended, [0, sent)
   handed to the transport, [0, acked) acknowledged. */
typedef struct proto_sb_model {
    size_t appended, sent, acked;
} proto_sb_model;

static void proto_sb_check_counts(const wt__sendbuf *b, const proto_sb_model *m) {
    CHECK_EQ_INT(b->stored, m->appended - m->acked);
    CHECK_EQ_INT(b->unsent, m->appended - m->sent);
}

/* Peeks with room for max vecs and checks that they continue at byte
   m->sent, in order, without gaps. */
static void proto_sb_check_peek(const wt__sendbuf *b, const proto_sb_model *m, size_t max) {
    ngtcp2_vec v[8];
    size_t nv = wt__sendbuf_peek(b, v, max), i, j, pos = m->sent, bad = 0;
    REQUIRE(nv <= max);
    for (i = 0; i < nv; i++) {
        CHECK(v[i].len > 0);
        for (j = 0; j < v[i].len; j++)
            if (v[i].base[j] != proto_pattern(pos + j) && !bad++)
                printf("    peek: vec %zu byte %zu (stream offset %zu) is wrong\n", i, j, pos + j);
        pos += v[i].len;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(pos <= m->appended);
    /* with room left over, the vecs hold every unsent byte */
    if (nv < max) CHECK_EQ_INT(pos, m->appended);
    if (m->sent < m->appended) CHECK(nv > 0);
}

static void proto_sb_append(wt__sendbuf *b, proto_sb_model *m, size_t n) {
    static uint8_t piece[70001];
    size_t i;
    REQUIRE(n <= sizeof piece);
    for (i = 0; i < n; i++) piece[i] = proto_pattern(m->appended + i);
    CHECK_EQ_INT(wt__sendbuf_append(NULL, b, piece, n), WT_OK);
    m->appended += n;
}

static void proto_sb_send(wt__sendbuf *b, proto_sb_model *m, size_t n) {
    if (n > m->appended - m->sent) n = m->appended - m->sent;
    wt__sendbuf_mark_sent(b, n);
    m->sent += n;
}

static void proto_sb_ack(wt__sendbuf *b, proto_sb_model *m, size_t n) {
    if (n > m->sent - m->acked) n = m->sent - m->acked;
    wt__sendbuf_ack(NULL, b, n);
    m->acked += n;
}

#define PROTO_SB_TOTAL 100000

WT_TEST(proto_sendbuf_phases) {
    /* odd sizes, some larger than a 16 KiB chunk, one larger than 64 KiB */
    static const size_t pieces[] = {1, 3, 777, 16383, 16385, 5, 70001, 4097, 9};
    static const size_t sends[] = {1, 7, 999, 16381, 3, 20001, 333};
    static const size_t acks[] = {5, 1, 13, 40009, 7, 11111};
    wt__sendbuf b;
    proto_sb_model m = {0, 0, 0};
    size_t i;
    memset(&b, 0, sizeof b);
    for (i = 0; m.appended < PROTO_SB_TOTAL; i++) {
        size_t n = pieces[i % WT__COUNTOF(pieces)];
        proto_sb_append(&b, &m, WT__MIN(n, PROTO_SB_TOTAL - m.appended));
        proto_sb_check_counts(&b, &m);
    }
    proto_sb_check_peek(&b, &m, 8);
    proto_sb_check_peek(&b, &m, 1);
    /* send in odd steps and acknowledge behind them */
    for (i = 0; m.sent < m.appended; i++) {
        int before = wt_test_failed_checks;
        proto_sb_send(&b, &m, sends[i % WT__COUNTOF(sends)]);
        proto_sb_check_counts(&b, &m);
        proto_sb_check_peek(&b, &m, 8);
        proto_sb_check_peek(&b, &m, 2);
        if (i % 2) {
            proto_sb_ack(&b, &m, acks[i % WT__COUNTOF(acks)]);
            proto_sb_check_counts(&b, &m);
            proto_sb_check_peek(&b, &m, 8);
        }
        PROTO_CONTEXT(before, "step %zu: sent %zu, acked %zu", i, m.sent, m.acked);
        if (wt_test_failed_checks != before) break;
    }
    for (i = 0; m.acked < m.appended; i++) {
        proto_sb_ack(&b, &m, acks[i % WT__COUNTOF(acks)]);
        proto_sb_check_counts(&b, &m);
    }
    CHECK_EQ_INT(b.stored, 0);
    CHECK_EQ_INT(b.unsent, 0);
    /* empty, then reused: the next peek starts with the new bytes */
    proto_sb_check_peek(&b, &m, 8);
    proto_sb_append(&b, &m, 12345);
    proto_sb_check_counts(&b, &m);
    proto_sb_check_peek(&b, &m, 8);
    wt__sendbuf_free(NULL, &b);
}

WT_TEST(proto_sendbuf_interleaved) {
    /* appends, sends and acks in a random (fixed-seed) order, so appends land
       while the send position sits at every kind of chunk boundary */
    uint32_t seed = 20240601;
    wt__sendbuf b;
    proto_sb_model m = {0, 0, 0};
    int step, start = wt_test_failed_checks;
    memset(&b, 0, sizeof b);
    for (step = 0; step < 4000 && wt_test_failed_checks == start; step++) {
        uint32_t r = proto_lcg(&seed);
        size_t n = 1 + 2 * (proto_lcg(&seed) % (r % 7 == 0 ? 20000 : 600)); /* odd sizes */
        int before = wt_test_failed_checks;
        switch (r % 3) {
        case 0:
            if (m.appended < 3 * PROTO_SB_TOTAL) proto_sb_append(&b, &m, n);
            break;
        case 1: proto_sb_send(&b, &m, n); break;
        default: proto_sb_ack(&b, &m, n); break;
        }
        proto_sb_check_counts(&b, &m);
        proto_sb_check_peek(&b, &m, 8);
        proto_sb_check_peek(&b, &m, 1);
        PROTO_CONTEXT(before, "step %d: appended %zu, sent %zu, acked %zu", step, m.appended, m.sent, m.acked);
    }
    proto_sb_send(&b, &m, m.appended);
    proto_sb_ack(&b, &m, m.appended);
    CHECK_EQ_INT(b.stored, 0);
    CHECK(m.appended > PROTO_SB_TOTAL);
    wt__sendbuf_free(NULL, &b);
}

WT_TEST(proto_sendbuf_chunk_boundaries) {
    /* Appends that exactly fill a chunk and sends that stop exactly at its
       end, then more appends: the send position has to move on to the new
       chunk (and to a recycled one once everything is acknowledged). */
    wt__sendbuf b;
    proto_sb_model m = {0, 0, 0};
    int round, start = wt_test_failed_checks;
    memset(&b, 0, sizeof b);
    for (round = 0; round < 4 && wt_test_failed_checks == start; round++) {
        proto_sb_append(&b, &m, WT__CHUNK_SIZE);
        proto_sb_send(&b, &m, WT__CHUNK_SIZE);
        proto_sb_check_counts(&b, &m);
        proto_sb_check_peek(&b, &m, 8); /* nothing unsent: no vecs */
        proto_sb_append(&b, &m, 101);
        proto_sb_check_counts(&b, &m);
        proto_sb_check_peek(&b, &m, 8);
        proto_sb_append(&b, &m, 2 * WT__CHUNK_SIZE + 1);
        proto_sb_send(&b, &m, WT__CHUNK_SIZE - 1); /* ends inside a chunk */
        proto_sb_check_peek(&b, &m, 8);
        proto_sb_ack(&b, &m, WT__CHUNK_SIZE + 7);
        proto_sb_check_counts(&b, &m);
        proto_sb_check_peek(&b, &m, 2);
        if (round % 2) { /* drain completely: the buffer restarts empty */
            proto_sb_send(&b, &m, m.appended);
            proto_sb_ack(&b, &m, m.appended);
            CHECK_EQ_INT(b.stored, 0);
        }
        PROTO_CONTEXT(start, "round %d: appended %zu, sent %zu, acked %zu", round, m.appended, m.sent, m.acked);
    }
    wt__sendbuf_free(NULL, &b);
}

static size_t proto_sb_chunks(const wt__sendbuf *b) {
    const wt__chunk *c;
    size_t n = 0;
    for (c = b->head; c; c = c->next) n++;
    return n;
}

WT_TEST(proto_sendbuf_releases_acked_chunks) {
    /* Memory follows the acknowledgements: a chunk is released as soon as
       all of it is acknowledged, even when that takes several acks. */
    wt__sendbuf b;
    proto_sb_model m = {0, 0, 0};
    memset(&b, 0, sizeof b);
    proto_sb_append(&b, &m, WT__CHUNK_SIZE);
    proto_sb_append(&b, &m, WT__CHUNK_SIZE);
    proto_sb_append(&b, &m, WT__CHUNK_SIZE);
    REQUIRE(proto_sb_chunks(&b) == 3);
    proto_sb_send(&b, &m, 3 * WT__CHUNK_SIZE);
    proto_sb_ack(&b, &m, 5001);
    proto_sb_ack(&b, &m, 5001);
    CHECK_EQ_INT(proto_sb_chunks(&b), 3);
    proto_sb_ack(&b, &m, WT__CHUNK_SIZE - 10002 + 3); /* the first chunk and 3 bytes of the second */
    CHECK_EQ_INT(proto_sb_chunks(&b), 2);
    proto_sb_ack(&b, &m, WT__CHUNK_SIZE - 4);
    CHECK_EQ_INT(proto_sb_chunks(&b), 2); /* one byte of the second chunk is still unacknowledged */
    proto_sb_ack(&b, &m, 1);
    CHECK_EQ_INT(proto_sb_chunks(&b), 1);
    proto_sb_check_counts(&b, &m);
    wt__sendbuf_free(NULL, &b);
}

static size_t proto_sb_spares(const wt__sendbuf *b) {
    const wt__chunk *c;
    size_t n = 0;
    for (c = b->spare; c; c = c->next) n++;
    return n;
}

WT_TEST(proto_sendbuf_spares_reused_then_released) {
    /* A bulk sender's acknowledged chunks are kept (at most
       WT__CHUNK_SPARES) and refilled by its next appends instead of a free
       and a malloc; once everything is acknowledged they go. */
    wt__sendbuf b;
    proto_sb_model m = {0, 0, 0};
    const wt__chunk *first;
    int i;
    memset(&b, 0, sizeof b);
    /* small chunks never become spares */
    proto_sb_append(&b, &m, 100);
    proto_sb_append(&b, &m, WT__CHUNK_FIRST); /* fills the first chunk, starts a 2 KiB one */
    proto_sb_send(&b, &m, m.appended);
    proto_sb_ack(&b, &m, WT__CHUNK_FIRST);
    CHECK_EQ_INT(proto_sb_chunks(&b), 1);
    CHECK_EQ_INT(proto_sb_spares(&b), 0);
    proto_sb_ack(&b, &m, m.sent - m.acked);
    /* WT__CHUNK_SPARES + 4 chunks of 64 KiB, all but the last
       acknowledged: WT__CHUNK_SPARES kept, the others freed */
    for (i = 0; i < WT__CHUNK_SPARES + 4; i++) proto_sb_append(&b, &m, 4 * WT__CHUNK_SIZE);
    first = b.head;
    proto_sb_send(&b, &m, m.appended);
    proto_sb_ack(&b, &m, m.appended - m.acked - 1);
    CHECK_EQ_INT(wt__sendbuf_spares(&b), WT__CHUNK_SPARES);
    CHECK_EQ_INT(proto_sb_spares(&b), WT__CHUNK_SPARES);
    proto_sb_check_counts(&b, &m);
    /* the next appends take spares (the most recently acknowledged first)
       and the bytes come out right */
    proto_sb_append(&b, &m, 4 * WT__CHUNK_SIZE + 5); /* the tail is full: one spare, then 5 bytes in another */
    CHECK_EQ_INT(proto_sb_spares(&b), WT__CHUNK_SPARES - 2);
    CHECK(b.tail != first);
    proto_sb_append(&b, &m, 3 * WT__CHUNK_SIZE); /* fits the second spare's room */
    CHECK_EQ_INT(proto_sb_spares(&b), WT__CHUNK_SPARES - 2);
    proto_sb_check_peek(&b, &m, 8);
    proto_sb_send(&b, &m, 1000);
    proto_sb_ack(&b, &m, 1);
    /* the last old chunk's last byte: it joins the spares (bytes still held) */
    CHECK_EQ_INT(proto_sb_spares(&b), WT__CHUNK_SPARES - 1);
    proto_sb_check_peek(&b, &m, 8);
    /* everything acknowledged: the spares are freed (ASan sees them go) */
    proto_sb_send(&b, &m, m.appended);
    proto_sb_ack(&b, &m, m.appended - m.acked);
    CHECK_EQ_INT(b.stored, 0);
    CHECK_EQ_INT(proto_sb_spares(&b), 0);
    CHECK_EQ_INT(wt__sendbuf_spares(&b), 0);
    /* and freeing a buffer that holds spares frees them too */
    proto_sb_append(&b, &m, 4 * WT__CHUNK_SIZE);
    proto_sb_append(&b, &m, 4 * WT__CHUNK_SIZE);
    proto_sb_send(&b, &m, m.appended);
    proto_sb_ack(&b, &m, 4 * WT__CHUNK_SIZE + 7);
    CHECK_EQ_INT(proto_sb_spares(&b), 1);
    wt__sendbuf_free(NULL, &b);
    CHECK(b.spare == NULL);
}

/* Varints need not use their shortest form: the reader must advance by the
   bytes really used, or it loses its place and drops what follows. */
WT_TEST(proto_capsule_feed_long_varint_forms) {
    static const uint8_t drain8_then_close[] = {0xc0, 0, 0, 0, 0, 0, 0x78, 0xae, 0x00, /* DRAIN, 8-byte type */
                                                0x68, 0x43, 0x04, 0, 0, 0, 1};       /* CLOSE code 1 */
    static const uint8_t close_len2_then_drain[] = {0x68, 0x43, 0x40, 0x04, 0, 0, 0, 9, /* CLOSE, 2-byte length */
                                                    0x80, 0x00, 0x78, 0xae, 0x00};     /* DRAIN */
    proto_capsules_seen seen;
    CHECK_EQ_INT(proto_feed(drain8_then_close, sizeof drain8_then_close, 1, 3, &seen), WT_OK);
    CHECK_EQ_INT(seen.count, 2);
    CHECK(seen.types[0] == WT__CAPSULE_DRAIN && seen.types[1] == WT__CAPSULE_CLOSE);
    CHECK(seen.close_code == 1);
    CHECK_EQ_INT(proto_feed(close_len2_then_drain, sizeof close_len2_then_drain, 64, 3, &seen), WT_OK);
    CHECK_EQ_INT(seen.count, 2);
    CHECK(seen.types[0] == WT__CAPSULE_CLOSE && seen.types[1] == WT__CAPSULE_DRAIN);
    CHECK(seen.close_code == 9);
}

/* ---------------------------------------------------------------- 6. URLs */

static void proto_check_url(const char *url, const char *want_host, int want_port, const char *want_path) {
    char host[64];
    uint16_t port = 0;
    const char *path = NULL;
    int before = wt_test_failed_checks;
    CHECK_EQ_INT(wt__parse_url(url, host, sizeof host, &port, &path), WT_OK);
    CHECK(strcmp(host, want_host) == 0);
    CHECK_EQ_INT(port, want_port);
    CHECK(path && strcmp(path, want_path) == 0);
    PROTO_CONTEXT(before, "URL %s", url);
}

WT_TEST(proto_url_parse) {
    static const char *const bad[] = {"http://h/",       "https://",       "https://:80",  "https://h:0",
                                      "https://h:65536", "https://h:12x/", "https://[::1", "https://[]:80/",
                                      "https://h:/",     "HTTPS//h",       "",
                                      "https://h:+80/",  "https://h: 80/", "https://h?x",  "https://h#f",
                                      "https://u@h/"};
    char host[8];
    uint16_t port;
    const char *path;
    size_t i;
    proto_check_url("https://h:1/p", "h", 1, "/p");
    proto_check_url("https://h", "h", 443, "/");
    proto_check_url("https://[::1]:4433/x?y=1", "::1", 4433, "/x?y=1");
    proto_check_url("https://[::1]", "::1", 443, "/");
    proto_check_url("https://example.com:65535/a/b", "example.com", 65535, "/a/b");
    for (i = 0; i < WT__COUNTOF(bad); i++) {
        int rv = wt__parse_url(bad[i], host, sizeof host, &port, &path);
        CHECK_EQ_INT(rv, WT_ERR_URL);
        if (rv != WT_ERR_URL) printf("      accepted: \"%s\"\n", bad[i]);
    }
    CHECK_EQ_INT(wt__parse_url(NULL, host, sizeof host, &port, &path), WT_ERR_URL);
    /* a host that does not fit (with its terminator) is refused, one that does is not */
    CHECK_EQ_INT(wt__parse_url("https://12345678/", host, sizeof host, &port, &path), WT_ERR_URL);
    CHECK_EQ_INT(wt__parse_url("https://1234567/", host, sizeof host, &port, &path), WT_OK);
    CHECK(strcmp(host, "1234567") == 0);
}
