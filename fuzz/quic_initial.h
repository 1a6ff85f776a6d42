/* quic_initial.h - QUIC v1 client Initial packets, sealed and opened
   (RFC 9001 section 5: keys from the client's Destination Connection ID,
   AES-128-GCM, AES header protection), with wolfCrypt.

   Initial keys are public by design, so a fuzzer can say "these frames,
   in an Initial" and reach the server's QUIC frame and TLS ClientHello
   parsing with every mutation, where mutating a sealed packet only ever
   meets a failed AEAD check. The corpus generator opens real ones. */
#ifndef WT_FUZZ_QUIC_INITIAL_H
#define WT_FUZZ_QUIC_INITIAL_H

#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/hmac.h>

typedef struct qi_keys {
    uint8_t key[16], iv[12], hp[16];
} qi_keys;

/* HKDF-Expand-Label (RFC 8446 7.1) with an empty context */
static inline int qi_expand_label(const uint8_t *secret, const char *label, uint8_t *out, size_t outlen) {
    uint8_t info[64];
    size_t ll = strlen(label), n = 0;
    info[n++] = (uint8_t)(outlen >> 8);
    info[n++] = (uint8_t)outlen;
    info[n++] = (uint8_t)(6 + ll);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, ll);
    n += ll;
    info[n++] = 0;
    return wc_HKDF_Expand(WC_SHA256, secret, 32, info, (word32)n, out, (word32)outlen);
}

