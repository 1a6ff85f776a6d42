/* test_hkdf.c - ngtcp2's wolfSSL glue derives keys through wolfCrypt's
   wc_HKDF_* (tools/patches/ngtcp2-wolfssl-hkdf.patch): the results must be
   RFC 5869's and RFC 9001's, and the same as wolfSSL's EVP path
   (wolfSSL_quic_hkdf*, what the unpatched glue calls) for every digest and
   for empty salts and infos; a digest the patch does not map (SHA-1) takes
   the EVP path. The unpatched and patched builds talking to
   each other is wt_impl_tests/hkdf_interop_test.sh. Also here: the other
   per-handshake costs wt.h itself had (its random-byte pool). */

static size_t hkdf_unhex(const char *hex, uint8_t *out) {
    size_t n = 0;
    while (hex[0] && hex[1]) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

/* RFC 5869 appendix A, test cases 1 (salt and info) and 3 (both empty) */
WT_TEST(hkdf_glue_rfc5869_vectors) {
    uint8_t ikm[22], salt[13], info[10], prk[32], okm[42], want[64];
    ngtcp2_crypto_md md;
    size_t i;
    ngtcp2_crypto_md_init(&md, (void *)wolfSSL_EVP_sha256());
    memset(ikm, 0x0b, sizeof ikm);
    for (i = 0; i < sizeof salt; i++) salt[i] = (uint8_t)i;
    for (i = 0; i < sizeof info; i++) info[i] = (uint8_t)(0xf0 + i);

    CHECK(ngtcp2_crypto_hkdf_extract(prk, &md, ikm, sizeof ikm, salt, sizeof salt) == 0);
    hkdf_unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", want);
    CHECK(memcmp(prk, want, 32) == 0);
    CHECK(ngtcp2_crypto_hkdf_expand(okm, sizeof okm, &md, prk, sizeof prk, info, sizeof info) == 0);
    hkdf_unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865", want);
    CHECK(memcmp(okm, want, 42) == 0);
    memset(okm, 0, sizeof okm);
    CHECK(ngtcp2_crypto_hkdf(okm, sizeof okm, &md, ikm, sizeof ikm, salt, sizeof salt, info, sizeof info) == 0);
    CHECK(memcmp(okm, want, 42) == 0);

    CHECK(ngtcp2_crypto_hkdf_extract(prk, &md, ikm, sizeof ikm, NULL, 0) == 0);
    hkdf_unhex("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04", want);
    CHECK(memcmp(prk, want, 32) == 0);
    CHECK(ngtcp2_crypto_hkdf_expand(okm, sizeof okm, &md, prk, sizeof prk, NULL, 0) == 0);
    hkdf_unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8", want);
    CHECK(memcmp(okm, want, 42) == 0);
    memset(okm, 0, sizeof okm);
    CHECK(ngtcp2_crypto_hkdf(okm, sizeof okm, &md, ikm, sizeof ikm, (const uint8_t *)"", 0, NULL, 0) == 0);
    CHECK(memcmp(okm, want, 42) == 0);
}

/* TLS 1.3's HKDF-Expand-Label (RFC 8446 7.1) with an empty context */
static int hkdf_label(uint8_t *out, size_t outlen, const ngtcp2_crypto_md *md, const uint8_t *secret,
                      const char *label) {
    uint8_t info[64];
    size_t n = strlen(label);
    info[0] = (uint8_t)(outlen >> 8), info[1] = (uint8_t)outlen;
    info[2] = (uint8_t)(6 + n);
    memcpy(info + 3, "tls13 ", 6);
    memcpy(info + 9, label, n);
    info[9 + n] = 0;
    return ngtcp2_crypto_hkdf_expand(out, outlen, md, secret, 32, info, 10 + n);
}

/* RFC 9001 appendix A.1: the client's Initial keys for DCID 8394c8f03e515708 */
WT_TEST(hkdf_glue_rfc9001_initial_keys) {
    uint8_t salt[20], dcid[8], initial[32], client[32], out[16], want[32];
    ngtcp2_crypto_md md;
    ngtcp2_crypto_md_init(&md, (void *)wolfSSL_EVP_sha256());
    hkdf_unhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a", salt);
    hkdf_unhex("8394c8f03e515708", dcid);
    REQUIRE(ngtcp2_crypto_hkdf_extract(initial, &md, dcid, sizeof dcid, salt, sizeof salt) == 0);
    hkdf_unhex("7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44", want);
    CHECK(memcmp(initial, want, 32) == 0);
    REQUIRE(hkdf_label(client, 32, &md, initial, "client in") == 0);
    hkdf_unhex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea", want);
    CHECK(memcmp(client, want, 32) == 0);
    CHECK(hkdf_label(out, 16, &md, client, "quic key") == 0);
    hkdf_unhex("1f369613dd76d5467730efcbe3b1a22d", want);
    CHECK(memcmp(out, want, 16) == 0);
    CHECK(hkdf_label(out, 12, &md, client, "quic iv") == 0);
    hkdf_unhex("fa044b2f42a3fd3b46fb255c", want);
    CHECK(memcmp(out, want, 12) == 0);
    CHECK(hkdf_label(out, 16, &md, client, "quic hp") == 0);
    hkdf_unhex("9f50449e04a0e810283a1e9933adedd2", want);
    CHECK(memcmp(out, want, 16) == 0);
}

/* The glue against wolfSSL's own EVP-based HKDF for SHA-256/384/512 (and
   SHA-1, the fallback), with
   empty, NULL, short and long salts and infos, short and long secrets, and outputs up to
   a few hash lengths. A negative check beside it: a changed info changes
   the output. */
WT_TEST(hkdf_glue_matches_wolfssl_evp) {
    const WOLFSSL_EVP_MD *mds[4];
    uint8_t in[300], a[200], b[200], e[200];
    static const size_t lens[] = {0, 1, 13, 32, 48, 64, 65, 200};
    size_t m, nmd = 3, i, j, k, compared = 0, different = 0;
    mds[0] = wolfSSL_EVP_sha256();
    mds[1] = wolfSSL_EVP_sha384();
    mds[2] = wolfSSL_EVP_sha512();
#ifndef NO_SHA
    mds[nmd++] = wolfSSL_EVP_sha1(); /* not wolfCrypt-mapped: the patch's EVP fallback */
#endif
    for (i = 0; i < sizeof in; i++) in[i] = (uint8_t)(i * 7 + 3);
    for (m = 0; m < nmd; m++) {
        ngtcp2_crypto_md md;
        size_t hl;
        ngtcp2_crypto_md_init(&md, (void *)mds[m]);
        hl = ngtcp2_crypto_md_hashlen(&md);
        for (i = 1; i < WT__COUNTOF(lens); i++) {     /* secret (EVP refuses an empty one) */
            for (j = 0; j < WT__COUNTOF(lens); j++) { /* salt (extract) or info (expand) */
                const uint8_t *salt = lens[j] ? in + 100 : NULL;
                int ra, rb;
                /* extract */
                memset(a, 1, sizeof a), memset(b, 2, sizeof b);
                ra = ngtcp2_crypto_hkdf_extract(a, &md, in, lens[i], salt, lens[j]);
                rb = wolfSSL_quic_hkdf_extract(b, mds[m], in, lens[i], salt, lens[j]) == WOLFSSL_SUCCESS ? 0 : -1;
                CHECK(ra == 0 && rb == 0);
                CHECK(memcmp(a, b, hl) == 0);
                compared++;
                for (k = 1; k < 200; k += 61) { /* output lengths 1, 62, 123, 184 */
                    memset(a, 1, sizeof a), memset(b, 2, sizeof b);
                    ra = ngtcp2_crypto_hkdf_expand(a, k, &md, in, lens[i], in + 50, lens[j]);
                    rb = wolfSSL_quic_hkdf_expand(b, k, mds[m], in, lens[i], in + 50, lens[j]) == WOLFSSL_SUCCESS
                             ? 0
                             : -1;
                    CHECK(ra == 0 && rb == 0);
                    CHECK(memcmp(a, b, k) == 0);
                    memcpy(e, a, k);
                    memset(a, 1, sizeof a), memset(b, 2, sizeof b);
                    ra = ngtcp2_crypto_hkdf(a, k, &md, in, lens[i], salt, lens[j], in + 50, lens[j]);
                    rb = wolfSSL_quic_hkdf(b, k, mds[m], in, lens[i], salt, lens[j], in + 50, lens[j]) ==
                                 WOLFSSL_SUCCESS
                             ? 0
                             : -1;
                    CHECK(ra == 0 && rb == 0);
                    CHECK(memcmp(a, b, k) == 0);
                    /* another info, another key */
                    ra = ngtcp2_crypto_hkdf_expand(b, k, &md, in, lens[i], in + 51, lens[j]);
                    CHECK(ra == 0);
                    if (lens[j] && k >= 8 && memcmp(e, b, k) != 0) different++;
                    compared += 2;
                }
            }
        }
        (void)hl;
    }
    CHECK(compared > 500);
    CHECK(different > 100);
}

/* wt__random draws WT__RAND_POOL bytes from wolfSSL's generator at a time
   (one getpid() and one DRBG call instead of one per connection ID): the
   pieces it hands out across several refills are all different, the bytes
   handed out are wiped from the pool, and a large request goes to the
   generator directly, leaving the pool as it was. */
WT_TEST(random_pool_hands_out_fresh_bytes) {
    wt__ep *ep = (wt__ep *)calloc(1, sizeof *ep);
    uint8_t piece[40][13], big[200], zero[WT__RAND_POOL];
    size_t i, j, same = 0, nonzero = 0, left;
    REQUIRE(ep != NULL);
    if (wc_InitRng(&ep->rng) != 0) {
        free(ep);
        REQUIRE(!"wc_InitRng");
    }
    memset(zero, 0, sizeof zero);
    for (i = 0; i < 40; i++) CHECK(wt__random(ep, piece[i], sizeof piece[i]) == 0); /* 520 bytes: two refills */
    for (i = 0; i < 40; i++) {
        if (memcmp(piece[i], zero, sizeof piece[i]) != 0) nonzero++;
        for (j = i + 1; j < 40; j++) same += memcmp(piece[i], piece[j], sizeof piece[i]) == 0;
    }
    CHECK(nonzero == 40);
    CHECK(same == 0);
    CHECK(ep->rand_left == 3 * WT__RAND_POOL - 40 * sizeof piece[0]);
    /* what was handed out is gone from the pool; the rest is still there */
    CHECK(memcmp(ep->rand_pool, zero, WT__RAND_POOL - ep->rand_left) == 0);
    CHECK(memcmp(ep->rand_pool + WT__RAND_POOL - ep->rand_left, zero, ep->rand_left) != 0);
    left = ep->rand_left;
    CHECK(wt__random(ep, big, sizeof big) == 0);
    CHECK(ep->rand_left == left);
    CHECK(memcmp(big, zero, sizeof big) != 0);
    wc_FreeRng(&ep->rng);
    free(ep);
}
