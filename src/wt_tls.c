/* wt_tls.c - TLS on wolfSSL: key-exchange groups by name, the WOLFSSL of
   each connection, and names for TLS alerts in logs. */
#include "wt_internal.h"

#include <ctype.h>

/* Names as tls_groups spells them, and their IANA code points (wolfSSL
   uses the same numbers, so no wolfSSL enum name is needed: those differ
   between versions). */
static const struct wt__group {
    const char *name, *alias;
    uint16_t id;
} wt__groups[] = {
    {"X25519MLKEM768", NULL, 0x11ec},
    {"SECP256R1MLKEM768", NULL, 0x11eb},
    {"SECP384R1MLKEM1024", NULL, 0x11ed},
    {"X25519", NULL, 29},
    {"X448", NULL, 30},
    {"P-256", "secp256r1", 23},
    {"P-384", "secp384r1", 24},
    {"P-521", "secp521r1", 25},
    {"ffdhe2048", NULL, 256},
    {"ffdhe3072", NULL, 257},
};

static const char *wt__tls_group_name(uint16_t id) {
    size_t i;
    for (i = 0; i < WT__COUNTOF(wt__groups); i++)
        if (wt__groups[i].id == id) return wt__groups[i].name;
    return "unknown group";
}

static const char *wt__tls_alert_name(uint8_t alert) {
    switch (alert) { /* RFC 8446 section 6, RFC 7301 */
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return "unknown alert";
    }
}

static int wt__name_is(const char *p, size_t n, const char *name) {
    size_t i;
    if (!name || strlen(name) != n) return 0;
    for (i = 0; i < n; i++)
        if (tolower((unsigned char)p[i]) != tolower((unsigned char)name[i])) return 0;
    return 1;
}

/* wolfSSL's own answer to "can this build make a key share for id": which
   groups exist depends on configure flags, FIPS and ECC_MIN_KEY_SZ in ways
   that differ between versions, so ask instead of guessing from macros.
   Asking makes a key (a P-521 one takes a millisecond): the answers are
   kept for the process, per entry of wt__groups (0 not asked yet, 1 yes,
   2 no), so only the first app or client pays. */
static _Atomic(unsigned char) wt__group_known[WT__COUNTOF(wt__groups)];

static int wt__group_usable(WOLFSSL_CTX *probe, size_t i) {
    unsigned char known = wt__group_known[i];
    WOLFSSL *ssl;
    int ok;
    if (known) return known == 1;
    ssl = probe ? wolfSSL_new(probe) : NULL;
    ok = ssl && wolfSSL_UseKeyShare(ssl, wt__groups[i].id) == WOLFSSL_SUCCESS;
    if (ssl) wolfSSL_free(ssl);
    if (ssl) wt__group_known[i] = (unsigned char)(ok ? 1 : 2); /* not a failed wolfSSL_new */
    return ok;
}

static int wt__tls_parse_groups(const char *list, uint16_t *ids, int max, const wt_log *lg) {
    const char *p = list ? list : WT_TLS_GROUPS_DEFAULT;
    WOLFSSL_CTX *probe = wolfSSL_CTX_new(wolfTLSv1_3_client_method());
    int n = 0, rv = WT_OK;
    if (!probe) return wt__fail(lg, WT_ERR_TLS, "tls_groups: cannot make a TLS context to check them");
    for (;;) {
        size_t len = strcspn(p, ":"), i;
        int k;
        if (len == 0) {
            rv = wt__fail(lg, WT_ERR_INVALID, "tls_groups: an empty name in \"%s\"", list);
            break;
        }
        for (i = 0; i < WT__COUNTOF(wt__groups); i++)
            if (wt__name_is(p, len, wt__groups[i].name) || wt__name_is(p, len, wt__groups[i].alias)) break;
        if (i == WT__COUNTOF(wt__groups)) {
            rv = wt__fail(lg, WT_ERR_INVALID, "tls_groups: unknown group \"%.*s\" in \"%s\" (see WT_TLS_GROUPS_DEFAULT)",
                          (int)len, p, list);
            break;
        }
        for (k = 0; k < n && ids[k] != wt__groups[i].id; k++) {}
        if (k < n) {
            rv = wt__fail(lg, WT_ERR_INVALID, "tls_groups: %s is listed twice", wt__groups[i].name);
            break;
        }
        if (!wt__group_usable(probe, i)) {
            /* the default names groups that only newer builds have */
            if (list) {
                rv = wt__fail(lg, WT_ERR_INVALID, "tls_groups: %s is not available in this wolfSSL build",
                              wt__groups[i].name);
                break;
            }
        } else if (n == max) {
            rv = wt__fail(lg, WT_ERR_INVALID, "tls_groups: more than %d groups", max);
            break;
        } else {
            ids[n++] = wt__groups[i].id;
        }
        if (!p[len]) break;
        p += len + 1;
    }
    wolfSSL_CTX_free(probe);
    if (rv == WT_OK && n == 0) rv = wt__fail(lg, WT_ERR_INVALID, "tls_groups: no usable group");
    return rv == WT_OK ? n : rv;
}

