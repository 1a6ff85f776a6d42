/* test_util.c - varints, buffers, errors. */

WT_TEST(varint_roundtrip_all_lengths) {
    static const uint64_t values[] = {0, 1, 63, 64, 16383, 16384, 1073741823, 1073741824,
                                      0x2b603742, WT__VARINT_MAX};
    static const size_t lens[] = {1, 1, 1, 2, 2, 4, 4, 8, 4, 8};
    size_t i;
    for (i = 0; i < WT__COUNTOF(values); i++) {
        uint8_t b[8];
        uint64_t v = 0;
        size_t n = wt__varint_put(b, values[i]);
        CHECK_EQ_INT(n, lens[i]);
        CHECK_EQ_INT(wt__varint_len(values[i]), lens[i]);
        CHECK_EQ_INT(wt__varint_get(b, n, &v), n);
        CHECK(v == values[i]);
        /* every shorter prefix must report "need more" */
        while (n-- > 0) CHECK_EQ_INT(wt__varint_get(b, n, &v), 0);
    }
}

WT_TEST(varint_rfc9000_examples) {
    /* RFC 9000 appendix A.1 */
    static const uint8_t e8[] = {0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c};
    static const uint8_t e4[] = {0x9d, 0x7f, 0x3e, 0x7d};
    static const uint8_t e2[] = {0x7b, 0xbd};
    uint64_t v;
    CHECK_EQ_INT(wt__varint_get(e8, 8, &v), 8);
    CHECK(v == 151288809941952652ULL);
    CHECK_EQ_INT(wt__varint_get(e4, 4, &v), 4);
    CHECK(v == 494878333ULL);
    CHECK_EQ_INT(wt__varint_get(e2, 2, &v), 2);
    CHECK(v == 15293);
}

WT_TEST(buf_append_grows_and_keeps_order) {
    wt__buf b = {0};
    uint8_t chunk[1000];
    int i, bad = 0;
    for (i = 0; i < 100; i++) {
        memset(chunk, i, sizeof chunk);
        REQUIRE(wt__buf_append(NULL, &b, chunk, sizeof chunk) == WT_OK);
    }
    CHECK_EQ_INT(b.len, 100000);
    CHECK(b.cap >= b.len);
    for (i = 0; i < 100000; i++) bad |= b.data[i] != (uint8_t)(i / 1000);
    CHECK(!bad);
    wt__buf_free(NULL, &b);
    CHECK(b.data == NULL && b.len == 0);
}

WT_TEST(strerror_names_every_code) {
    int e;
    for (e = WT_ERR_TRUNCATED; e <= 0; e++) CHECK(strcmp(wt_strerror(e), "unknown error") != 0);
    CHECK(strcmp(wt_strerror(-999), "unknown error") == 0);
}
