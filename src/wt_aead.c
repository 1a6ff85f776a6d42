/* wt_aead.c - QUIC packet protection on wolfCrypt, without the EVP layer.

   ngtcp2's wolfSSL glue protects every packet through wolfSSL's EVP calls:
   an init with the nonce, one update for the AAD and one for the payload
   (which wolfSSL's EVP AES-GCM copies into buffers it reallocates), a final
   and a ctrl for the tag; the header-protection mask is another EVP update.
   For AES-GCM the glue's contexts already hold a keyed wolfCrypt Aes (the
   WOLFSSL_EVP_CIPHER_CTX of wolfssl/openssl/evp.h): these callbacks give
   it to wc_AesGcmEncrypt/wc_AesGcmDecrypt and wc_AesEcbEncrypt, one call
   each. The contexts stay the glue's (made by ngtcp2_crypto_*_init, freed
   by its delete callbacks, rekeyed by its update_key), so these callbacks
   need nothing but them: no WOLFSSL object, no allocation. Anything else
   (ChaCha20-Poly1305, whatever tls_ciphers may allow later) goes through the
   glue, chosen per call from the context's cipher. A build without what the
   direct path needs, or with -DWT_AEAD_GLUE, installs the glue's callbacks
   as they are. */
#include "wt_internal.h"

#include <wolfssl/openssl/evp.h>
#include <wolfssl/wolfcrypt/aes.h>

/* OPENSSL_COEXIST hides the cipher type names used here */
#if !defined(WT_AEAD_GLUE) && defined(HAVE_AESGCM) && defined(HAVE_AES_ECB) && !defined(NO_AES) && \
    !defined(OPENSSL_COEXIST)
#define WT__AEAD_DIRECT 1
#else
#define WT__AEAD_DIRECT 0
#endif

#define WT__AEAD_TAGLEN 16   /* AES-GCM's tag in QUIC (RFC 9001 5.3) */
#define WT__AEAD_NONCELEN 12 /* and its nonce */

#if WT__AEAD_DIRECT
/* The direct path reads wolfSSL's context struct as this header's
   wolfssl/options.h lays it out. A library built with other options would
   lay it out otherwise, so the first use compares both paths on a known
   input: 1 they agree, -1 they do not (the glue then does everything), 0 not
   checked yet. */
static _Atomic(int) wt__aead_ok;

static const WOLFSSL_EVP_CIPHER_CTX *wt__aead_gcm(const ngtcp2_crypto_aead_ctx *aead_ctx) {
    const WOLFSSL_EVP_CIPHER_CTX *c = (const WOLFSSL_EVP_CIPHER_CTX *)aead_ctx->native_handle;
    return c && (c->cipherType == AES_128_GCM_TYPE || c->cipherType == AES_256_GCM_TYPE) ? c : NULL;
}

static const WOLFSSL_EVP_CIPHER_CTX *wt__aead_ecb(const ngtcp2_crypto_cipher_ctx *cipher_ctx) {
    const WOLFSSL_EVP_CIPHER_CTX *c = (const WOLFSSL_EVP_CIPHER_CTX *)cipher_ctx->native_handle;
    /* an encryption key schedule: the glue only makes those for hp */
    return c && c->enc && (c->cipherType == AES_128_ECB_TYPE || c->cipherType == AES_256_ECB_TYPE) ? c : NULL;
}

/* wolfCrypt's calls take non-const Aes; they do not change the key */
static int wt__aead_gcm_seal(const WOLFSSL_EVP_CIPHER_CTX *c, uint8_t *dest, const uint8_t *plaintext,
                             size_t plaintextlen, const uint8_t *nonce, const uint8_t *aad, size_t aadlen) {
    if (plaintextlen > UINT32_MAX - WT__AEAD_TAGLEN || aadlen > UINT32_MAX) return -1;
    return wc_AesGcmEncrypt((Aes *)&c->cipher.aes, dest, plaintext, (word32)plaintextlen, nonce, WT__AEAD_NONCELEN,
                            dest + plaintextlen, WT__AEAD_TAGLEN, aad, (word32)aadlen) == 0
               ? 0
               : -1;
}