static int wt__tls_set_groups(wt__ep *ep, const char *list, int key_shares) {
    int ids[WT__MAX_GROUPS], i, max = WT__MAX_GROUPS;
    char names[256];
    size_t used = 0;
#ifdef WOLFSSL_MAX_GROUP_COUNT
    if (max > WOLFSSL_MAX_GROUP_COUNT) max = WOLFSSL_MAX_GROUP_COUNT;
#endif
    if (key_shares < 0) return wt__fail(&ep->log, WT_ERR_INVALID, "tls_key_shares must not be negative");
    ep->ngroups = wt__tls_parse_groups(list, ep->groups, max, &ep->log);
    if (ep->ngroups < 0) return ep->ngroups;
    for (i = 0; i < ep->ngroups; i++) {
        ids[i] = ep->groups[i];
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ":" : "",
                                 wt__tls_group_name(ep->groups[i]));
        if (used >= sizeof names) used = sizeof names - 1;
    }
    /* the client's offer order, or the server's preference */
    if (wolfSSL_CTX_set_groups(ep->ssl_ctx, ids, ep->ngroups) != WOLFSSL_SUCCESS)
        return wt__fail(&ep->log, WT_ERR_TLS, "wolfSSL refused the TLS groups %s", names);
    ep->key_shares = ep->server ? 0 : WT__MIN(key_shares ? key_shares : 2, ep->ngroups);
    if (ep->server) wt__log(&ep->log, WT_LOG_DEBUG, "TLS groups, most preferred first: %s", names);
    else wt__log(&ep->log, WT_LOG_DEBUG, "TLS groups offered: %s, key shares for the first %d", names, ep->key_shares);
    return WT_OK;
}

/* TLS 1.3 cipher suites by their IANA names, and wolfSSL's names for them.
   QUIC never uses TLS_AES_128_CCM_8_SHA256 (RFC 9001 5.3). */
static const struct wt__suite {
    const char *name, *wolf;
} wt__suites[] = {
    {"TLS_AES_128_GCM_SHA256", "TLS13-AES128-GCM-SHA256"},
    {"TLS_AES_256_GCM_SHA384", "TLS13-AES256-GCM-SHA384"},
    {"TLS_CHACHA20_POLY1305_SHA256", "TLS13-CHACHA20-POLY1305-SHA256"},
    {"TLS_AES_128_CCM_SHA256", "TLS13-AES128-CCM-SHA256"},
};

/* Sets an endpoint's cipher suites from a tls_ciphers list (NULL:
   WT_TLS_CIPHERS_DEFAULT less the suites this build lacks): the server's
   preference, the client's offer. wolfSSL alone would prefer AES-256-GCM
   with SHA-384, whose key schedule and transcript hash cost a server about
   a tenth more CPU per handshake than SHA-256's, and AES-256 more per byte. */
