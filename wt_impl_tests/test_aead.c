/* test_aead.c - packet protection (src/wt_aead.c): wt.h's encrypt, decrypt
   and hp_mask callbacks take AES-GCM straight to wolfCrypt and leave the
   rest to ngtcp2's glue. Checked here: RFC 9001 appendix A's packets
   through the callbacks, the same bytes as the glue for random inputs
   (in place too) and the same refusals, connections where both sides, or
   only one, use them (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305, a key
   update each), and the glue's path when the self-check fails.
   Uses hkdf_unhex and hkdf_label of test_hkdf.c, and test_wt.c's echo
   server and client. */

/* ---------------------------------------------------------------- keys */
typedef struct aead_keys {
    ngtcp2_crypto_aead aead;
    ngtcp2_crypto_cipher hp;
    ngtcp2_crypto_aead_ctx enc, dec;
    ngtcp2_crypto_cipher_ctx hpc;
    uint8_t iv[12];
} aead_keys;

static const WOLFSSL_EVP_CIPHER *aead_cipher(int suite) {
    return suite == 0x1301   ? wolfSSL_EVP_aes_128_gcm()
           : suite == 0x1302 ? wolfSSL_EVP_aes_256_gcm()
                             : wolfSSL_EVP_chacha20_poly1305();
}

static size_t aead_keylen(int suite) { return suite == 0x1301 ? 16 : 32; }

/* The contexts as ngtcp2's glue makes them for a connection (its
   ngtcp2_crypto_ctx_tls and the *_init calls; the header-protection one
   has no public call, so it is made as the glue makes it). */
static int aead_keys_init(aead_keys *k, int suite, const uint8_t *key, const uint8_t *iv, const uint8_t *hp) {
    const WOLFSSL_EVP_CIPHER *hpc = suite == 0x1301   ? wolfSSL_EVP_aes_128_ecb()
                                    : suite == 0x1302 ? wolfSSL_EVP_aes_256_ecb()
                                                      : wolfSSL_EVP_chacha20();
    memset(k, 0, sizeof *k);
    k->aead.native_handle = (void *)aead_cipher(suite);
    k->aead.max_overhead = 16;
    k->hp.native_handle = (void *)hpc;
    memcpy(k->iv, iv, sizeof k->iv);
    if (ngtcp2_crypto_aead_ctx_encrypt_init(&k->enc, &k->aead, key, sizeof k->iv) != 0) return -1;
    if (ngtcp2_crypto_aead_ctx_decrypt_init(&k->dec, &k->aead, key, sizeof k->iv) != 0) return -1;
    k->hpc.native_handle = wolfSSL_quic_crypt_new(hpc, hp, NULL, 1);
    return k->hpc.native_handle ? 0 : -1;
}

static void aead_keys_free(aead_keys *k) {
    ngtcp2_crypto_aead_ctx_free(&k->enc);
    ngtcp2_crypto_aead_ctx_free(&k->dec);
    if (k->hpc.native_handle) wolfSSL_EVP_CIPHER_CTX_free((WOLFSSL_EVP_CIPHER_CTX *)k->hpc.native_handle);
    memset(k, 0, sizeof *k);
}

/* RFC 9001 5.1: key, iv and hp from a SHA-256 packet-protection secret */
static int aead_keys_from_secret(aead_keys *k, int suite, const uint8_t *secret) {
    uint8_t key[32], iv[12], hp[32];
    ngtcp2_crypto_md md;
    size_t kl = aead_keylen(suite);
    ngtcp2_crypto_md_init(&md, (void *)wolfSSL_EVP_sha256());
    if (hkdf_label(key, kl, &md, secret, "quic key") != 0 || hkdf_label(iv, 12, &md, secret, "quic iv") != 0 ||
        hkdf_label(hp, kl, &md, secret, "quic hp") != 0)
        return -1;
    return aead_keys_init(k, suite, key, iv, hp);
}

/* The Initial keys of RFC 9001 appendix A (DCID 8394c8f03e515708) */
static int aead_keys_initial(aead_keys *k, int server) {
    uint8_t salt[20], dcid[8], initial[32], secret[32];
    ngtcp2_crypto_md md;
    ngtcp2_crypto_md_init(&md, (void *)wolfSSL_EVP_sha256());
    hkdf_unhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a", salt);
    hkdf_unhex("8394c8f03e515708", dcid);
    if (ngtcp2_crypto_hkdf_extract(initial, &md, dcid, sizeof dcid, salt, sizeof salt) != 0) return -1;
    if (hkdf_label(secret, 32, &md, initial, server ? "server in" : "client in") != 0) return -1;
    return aead_keys_from_secret(k, 0x1301, secret);
}

