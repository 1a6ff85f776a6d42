/* quiclb.h - what a QUIC-LB-aware load balancer does with a connection ID:
 * the plaintext algorithm of draft-ietf-quic-load-balancers-21 (no key),
 * written for the tests from the draft's text, not from wt.h's code, so a
 * test can check wt.h's CIDs against it.
 *
 *   First Octet { Config Rotation (3), CID Len or Random Bits (5) }
 *   Server ID (server_id_len bytes), Nonce (at least 4 bytes)
 *
 * Config rotation 0b111 marks a CID as unroutable; a balancer that knows
 * every server self-encodes the length may also check it (the low 5 bits:
 * the CID's length less the first octet). */
#ifndef WT_QUICLB_H
#define WT_QUICLB_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define QUICLB_UNROUTABLE 7   /* config rotation codepoint */
#define QUICLB_MIN_NONCE 4

typedef struct quiclb_config {
    unsigned config_rotation; /* 0..6: the configuration this balancer has */
    size_t server_id_len;     /* 1..15 */
    int check_length;         /* 1: the servers self-encode the CID length */
} quiclb_config;

/* 0 and the server ID in sid (server_id_len bytes) when cid is routable
   under cfg; -1 when it is not (another or no configuration, too short for
   a server ID and a nonce, or a self-encoded length that disagrees). */
static int quiclb_decode(const quiclb_config *cfg, const uint8_t *cid, size_t cidlen, uint8_t *sid) {
    unsigned cr;
    if (cidlen < 1 + cfg->server_id_len + QUICLB_MIN_NONCE || cidlen > 20) return -1;
    cr = cid[0] >> 5;
    if (cr == QUICLB_UNROUTABLE || cr != cfg->config_rotation) return -1;
    if (cfg->check_length && (size_t)(cid[0] & 0x1f) != cidlen - 1) return -1;
    memcpy(sid, cid + 1, cfg->server_id_len);
    return 0;
}

/* The same from hex ("0f0a01..."), for the scripts: -1 on bad hex too. */
static int quiclb_hexval(int ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static int quiclb_unhex(const char *hex, uint8_t *out, size_t max) {
    size_t n = 0;
    while (hex[0] && hex[1]) {
        int hi = quiclb_hexval(hex[0]), lo = quiclb_hexval(hex[1]);
        if (hi < 0 || lo < 0 || n == max) return -1;
        out[n++] = (uint8_t)(hi << 4 | lo);
        hex += 2;
    }
    return hex[0] ? -1 : (int)n;
}
#endif