/* The client's Initial keys for a connection whose first DCID is dcid. */
static inline int qi_client_keys(const uint8_t *dcid, size_t dcidlen, qi_keys *k) {
    static const uint8_t salt[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                     0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
    uint8_t initial[32], client[32];
    if (wc_HKDF_Extract(WC_SHA256, salt, sizeof salt, dcid, (word32)dcidlen, initial) != 0) return -1;
    if (qi_expand_label(initial, "client in", client, 32) != 0 || qi_expand_label(client, "quic key", k->key, 16) != 0 ||
        qi_expand_label(client, "quic iv", k->iv, 12) != 0 || qi_expand_label(client, "quic hp", k->hp, 16) != 0)
        return -1;
    return 0;
}

static inline int qi_hp_mask(const qi_keys *k, const uint8_t *sample, uint8_t mask[16]) {
    Aes aes;
    int rv;
    if (wc_AesInit(&aes, NULL, INVALID_DEVID) != 0) return -1;
    rv = wc_AesSetKey(&aes, k->hp, 16, NULL, AES_ENCRYPTION);
    if (rv == 0) rv = wc_AesEcbEncrypt(&aes, mask, sample, 16);
    wc_AesFree(&aes);
    return rv;
}

static inline void qi_nonce(const qi_keys *k, uint64_t pn, uint8_t nonce[12]) {
    int i;
    memcpy(nonce, k->iv, 12);
    for (i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
}

/* Seals frames into a v1 client Initial at out (room for len + 64 + cids
   + token); pads the datagram to min_size with PADDING frames. Returns the
   packet's size, or 0. */
static inline size_t qi_seal(uint8_t *out, size_t cap, const uint8_t *dcid, size_t dcidlen, const uint8_t *scid,
                      size_t scidlen, const uint8_t *token, size_t tokenlen, uint64_t pn, const uint8_t *frames,
                      size_t flen, size_t min_size) {
    qi_keys k;
    uint8_t nonce[12], mask[16];
    size_t o = 0, pn_off, plen, hdr_fixed, i;
    Aes aes;
    int rv;
    if (dcidlen > 20 || scidlen > 20 || tokenlen > 1024) return 0;
    hdr_fixed = 1 + 4 + 1 + dcidlen + 1 + scidlen + 2 + tokenlen + 2 + 4;
    /* the sample needs 4 + 16 bytes after the packet number's start */
    plen = flen;
    if (plen < 4) plen = 4;
    if (hdr_fixed + plen + 16 < min_size) plen = min_size - hdr_fixed - 16;
    if (hdr_fixed + plen + 16 > cap || 4 + plen + 16 > 0x3fff) return 0;
    if (qi_client_keys(dcid, dcidlen, &k) != 0) return 0;
    out[o++] = 0xc3; /* long header, Initial, 4-byte packet number */
    out[o++] = 0, out[o++] = 0, out[o++] = 0, out[o++] = 1;
    out[o++] = (uint8_t)dcidlen;
    memcpy(out + o, dcid, dcidlen), o += dcidlen;
    out[o++] = (uint8_t)scidlen;
    memcpy(out + o, scid, scidlen), o += scidlen;
    out[o++] = (uint8_t)(0x40 | (tokenlen >> 8)), out[o++] = (uint8_t)tokenlen;
    if (tokenlen) memcpy(out + o, token, tokenlen), o += tokenlen;
    out[o++] = (uint8_t)(0x40 | ((4 + plen + 16) >> 8)), out[o++] = (uint8_t)(4 + plen + 16);
    pn_off = o;
    for (i = 0; i < 4; i++) out[o++] = (uint8_t)(pn >> (8 * (3 - i)));
    /* plaintext: the frames, then PADDING frames (zeros) */
    memcpy(out + o, frames, flen);
    memset(out + o + flen, 0, plen - flen);
    qi_nonce(&k, pn, nonce);
    if (wc_AesInit(&aes, NULL, INVALID_DEVID) != 0) return 0;
    rv = wc_AesGcmSetKey(&aes, k.key, 16);
    if (rv == 0) rv = wc_AesGcmEncrypt(&aes, out + o, out + o, (word32)plen, nonce, 12, out + o + plen, 16, out, (word32)o);
    wc_AesFree(&aes);
    if (rv != 0 || qi_hp_mask(&k, out + pn_off + 4, mask) != 0) return 0;
    out[0] ^= mask[0] & 0x0f;
    for (i = 0; i < 4; i++) out[pn_off + i] ^= mask[1 + i];
    return o + plen + 16;
}

/* Opens a v1 client Initial at the start of a datagram: its frames go to
   frames (trailing PADDING dropped). Returns their length, or -1. *used
   gets the packet's size (a datagram may hold more packets), scid_out
   (20 bytes) the client's connection ID. */
static inline long qi_open(const uint8_t *pkt, size_t len, uint8_t *frames, size_t cap, size_t *used, uint8_t *scid_out,
                           size_t *scidlen_out) {
    uint8_t dcid[20];
    qi_keys k;
    uint8_t hdr[1 + 4 + 1 + 20 + 1 + 20 + 8 + 8 + 4 + 1024], nonce[12], mask[16];
    size_t o = 5, dcidlen, scidlen, pnlen, i, a;
    uint64_t tokenlen, plen, pn = 0;
    Aes aes;
    int rv;
    if (len < 7 || (pkt[0] & 0xf0) != 0xc0 || pkt[1] || pkt[2] || pkt[3] || pkt[4] != 1) return -1;
    dcidlen = pkt[o++];
    if (dcidlen > 20 || o + dcidlen >= len) return -1;
    memcpy(dcid, pkt + o, dcidlen);
    o += dcidlen;
    scidlen = pkt[o++];
    if (scidlen > 20 || o + scidlen >= len) return -1;
    memcpy(scid_out, pkt + o, scidlen);
    *scidlen_out = scidlen;
    o += scidlen;
    if (!(a = wt__varint_get(pkt + o, len - o, &tokenlen)) || tokenlen > 1024 || o + a + tokenlen >= len) return -1;
    o += a + (size_t)tokenlen;
    if (!(a = wt__varint_get(pkt + o, len - o, &plen)) || o + a + plen > len || plen < 20) return -1;
    o += a;
    if (qi_client_keys(dcid, dcidlen, &k) != 0 || qi_hp_mask(&k, pkt + o + 4, mask) != 0) return -1;
    memcpy(hdr, pkt, o);
    hdr[0] ^= mask[0] & 0x0f;
    pnlen = (size_t)(hdr[0] & 3) + 1;
    for (i = 0; i < pnlen; i++) {
        hdr[o + i] = pkt[o + i] ^ mask[1 + i];
        pn = (pn << 8) | hdr[o + i];
    }
    plen -= pnlen + 16;
    if (plen > cap) return -1;
    qi_nonce(&k, pn, nonce);
    if (wc_AesInit(&aes, NULL, INVALID_DEVID) != 0) return -1;
    rv = wc_AesGcmSetKey(&aes, k.key, 16);
    if (rv == 0)
        rv = wc_AesGcmDecrypt(&aes, frames, pkt + o + pnlen, (word32)plen, nonce, 12, pkt + o + pnlen + plen, 16, hdr,
                              (word32)(o + pnlen));
    wc_AesFree(&aes);
    if (rv != 0) return -1;
    *used = o + pnlen + (size_t)plen + 16;
    while (plen > 0 && frames[plen - 1] == 0) plen--;
    return (long)plen;
}

/* The connection IDs of the server target's four client connections:
   every SCID has the 16 bytes of a wt_client's, so a captured ClientHello
   (whose transport parameters name the SCID) fits any of them once the
   corpus generator has put the new one in. */
static inline void qi_conn_ids(int i, uint8_t dcid[20], size_t *dcidlen, uint8_t scid[20], size_t *scidlen) {
    static const size_t dl[4] = {8, 18, 20, 8};
    size_t k;
    *dcidlen = dl[i & 3];
    *scidlen = 16;
    for (k = 0; k < 20; k++) {
        dcid[k] = (uint8_t)(0xd0 + (i & 3) * 16 + k);
        scid[k] = (uint8_t)(0xc0 + (i & 3) * 16 + k);
    }
}

#endif