/* ---------------------------------------------------------------- packets */
/* The callbacks under test: wt.h's (glue 0) or the glue's (glue 1), as
   wt__aead_callbacks installs them on a connection. */
static ngtcp2_callbacks aead_cbs(int glue) {
    ngtcp2_callbacks cb;
    int was = wt__aead_glue_only;
    memset(&cb, 0, sizeof cb);
    wt__aead_glue_only = glue;
    wt__aead_callbacks(&cb);
    wt__aead_glue_only = was;
    return cb;
}

static void aead_nonce(const aead_keys *k, uint64_t pn, uint8_t *nonce) {
    int i;
    memcpy(nonce, k->iv, 12);
    for (i = 0; i < 8; i++) nonce[4 + i] ^= (uint8_t)(pn >> (56 - 8 * i));
}

/* RFC 9001 5.3 and 5.4 as ngtcp2 does them: seal the payload in place
   after the header (the AAD), then mask the first byte and the packet
   number with the mask of the sample 4 bytes after the packet number's
   start. pkt holds hdrlen + payloadlen bytes and room for the tag. */
static int aead_protect(const ngtcp2_callbacks *cb, const aead_keys *k, uint8_t *pkt, size_t hdrlen, size_t pnlen,
                        uint64_t pn, size_t payloadlen) {
    uint8_t nonce[12], mask[32];
    size_t i, pnoff = hdrlen - pnlen;
    int rv;
    aead_nonce(k, pn, nonce);
    rv = cb->encrypt(pkt + hdrlen, &k->aead, &k->enc, pkt + hdrlen, payloadlen, nonce, sizeof nonce, pkt, hdrlen);
    if (rv != 0) return rv;
    if ((rv = cb->hp_mask(mask, &k->hp, &k->hpc, pkt + pnoff + 4)) != 0) return rv;
    pkt[0] ^= mask[0] & (pkt[0] & 0x80 ? 0x0f : 0x1f);
    for (i = 0; i < pnlen; i++) pkt[pnoff + i] ^= mask[1 + i];
    return 0;
}

/* The reverse, for a packet whose packet number length and value the
   test knows; the plaintext goes to out. */
static int aead_unprotect(const ngtcp2_callbacks *cb, const aead_keys *k, uint8_t *pkt, size_t len, size_t hdrlen,
                          size_t pnlen, uint64_t pn, uint8_t *out) {
    uint8_t nonce[12], mask[32];
    size_t i, pnoff = hdrlen - pnlen;
    int rv;
    if ((rv = cb->hp_mask(mask, &k->hp, &k->hpc, pkt + pnoff + 4)) != 0) return rv;
    pkt[0] ^= mask[0] & (pkt[0] & 0x80 ? 0x0f : 0x1f);
    for (i = 0; i < pnlen; i++) pkt[pnoff + i] ^= mask[1 + i];
    aead_nonce(k, pn, nonce);
    return cb->decrypt(out, &k->aead, &k->dec, pkt + hdrlen, len - hdrlen, nonce, sizeof nonce, pkt, hdrlen);
}

/* ---------------------------------------------------------------- RFC 9001 appendix A */
/* A.2: the client's CRYPTO frame, padded to 1162 bytes in a 1200-byte packet */
static const char aead_a2_crypto[] =
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff";

