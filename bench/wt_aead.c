/* bench/wt_aead.c - what one QUIC packet's protection costs: a 1-RTT
   packet (1200 bytes unless --size) sealed and masked, then unmasked and opened, through
   ngtcp2's wolfSSL glue (EVP) and through wt.h's callbacks (src/wt_aead.c:
   wolfCrypt directly for AES-GCM), in alternating rounds, in memory; CPU
   nanoseconds per packet (the median round) and their ratio. Not a figure
   of `make bench`: a check of the one thing wt_aead.c changes.

   Usage: wt_aead [--suite 1301|1302|1303] [--size 40-1500] [--packets N] [--rounds N] */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <time.h>

static double cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct keys {
    ngtcp2_crypto_aead aead;
    ngtcp2_crypto_cipher hp;
    ngtcp2_crypto_aead_ctx enc, dec;
    ngtcp2_crypto_cipher_ctx hpc;
} keys;

/* one packet out and back in: 0, or the failing callback's error */
static int packet(const ngtcp2_callbacks *cb, const keys *k, uint8_t *pkt, uint8_t *out, uint64_t pn, size_t len) {
    enum { HDR = 14, PNLEN = 2 };
    uint8_t nonce[12] = {0}, mask[32];
    int i, rv;
    for (i = 0; i < 8; i++) nonce[4 + i] = (uint8_t)(pn >> (56 - 8 * i));
    if ((rv = cb->encrypt(pkt + HDR, &k->aead, &k->enc, pkt + HDR, len - HDR - 16, nonce, 12, pkt, HDR)) != 0) return rv;
    if ((rv = cb->hp_mask(mask, &k->hp, &k->hpc, pkt + HDR - PNLEN + 4)) != 0) return rv;
    pkt[0] ^= mask[0] & 0x1f, pkt[HDR - 2] ^= mask[1], pkt[HDR - 1] ^= mask[2];
    if ((rv = cb->hp_mask(mask, &k->hp, &k->hpc, pkt + HDR - PNLEN + 4)) != 0) return rv;
    pkt[0] ^= mask[0] & 0x1f, pkt[HDR - 2] ^= mask[1], pkt[HDR - 1] ^= mask[2];
    return cb->decrypt(out, &k->aead, &k->dec, pkt + HDR, len - HDR, nonce, 12, pkt, HDR);
}

int main(int argc, char **argv) {
    int suite = 0x1301, packets = 20000, rounds = 15, size = 1200, i, r, side;
    uint8_t key[32], hpkey[32], pkt[1500], out[1500];
    double ns[2][64];
    ngtcp2_callbacks cb[2];
    keys k;
    for (i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--suite")) suite = (int)strtol(argv[i + 1], NULL, 16);
        else if (!strcmp(argv[i], "--size")) size = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--packets")) packets = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rounds")) rounds = atoi(argv[i + 1]);
        else break;
    }
    if (i < argc || packets < 1 || rounds < 1 || rounds > 64 || size < 40 || size > 1500 ||
        (suite != 0x1301 && suite != 0x1302 && suite != 0x1303)) {
        fprintf(stderr, "usage: wt_aead [--suite 1301|1302|1303] [--size 40-1500] [--packets N] [--rounds 1-64]\n");
        return 2;
    }
    for (i = 0; i < 32; i++) key[i] = (uint8_t)(i * 7 + 1), hpkey[i] = (uint8_t)(i * 13 + 2);
    memset(&k, 0, sizeof k);
    k.aead.native_handle = (void *)(suite == 0x1301   ? wolfSSL_EVP_aes_128_gcm()
                                    : suite == 0x1302 ? wolfSSL_EVP_aes_256_gcm()
                                                      : wolfSSL_EVP_chacha20_poly1305());
    k.aead.max_overhead = 16;
    k.hp.native_handle = (void *)(suite == 0x1301   ? wolfSSL_EVP_aes_128_ecb()
                                  : suite == 0x1302 ? wolfSSL_EVP_aes_256_ecb()
                                                    : wolfSSL_EVP_chacha20());
    /* the contexts as ngtcp2's glue makes them for a connection */
    if (ngtcp2_crypto_aead_ctx_encrypt_init(&k.enc, &k.aead, key, 12) != 0 ||
        ngtcp2_crypto_aead_ctx_decrypt_init(&k.dec, &k.aead, key, 12) != 0 ||
        !(k.hpc.native_handle = wolfSSL_quic_crypt_new((const WOLFSSL_EVP_CIPHER *)k.hp.native_handle, hpkey, NULL, 1))) {
        fprintf(stderr, "wt_aead: cannot make the contexts\n");
        return 1;
    }
    for (side = 0; side < 2; side++) {
        memset(&cb[side], 0, sizeof cb[side]);
        wt__aead_glue_only = side == 0;
        wt__aead_callbacks(&cb[side]);
    }
    for (i = 0; i < (int)sizeof pkt; i++) pkt[i] = (uint8_t)(i * 31);
    pkt[0] = 0x41;
    for (r = 0; r < rounds; r++) {
        for (side = 0; side < 2; side++) {
            int s = r & 1 ? 1 - side : side; /* alternate which side goes first */
            double t0 = cpu_ns();
            for (i = 0; i < packets; i++) {
                int rv = packet(&cb[s], &k, pkt, out, (uint64_t)i, (size_t)size);
                if (rv != 0) {
                    fprintf(stderr, "wt_aead: %s path failed: %d\n", s ? "wt.h" : "glue", rv);
                    return 1;
                }
            }
            ns[s][r] = (cpu_ns() - t0) / packets;
        }
    }
    qsort(ns[0], (size_t)rounds, sizeof(double), cmp_double);
    qsort(ns[1], (size_t)rounds, sizeof(double), cmp_double);
    printf("suite %04x, %d-byte packet sealed+masked+unmasked+opened, median of %d rounds of %d:\n", suite, size,
           rounds, packets);
    printf("  glue (EVP):   %7.0f ns\n", ns[0][rounds / 2]);
    printf("  wt.h (%s): %7.0f ns\n", wt__aead_is_direct(&k.enc, &k.hpc) ? "direct" : "glue  ", ns[1][rounds / 2]);
    printf("  ratio glue/wt.h: %.2fx\n", ns[0][rounds / 2] / ns[1][rounds / 2]);
    ngtcp2_crypto_aead_ctx_free(&k.enc);
    ngtcp2_crypto_aead_ctx_free(&k.dec);
    wolfSSL_EVP_CIPHER_CTX_free((WOLFSSL_EVP_CIPHER_CTX *)k.hpc.native_handle);
    return 0;
}