static int wt__aead_gcm_open(const WOLFSSL_EVP_CIPHER_CTX *c, uint8_t *dest, const uint8_t *ciphertext,
                             size_t ciphertextlen, const uint8_t *nonce, const uint8_t *aad, size_t aadlen) {
    size_t n;
    if (ciphertextlen < WT__AEAD_TAGLEN || ciphertextlen > UINT32_MAX || aadlen > UINT32_MAX) return -1;
    n = ciphertextlen - WT__AEAD_TAGLEN;
    return wc_AesGcmDecrypt((Aes *)&c->cipher.aes, dest, ciphertext, (word32)n, nonce, WT__AEAD_NONCELEN,
                            ciphertext + n, WT__AEAD_TAGLEN, aad, (word32)aadlen) == 0
               ? 0
               : -1;
}

static int wt__aead_ecb_mask(const WOLFSSL_EVP_CIPHER_CTX *c, uint8_t *dest, const uint8_t *sample) {
    return wc_AesEcbEncrypt((Aes *)&c->cipher.aes, dest, sample, NGTCP2_HP_SAMPLELEN) == 0 ? 0 : -1;
}

/* One packet's worth through the glue and through the direct path, with
   the glue's own contexts; 1 same bytes, -1 not, 0 could not tell (no
   memory: asked again next time). */
static int wt__aead_selftest(void) {
    uint8_t key[16], nonce[WT__AEAD_NONCELEN], aad[21], pt[67], a[67 + WT__AEAD_TAGLEN],
        b[67 + WT__AEAD_TAGLEN], back[67], ma[NGTCP2_HP_SAMPLELEN], mb[NGTCP2_HP_SAMPLELEN];
    ngtcp2_crypto_aead aead;
    ngtcp2_crypto_cipher hp;
    ngtcp2_crypto_aead_ctx enc = {NULL}, dec = {NULL};
    ngtcp2_crypto_cipher_ctx hpc = {NULL};
    const WOLFSSL_EVP_CIPHER_CTX *ge, *gd, *gh;
    size_t i;
    int r = 0;
    for (i = 0; i < sizeof key; i++) key[i] = (uint8_t)(0x5a ^ i * 7);
    for (i = 0; i < sizeof nonce; i++) nonce[i] = (uint8_t)(i * 29 + 1);
    for (i = 0; i < sizeof aad; i++) aad[i] = (uint8_t)(i * 3 + 0xc0);
    for (i = 0; i < sizeof pt; i++) pt[i] = (uint8_t)(i * 11 + 5);
    aead.native_handle = (void *)wolfSSL_EVP_aes_128_gcm();
    aead.max_overhead = WT__AEAD_TAGLEN;
    hp.native_handle = (void *)wolfSSL_EVP_aes_128_ecb();
    /* (the glue's header-protection context, made as the glue makes it:
       ngtcp2 declares no call for it) */
    hpc.native_handle = wolfSSL_quic_crypt_new(wolfSSL_EVP_aes_128_ecb(), key, NULL, 1);
    if (ngtcp2_crypto_aead_ctx_encrypt_init(&enc, &aead, key, sizeof nonce) != 0 ||
        ngtcp2_crypto_aead_ctx_decrypt_init(&dec, &aead, key, sizeof nonce) != 0 || !hpc.native_handle)
        goto out;
    r = -1;
    ge = wt__aead_gcm(&enc), gd = wt__aead_gcm(&dec), gh = wt__aead_ecb(&hpc);
    if (!ge || !gd || !gh) goto out;
    if (ngtcp2_crypto_encrypt(a, &aead, &enc, pt, sizeof pt, nonce, sizeof nonce, aad, sizeof aad) != 0 ||
        wt__aead_gcm_seal(ge, b, pt, sizeof pt, nonce, aad, sizeof aad) != 0 || memcmp(a, b, sizeof a) != 0)
        goto out;
    if (wt__aead_gcm_open(gd, back, a, sizeof a, nonce, aad, sizeof aad) != 0 || memcmp(back, pt, sizeof pt) != 0)
        goto out;
    if (ngtcp2_crypto_hp_mask(ma, &hp, &hpc, pt) != 0 || wt__aead_ecb_mask(gh, mb, pt) != 0 ||
        memcmp(ma, mb, sizeof ma) != 0)
        goto out;
    r = 1;
out:
    ngtcp2_crypto_aead_ctx_free(&enc);
    ngtcp2_crypto_aead_ctx_free(&dec);
    if (hpc.native_handle) wolfSSL_EVP_CIPHER_CTX_free((WOLFSSL_EVP_CIPHER_CTX *)hpc.native_handle);
    return r;
}

static int wt__aead_direct_ok(void) {
    int ok = atomic_load_explicit(&wt__aead_ok, memory_order_relaxed);
    if (ok == 0) { /* once per process (two threads may both ask: same answer) */
        ok = wt__aead_selftest();
        if (ok != 0) atomic_store_explicit(&wt__aead_ok, ok, memory_order_relaxed);
    }
    return ok > 0;
}
#endif