WT_TEST(aead_rfc9001_client_initial) {
    ngtcp2_callbacks wt = aead_cbs(0), glue = aead_cbs(1);
    aead_keys k;
    static uint8_t pkt[1200], ref[1200], plain[1200], want[64];
    size_t n;
    REQUIRE(aead_keys_initial(&k, 0) == 0);
#if WT__AEAD_DIRECT
    CHECK(wt__aead_is_direct(&k.enc, &k.hpc) && wt__aead_is_direct(&k.dec, NULL)); /* the path under test */
#endif
    memset(pkt, 0, sizeof pkt);
    n = hkdf_unhex("c300000001088394c8f03e5157080000449e00000002", pkt);
    REQUIRE(n == 22);
    CHECK_EQ_INT((int)hkdf_unhex(aead_a2_crypto, pkt + 22), 245);
    memcpy(plain, pkt, sizeof plain);
    memcpy(ref, pkt, sizeof ref);
    REQUIRE(aead_protect(&wt, &k, pkt, 22, 4, 2, 1162) == 0);
    /* the published header, its sample (the first 16 bytes sealed) and the
       tag, which covers every byte between */
    hkdf_unhex("c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b123dc9b", want);
    CHECK(memcmp(pkt, want, 38) == 0);
    hkdf_unhex("e221af44860018ab0856972e194cd934", want);
    CHECK(memcmp(pkt + 1184, want, 16) == 0);
    /* every byte as the glue makes it */
    REQUIRE(aead_protect(&glue, &k, ref, 22, 4, 2, 1162) == 0);
    CHECK(memcmp(pkt, ref, sizeof pkt) == 0);
    /* and back (the server's side of the same keys) */
    {
        static uint8_t out[1200];
        CHECK_EQ_INT(aead_unprotect(&wt, &k, pkt, sizeof pkt, 22, 4, 2, out), 0);
        CHECK(memcmp(pkt, plain, 22) == 0);
        CHECK(memcmp(out, plain + 22, 1162) == 0);
    }
    aead_keys_free(&k);
}

/* A.3: the server's Initial, all of it */
WT_TEST(aead_rfc9001_server_initial) {
    ngtcp2_callbacks wt = aead_cbs(0);
    aead_keys k;
    uint8_t pkt[200], want[200], plain[200], out[200];
    size_t n, wn;
    REQUIRE(aead_keys_initial(&k, 1) == 0);
    n = hkdf_unhex("c1000000010008f067a5502a4262b50040750001", pkt);
    REQUIRE(n == 20);
    n += hkdf_unhex("02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739"
                    "88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94"
                    "0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00"
                    "020304",
                    pkt + n);
    memcpy(plain, pkt, n);
    wn = hkdf_unhex("cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
                    "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
                    "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
                    "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
                    "2158407dd074ee",
                    want);
    REQUIRE(wn == n + 16);
    REQUIRE(aead_protect(&wt, &k, pkt, 20, 2, 1, n - 20) == 0);
    CHECK(memcmp(pkt, want, wn) == 0);
    CHECK_EQ_INT(aead_unprotect(&wt, &k, pkt, wn, 20, 2, 1, out), 0);
    CHECK(memcmp(pkt, plain, 20) == 0 && memcmp(out, plain + 20, n - 20) == 0);
    /* the same packet with its last (tag) byte changed is refused */
    memcpy(pkt, want, wn);
    pkt[wn - 1] ^= 1;
    CHECK_EQ_INT(aead_unprotect(&wt, &k, pkt, wn, 20, 2, 1, out), NGTCP2_ERR_DECRYPT);
    aead_keys_free(&k);
}

/* A.5: a ChaCha20-Poly1305 short-header packet, which wt.h leaves to the glue */
WT_TEST(aead_rfc9001_chacha20_short_header) {
    ngtcp2_callbacks wt = aead_cbs(0);
    aead_keys k;
    uint8_t secret[32], pkt[64], want[64], out[64];
    size_t wn;
    hkdf_unhex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b", secret);
    REQUIRE(aead_keys_from_secret(&k, 0x1303, secret) == 0);
    CHECK(!wt__aead_is_direct(&k.enc, NULL) && !wt__aead_is_direct(NULL, &k.hpc));
    hkdf_unhex("4200bff401", pkt);
    wn = hkdf_unhex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb", want);
    REQUIRE(aead_protect(&wt, &k, pkt, 4, 3, 654360564, 1) == 0);
    CHECK(memcmp(pkt, want, wn) == 0);
    CHECK_EQ_INT(aead_unprotect(&wt, &k, pkt, wn, 4, 3, 654360564, out), 0);
    CHECK(memcmp(pkt, "\x42\x00\xbf\xf4", 4) == 0 && out[0] == 1);
    memcpy(pkt, want, wn);
    pkt[wn - 1] ^= 0x80;
    CHECK_EQ_INT(aead_unprotect(&wt, &k, pkt, wn, 4, 3, 654360564, out), NGTCP2_ERR_DECRYPT);
    aead_keys_free(&k);
}