static int wt__tls_set_ciphers(wt__ep *ep, const char *list) {
    const char *p = list ? list : WT_TLS_CIPHERS_DEFAULT;
    WOLFSSL_CTX *probe = wolfSSL_CTX_new(wolfTLSv1_3_client_method());
    char wolf[160];
    int used[WT__COUNTOF(wt__suites)] = {0}, rv = WT_OK, n = 0;
    size_t off = 0;
    if (!probe) return wt__fail(&ep->log, WT_ERR_TLS, "tls_ciphers: cannot make a TLS context to check them");
    for (;;) {
        size_t len = strcspn(p, ":"), i;
        if (len == 0) {
            rv = wt__fail(&ep->log, WT_ERR_INVALID, "tls_ciphers: an empty name in \"%s\"", list ? list : "");
            break;
        }
        for (i = 0; i < WT__COUNTOF(wt__suites); i++)
            if (wt__name_is(p, len, wt__suites[i].name) || wt__name_is(p, len, wt__suites[i].wolf)) break;
        if (i == WT__COUNTOF(wt__suites)) {
            rv = wt__fail(&ep->log, WT_ERR_INVALID,
                          "tls_ciphers: unknown TLS 1.3 cipher suite \"%.*s\" in \"%s\" (see WT_TLS_CIPHERS_DEFAULT)",
                          (int)len, p, list);
            break;
        }
        if (used[i]) {
            rv = wt__fail(&ep->log, WT_ERR_INVALID, "tls_ciphers: %s is listed twice", wt__suites[i].name);
            break;
        }
        used[i] = 1;
        if (wolfSSL_CTX_set_cipher_list(probe, wt__suites[i].wolf) != WOLFSSL_SUCCESS) {
            if (list) { /* the default names suites some builds lack */
                rv = wt__fail(&ep->log, WT_ERR_INVALID, "tls_ciphers: %s is not available in this wolfSSL build",
                              wt__suites[i].name);
                break;
            }
        } else {
            off += (size_t)snprintf(wolf + off, sizeof wolf - off, "%s%s", n++ ? ":" : "", wt__suites[i].wolf);
        }
        if (!p[len]) break;
        p += len + 1;
    }
    wolfSSL_CTX_free(probe);
    if (rv != WT_OK) return rv;
    if (n == 0) return wt__fail(&ep->log, WT_ERR_INVALID, "tls_ciphers: no usable cipher suite");
    if (wolfSSL_CTX_set_cipher_list(ep->ssl_ctx, wolf) != WOLFSSL_SUCCESS)
        return wt__fail(&ep->log, WT_ERR_TLS, "wolfSSL refused the cipher suites %s", wolf);
    wt__log(&ep->log, WT_LOG_DEBUG, "TLS cipher suites, %s: %s", ep->server ? "most preferred first" : "offered", wolf);
    return WT_OK;
}

static WOLFSSL *wt__tls_new(wt__ep *ep, const char *host) {
    WOLFSSL *ssl = wolfSSL_new(ep->ssl_ctx);
    struct in6_addr a6;
    struct in_addr a4;
    int i;
    if (!ssl) {
        wt__log(&ep->log, WT_LOG_ERROR, "wolfSSL_new failed");
        return NULL;
    }
#ifdef HAVE_KEYING_MATERIAL
    /* wolfSSL derives the exporter secret only for a connection that keeps
       its handshake arrays; with the secret callback wt.h copies that one
       secret and frees them when the handshake is done (wt__tls_done) */
    wolfSSL_KeepArrays(ssl);
#endif
    if (ep->server) {
        wolfSSL_set_accept_state(ssl);
        /* wolfSSL without OPENSSL_ALL never calls an ALPN select callback */
        wolfSSL_UseALPN(ssl, (char *)"h3", 2, WOLFSSL_ALPN_FAILED_ON_MISMATCH);
        return ssl;
    }
    wolfSSL_set_connect_state(ssl);
    wolfSSL_set_alpn_protos(ssl, (const unsigned char *)"\x02h3", 3);
    /* otherwise wolfSSL sends both the draft and the v1 transport parameters */
    wolfSSL_set_quic_transport_version(ssl, 0x39);
    if (host && inet_pton(AF_INET, host, &a4) != 1 && inet_pton(AF_INET6, host, &a6) != 1)
        wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, host, (unsigned short)strlen(host));
    if (host && ep->verify_peer) wolfSSL_check_domain_name(ssl, host);
    /* Left alone, wolfSSL 5.9 sends one share, X25519MLKEM768, and a server
       without ML-KEM must answer with HelloRetryRequest, which some stacks
       cannot do. A share for each of the first groups costs a key
       generation, not a round trip. */
    for (i = 0; i < ep->key_shares; i++)
        if (wolfSSL_UseKeyShare(ssl, ep->groups[i]) != WOLFSSL_SUCCESS) {
            wt__log(&ep->log, WT_LOG_ERROR, "cannot make a TLS key share for %s", wt__tls_group_name(ep->groups[i]));
            wolfSSL_free(ssl);
            return NULL;
        }
    return ssl;
}

/* Can the connection do without its WOLFSSL: wt_session_export_keying_material
   needs only the exporter secret wt.h copied, or no exporter at all. */
static int wt__tls_exporter_kept(const wt__conn *c) {
#if defined(HAVE_KEYING_MATERIAL) && defined(HAVE_SECRET_CALLBACK)
    return c->tp.exporter_len != 0;
#elif defined(HAVE_KEYING_MATERIAL)
    WT__UNUSED(c);
    return 0; /* wolfSSL's own exporter reads its WOLFSSL */
#else
    WT__UNUSED(c);
    return 1;
#endif
}

/* The handshake is done: what only the handshake needed goes. wolfSSL's
   arrays (about 1 KB: randoms, the premaster and master secrets, PSK
   identities) once the exporter secret is copied out of them. A server's
   whole WOLFSSL goes too, once the packet that finished the handshake is
   read (wt__tls_release). */