/* 1 if these contexts take the direct path (tests ask) */
static int wt__aead_is_direct(const ngtcp2_crypto_aead_ctx *aead_ctx, const ngtcp2_crypto_cipher_ctx *hp_ctx) {
#if WT__AEAD_DIRECT
    return (aead_ctx ? wt__aead_gcm(aead_ctx) != NULL : 1) && (hp_ctx ? wt__aead_ecb(hp_ctx) != NULL : 1) &&
           wt__aead_direct_ok();
#else
    WT__UNUSED(aead_ctx), WT__UNUSED(hp_ctx);
    return 0;
#endif
}

/* ngtcp2's encrypt callback: dest may be plaintext (ngtcp2 seals in
   place); dest gets plaintextlen bytes and the tag. */
static int wt__aead_encrypt(uint8_t *dest, const ngtcp2_crypto_aead *aead, const ngtcp2_crypto_aead_ctx *aead_ctx,
                            const uint8_t *plaintext, size_t plaintextlen, const uint8_t *nonce, size_t noncelen,
                            const uint8_t *aad, size_t aadlen) {
#if WT__AEAD_DIRECT
    const WOLFSSL_EVP_CIPHER_CTX *c = wt__aead_gcm(aead_ctx);
    if (c && noncelen == WT__AEAD_NONCELEN && wt__aead_direct_ok())
        return wt__aead_gcm_seal(c, dest, plaintext, plaintextlen, nonce, aad, aadlen) == 0
                   ? 0
                   : NGTCP2_ERR_CALLBACK_FAILURE;
#endif
    return ngtcp2_crypto_encrypt_cb(dest, aead, aead_ctx, plaintext, plaintextlen, nonce, noncelen, aad, aadlen);
}

/* ngtcp2's decrypt callback: any failure, a wrong tag above all, is
   NGTCP2_ERR_DECRYPT (ngtcp2 then tries a stateless reset or drops the
   packet, and counts it against the decryption-failure limit). */
static int wt__aead_decrypt(uint8_t *dest, const ngtcp2_crypto_aead *aead, const ngtcp2_crypto_aead_ctx *aead_ctx,
                            const uint8_t *ciphertext, size_t ciphertextlen, const uint8_t *nonce, size_t noncelen,
                            const uint8_t *aad, size_t aadlen) {
#if WT__AEAD_DIRECT
    const WOLFSSL_EVP_CIPHER_CTX *c = wt__aead_gcm(aead_ctx);
    if (c && noncelen == WT__AEAD_NONCELEN && wt__aead_direct_ok())
        return wt__aead_gcm_open(c, dest, ciphertext, ciphertextlen, nonce, aad, aadlen) == 0 ? 0
                                                                                             : NGTCP2_ERR_DECRYPT;
#endif
    return ngtcp2_crypto_decrypt_cb(dest, aead, aead_ctx, ciphertext, ciphertextlen, nonce, noncelen, aad, aadlen);
}

/* ngtcp2's hp_mask callback: 16 bytes of mask from a 16-byte sample */
static int wt__aead_hp_mask(uint8_t *dest, const ngtcp2_crypto_cipher *hp, const ngtcp2_crypto_cipher_ctx *hp_ctx,
                            const uint8_t *sample) {
#if WT__AEAD_DIRECT
    const WOLFSSL_EVP_CIPHER_CTX *c = wt__aead_ecb(hp_ctx);
    if (c && wt__aead_direct_ok()) return wt__aead_ecb_mask(c, dest, sample) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
#endif
    return ngtcp2_crypto_hp_mask_cb(dest, hp, hp_ctx, sample);
}

/* Set, connections made from then on get the glue's callbacks as they
   are: the tests' peer with unmodified packet protection. */
static int wt__aead_glue_only;

/* Packet protection for a connection's callbacks (client and server) */
static void wt__aead_callbacks(ngtcp2_callbacks *cb) {
    int direct = WT__AEAD_DIRECT && !wt__aead_glue_only;
    cb->encrypt = direct ? wt__aead_encrypt : ngtcp2_crypto_encrypt_cb;
    cb->decrypt = direct ? wt__aead_decrypt : ngtcp2_crypto_decrypt_cb;
    cb->hp_mask = direct ? wt__aead_hp_mask : ngtcp2_crypto_hp_mask_cb;
}