/* ---------------------------------------------------------------- against the glue */
static uint64_t aead_rng = 0x9e3779b97f4a7c15ULL;
static uint8_t aead_byte(void) {
    aead_rng ^= aead_rng << 13, aead_rng ^= aead_rng >> 7, aead_rng ^= aead_rng << 17;
    return (uint8_t)(aead_rng >> 24);
}
static void aead_fill(uint8_t *p, size_t n) {
    while (n--) *p++ = aead_byte();
}

/* For each suite and many random keys, nonces, AADs and sizes (1 to 1500,
   the block edges among them): wt.h's callbacks give the glue's bytes,
   into another buffer and in place; each opens what the other sealed, in
   place too; a changed tag, ciphertext or AAD byte is NGTCP2_ERR_DECRYPT
   for both, as is input shorter than a tag; the masks agree. */
WT_TEST(aead_callbacks_match_the_glue) {
    static const int suites[] = {0x1301, 0x1302, 0x1303};
    static const size_t edges[] = {1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 1162, 1200, 1452, 1500};
    ngtcp2_callbacks wt = aead_cbs(0), glue = aead_cbs(1);
    static uint8_t pt[1600], a[1600], b[1600], c[1600], o[1600];
    size_t s;
    int compared = 0, refused = 0;
    for (s = 0; s < WT__COUNTOF(suites); s++) {
        int iter;
        for (iter = 0; iter < 60; iter++) {
            aead_keys k;
            uint8_t key[32], iv[12], hp[32], nonce[12], aad[64], ma[32], mb[32];
            size_t n = iter < (int)WT__COUNTOF(edges) ? edges[iter] : (size_t)(1 + aead_byte() * 6 % 1500);
            size_t aadlen = 1 + aead_byte() % 60, flip;
            aead_fill(key, sizeof key), aead_fill(iv, sizeof iv), aead_fill(hp, sizeof hp);
            aead_fill(nonce, sizeof nonce), aead_fill(aad, sizeof aad), aead_fill(pt, n);
            REQUIRE(aead_keys_init(&k, suites[s], key, iv, hp) == 0);
            if (iter == 0) CHECK_EQ_INT(wt__aead_is_direct(&k.enc, &k.hpc), WT__AEAD_DIRECT && suites[s] != 0x1303);
            /* seal: wt.h into a, glue into b, wt.h in place in c */
            CHECK_EQ_INT(wt.encrypt(a, &k.aead, &k.enc, pt, n, nonce, 12, aad, aadlen), 0);
            CHECK_EQ_INT(glue.encrypt(b, &k.aead, &k.enc, pt, n, nonce, 12, aad, aadlen), 0);
            memcpy(c, pt, n);
            CHECK_EQ_INT(wt.encrypt(c, &k.aead, &k.enc, c, n, nonce, 12, aad, aadlen), 0);
            CHECK(memcmp(a, b, n + 16) == 0 && memcmp(a, c, n + 16) == 0);
            CHECK(memcmp(a, pt, n < 16 ? n : 16) != 0); /* (it was sealed at all) */
            compared++;
            /* open: each side's seal, and in place */
            memset(o, 0, n);
            CHECK_EQ_INT(wt.decrypt(o, &k.aead, &k.dec, b, n + 16, nonce, 12, aad, aadlen), 0);
            CHECK(memcmp(o, pt, n) == 0);
            memset(o, 0, n);
            CHECK_EQ_INT(glue.decrypt(o, &k.aead, &k.dec, a, n + 16, nonce, 12, aad, aadlen), 0);
            CHECK(memcmp(o, pt, n) == 0);
            CHECK_EQ_INT(wt.decrypt(c, &k.aead, &k.dec, c, n + 16, nonce, 12, aad, aadlen), 0);
            CHECK(memcmp(c, pt, n) == 0);
            /* refusals: a tag byte, a ciphertext byte, an AAD byte, a nonce byte */
            flip = aead_byte() % 16;
            a[n + flip] ^= 0x01;
            CHECK_EQ_INT(wt.decrypt(o, &k.aead, &k.dec, a, n + 16, nonce, 12, aad, aadlen), NGTCP2_ERR_DECRYPT);
            CHECK_EQ_INT(glue.decrypt(o, &k.aead, &k.dec, a, n + 16, nonce, 12, aad, aadlen), NGTCP2_ERR_DECRYPT);
            a[n + flip] ^= 0x01;
            a[n / 2] ^= 0x40;
            CHECK_EQ_INT(wt.decrypt(o, &k.aead, &k.dec, a, n + 16, nonce, 12, aad, aadlen), NGTCP2_ERR_DECRYPT);
            a[n / 2] ^= 0x40;
            aad[aadlen - 1] ^= 0x02;
            CHECK_EQ_INT(wt.decrypt(o, &k.aead, &k.dec, a, n + 16, nonce, 12, aad, aadlen), NGTCP2_ERR_DECRYPT);
            aad[aadlen - 1] ^= 0x02;
            nonce[11] ^= 0x04;
            CHECK_EQ_INT(wt.decrypt(o, &k.aead, &k.dec, a, n + 16, nonce, 12, aad, aadlen), NGTCP2_ERR_DECRYPT);
            nonce[11] ^= 0x04;
            refused += 4;
            /* all restored: opens again (the refusals were about the bytes) */
            CHECK_EQ_INT(wt.decrypt(o, &k.aead, &k.dec, a, n + 16, nonce, 12, aad, aadlen), 0);
            /* shorter than a tag: nothing to open */
            CHECK_EQ_INT(wt.decrypt(o, &k.aead, &k.dec, a, 15, nonce, 12, aad, aadlen), NGTCP2_ERR_DECRYPT);
            /* masks */
            memset(ma, 0, sizeof ma), memset(mb, 0, sizeof mb);
            CHECK_EQ_INT(wt.hp_mask(ma, &k.hp, &k.hpc, a), 0);
            CHECK_EQ_INT(glue.hp_mask(mb, &k.hp, &k.hpc, a), 0);
            CHECK(memcmp(ma, mb, 16) == 0);
            CHECK_EQ_INT(wt.hp_mask(mb, &k.hp, &k.hpc, a + 1), 0);
            CHECK(memcmp(ma, mb, 5) != 0); /* another sample, another mask */
            aead_keys_free(&k);
        }
    }
    printf("    %d seals compared, %d refusals\n", compared, refused);
}