static void wt__tls_done(wt__conn *c) {
#if defined(HAVE_KEYING_MATERIAL) && defined(HAVE_SECRET_CALLBACK)
    if (c->tp.exporter_len && !c->ep->test_keep_tls_arrays) wolfSSL_FreeArrays(c->tp.ssl);
#endif
    if (c->ep->server && !c->ep->test_keep_tls && wt__tls_exporter_kept(c)) c->tp.ssl_release = 1;
}

/* A server frees its WOLFSSL (about 9 KB per connection with its
   sub-allocations) after the handshake. Nothing needs it any more: the
   TLS messages it still had to send (NewSessionTicket) are in ngtcp2's
   buffers, key updates derive from ngtcp2's copies of the secrets with
   the cipher and hash it names (static wolfSSL descriptors, not this
   object), the exporter secret is copied, ALPN was checked, and what a
   client sends at the 1-RTT level is refused without it
   (wt__cb_recv_crypto_data). */
static void wt__tls_release(wt__conn *c) {
    c->tp.ssl_release = 0;
    if (!c->tp.ssl) return;
    if (c->tp.qc) ngtcp2_conn_set_tls_native_handle(c->tp.qc, NULL);
    wolfSSL_free(c->tp.ssl);
    c->tp.ssl = NULL;
}

/* A TLS message after the handshake that QUIC has no place for: an
   unexpected message (alert 10, CRYPTO_ERROR 0x10a; RFC 9001 section 6 for
   KeyUpdate), with a log line. */
static int wt__tls_refuse_message(wt__conn *c, unsigned type, const char *why) {
    const char *peer = c->ep->server ? "client" : "server";
    wt__clog(c, -1, WT_LOG_WARN,
             "TLS failed: the %s sent a TLS %s message (type %u) after the handshake: %s; we send alert 10 (%s)",
             peer, type == 24 ? "KeyUpdate" : type == 4 ? "NewSessionTicket" : "handshake", type, why,
             wt__tls_alert_name(10));
    ngtcp2_ccerr_set_tls_alert(&c->tp.ccerr, 10, NULL, 0);
    c->fail_error = WT_ERR_TLS;
    return NGTCP2_ERR_CALLBACK_FAILURE;
}

/* CRYPTO data from the peer. Before and during the handshake (Initial and
   Handshake levels) it goes to wolfSSL. At the 1-RTT level, after it,
   wt.h reads the TLS messages itself (in order, as ngtcp2 hands them
   over: a 4-byte header of type and length, then the body), for QUIC
   leaves TLS almost nothing to say there: a server may send
   NewSessionTicket, which a wt.h client skips (it does not resume TLS
   sessions); KeyUpdate is forbidden (RFC 9001 section 6), and wolfSSL
   would act on one and install keys ngtcp2 asserts it never gets;
   post-handshake authentication is never asked for. So a server needs no
   TLS object after the handshake (wt__tls_release). */
static int wt__cb_recv_crypto_data(ngtcp2_conn *qc, ngtcp2_encryption_level level, uint64_t offset,
                                   const uint8_t *data, size_t datalen, void *user) {
    wt__conn *c = (wt__conn *)user;
    wt__conn_tp *tp = &c->tp;
    if (level != NGTCP2_ENCRYPTION_LEVEL_1RTT) {
        /* without a TLS object the Initial and Handshake keys are gone too */
        if (!tp->ssl) return wt__tls_refuse_message(c, datalen ? data[0] : 0u, "the handshake is over");
        return ngtcp2_crypto_recv_crypto_data_cb(qc, level, offset, data, datalen, user);
    }
    if (c->ep->server && datalen)
        return wt__tls_refuse_message(c, offset ? 0u : data[0], "a QUIC client has none to send");
    while (datalen) {
        size_t n;
        if (tp->post_left) { /* the body of a NewSessionTicket: skipped */
            n = WT__MIN(datalen, (size_t)tp->post_left);
            tp->post_left -= (uint32_t)n;
            data += n, datalen -= n;
            continue;
        }
        tp->post_hdr[tp->post_hdr_len++] = *data++;
        datalen--;
        if (tp->post_hdr_len < 4) continue;
        tp->post_hdr_len = 0;
        if (tp->post_hdr[0] != 4) return wt__tls_refuse_message(c, tp->post_hdr[0], "QUIC has no such message");
        tp->post_left = (uint32_t)tp->post_hdr[1] << 16 | (uint32_t)tp->post_hdr[2] << 8 | tp->post_hdr[3];
    }
    return 0;
}