/* ---------------------------------------------------------------- end to end */
/* The 1-RTT AEAD a connection negotiated: 1 AES-GCM, 2 ChaCha20-Poly1305 */
static int aead_conn_kind(wt_session *s) {
    const ngtcp2_crypto_ctx *cc = s ? ngtcp2_conn_get_crypto_ctx(s->conn->tp.qc) : NULL;
    const WOLFSSL_EVP_CIPHER *a = cc ? (const WOLFSSL_EVP_CIPHER *)cc->aead.native_handle : NULL;
    return !a ? 0 : wolfSSL_quic_aead_is_gcm(a) ? 1 : wolfSSL_quic_aead_is_chacha20(a) ? 2 : 3;
}

/* An echo session whose client offers only `ciphers` (NULL: the default)
   and is made with the glue's callbacks when client_glue, against a server
   made with them when server_glue: 1 MiB up and back, a key update in the
   middle of it, then 1 MiB more. */
static void aead_echo(const char *ciphers, int client_glue, int server_glue, int want_kind) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    wt_client_config cc;
    xfer *x;
    int rv = -1;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    harness_client_config(&h, &cc);
    cc.tls_ciphers = ciphers;
    wt_client_destroy(h.client);
    REQUIRE((h.client = wt_client_create(&cc)) != NULL);
    /* (a client's connection is made in wt_client_connect, the server's
       when the first Initial arrives, in the loop) */
    wt__aead_glue_only = client_glue;
    {
        char url[200];
        memset(&cx, 0, sizeof cx);
        snprintf(url, sizeof url, "%s/echo", h.url);
        REQUIRE(wt_client_connect(h.client, url, client_handler, &cx, NULL) == WT_OK);
    }
    wt__aead_glue_only = server_glue;
    harness_run(&h, &cx.opened, HARNESS_DEADLINE_MS);
    wt__aead_glue_only = 0;
    REQUIRE(cx.opened);
    CHECK_EQ_INT(aead_conn_kind(cx.s), want_kind);
    CHECK_EQ_INT(aead_conn_kind(sx.last), want_kind);
    x = client_xfer(&cx, 1 << 20, 7);
    REQUIRE(x != NULL);
    RUN_UNTIL(h.loop, cx.s && (rv = ngtcp2_conn_initiate_key_update(cx.s->conn->tp.qc, wt__loop_ns(h.loop))) == 0,
              HARNESS_DEADLINE_MS);
    CHECK_EQ_INT(rv, 0);
    harness_run(&h, &x->done, 20000);
    CHECK(x->done && !x->bad);
    CHECK_EQ_INT(x->received, 1 << 20);
    x = client_xfer(&cx, 1 << 20, 8);
    REQUIRE(x != NULL);
    harness_run(&h, &x->done, 20000);
    CHECK(x->done && !x->bad);
    CHECK_EQ_INT(x->received, 1 << 20);
    CHECK(!cx.closed);
    harness_stop(&h);
}

WT_TEST(aead_end_to_end_aes128gcm_with_key_update) {
    aead_echo(NULL, 0, 0, 1);
#if WT__AEAD_DIRECT
    CHECK_EQ_INT(atomic_load(&wt__aead_ok), 1); /* the direct path passed its self-check and ran */
#endif
}

WT_TEST(aead_end_to_end_chacha20_with_key_update) { aead_echo("TLS_CHACHA20_POLY1305_SHA256", 0, 0, 2); }

WT_TEST(aead_end_to_end_aes256gcm_with_key_update) { aead_echo("TLS_AES_256_GCM_SHA384", 0, 0, 1); }

/* one side with the glue's own callbacks, the other with wt.h's */
WT_TEST(aead_end_to_end_against_the_glue_both_ways) {
    aead_echo(NULL, 1, 0, 1);
    aead_echo(NULL, 0, 1, 1);
    aead_echo("TLS_CHACHA20_POLY1305_SHA256", 1, 0, 2);
}

/* A wolfSSL whose contexts the self-check finds unlike this header's
   (wt__aead_ok -1) gets the glue's path, with the same bytes; the same keys
   take the direct path again once the check passes. */
WT_TEST(aead_failed_self_check_falls_back_to_the_glue) {
#if WT__AEAD_DIRECT
    ngtcp2_callbacks wt = aead_cbs(0), glue = aead_cbs(1);
    aead_keys k;
    uint8_t key[16], iv[12], hp[16], nonce[12], aad[20], pt[300], a[316], b[316], ma[32], mb[32];
    int was;
    aead_fill(key, sizeof key), aead_fill(iv, sizeof iv), aead_fill(hp, sizeof hp);
    aead_fill(nonce, sizeof nonce), aead_fill(aad, sizeof aad), aead_fill(pt, sizeof pt);
    REQUIRE(aead_keys_init(&k, 0x1301, key, iv, hp) == 0);
    REQUIRE(wt__aead_is_direct(&k.enc, &k.hpc)); /* (the check passed, as above) */
    was = atomic_load(&wt__aead_ok);
    atomic_store(&wt__aead_ok, -1);
    CHECK(!wt__aead_is_direct(&k.enc, &k.hpc));
    CHECK_EQ_INT(wt.encrypt(a, &k.aead, &k.enc, pt, sizeof pt, nonce, 12, aad, sizeof aad), 0);
    CHECK_EQ_INT(glue.encrypt(b, &k.aead, &k.enc, pt, sizeof pt, nonce, 12, aad, sizeof aad), 0);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK_EQ_INT(wt.decrypt(b, &k.aead, &k.dec, a, sizeof a, nonce, 12, aad, sizeof aad), 0);
    CHECK(memcmp(b, pt, sizeof pt) == 0);
    a[sizeof a - 1] ^= 1;
    CHECK_EQ_INT(wt.decrypt(b, &k.aead, &k.dec, a, sizeof a, nonce, 12, aad, sizeof aad), NGTCP2_ERR_DECRYPT);
    CHECK_EQ_INT(wt.hp_mask(ma, &k.hp, &k.hpc, pt), 0);
    CHECK_EQ_INT(glue.hp_mask(mb, &k.hp, &k.hpc, pt), 0);
    CHECK(memcmp(ma, mb, 16) == 0);
    atomic_store(&wt__aead_ok, was);
    CHECK(wt__aead_is_direct(&k.enc, &k.hpc));
    aead_keys_free(&k);
#else
    printf("    skipped: this build has no direct path (WT_AEAD_GLUE, or wolfSSL without AES-GCM/ECB)\n");
#endif
}
