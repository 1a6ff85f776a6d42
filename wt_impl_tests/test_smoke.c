/* test_smoke.c - the built dependencies work: a real QUIC handshake between
   an ngtcp2 client and server, both on wolfSSL, with packets passed in
   memory, then stream data across. A broken dependency build fails here. */

typedef struct smoke_ep {
    ngtcp2_conn *conn;
    WOLFSSL_CTX *ctx;
    WOLFSSL *ssl;
    ngtcp2_crypto_conn_ref ref;
    struct sockaddr_in local, remote;
    int handshake_done;
    char got[64];
    size_t got_len;
} smoke_ep;

static WC_RNG smoke_rng;
static ngtcp2_tstamp smoke_now = 1000000000ULL;

static ngtcp2_conn *smoke_get_conn(ngtcp2_crypto_conn_ref *ref) {
    return ((smoke_ep *)ref->user_data)->conn;
}

static void smoke_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx) {
    (void)ctx;
    wc_RNG_GenerateBlock(&smoke_rng, dest, (word32)len);
}

static int smoke_new_cid(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *user) {
    (void)conn, (void)user;
    wc_RNG_GenerateBlock(&smoke_rng, cid->data, (word32)cidlen);
    cid->datalen = cidlen;
    wc_RNG_GenerateBlock(&smoke_rng, token, NGTCP2_STATELESS_RESET_TOKENLEN);
    return 0;
}

static int smoke_handshake_completed(ngtcp2_conn *conn, void *user) {
    (void)conn;
    ((smoke_ep *)user)->handshake_done = 1;
    return 0;
}

static int smoke_recv_stream_data(ngtcp2_conn *conn, uint32_t flags, int64_t stream_id, uint64_t offset,
                                  const uint8_t *data, size_t datalen, void *user, void *stream_user) {
    smoke_ep *ep = (smoke_ep *)user;
    (void)conn, (void)flags, (void)stream_id, (void)stream_user;
    if (offset + datalen <= sizeof ep->got) {
        memcpy(ep->got + offset, data, datalen);
        if (offset + datalen > ep->got_len) ep->got_len = offset + datalen;
    }
    return 0;
}

static void smoke_callbacks(ngtcp2_callbacks *cb, int server) {
    memset(cb, 0, sizeof *cb);
    if (server) cb->recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
    else {
        cb->client_initial = ngtcp2_crypto_client_initial_cb;
        cb->recv_retry = ngtcp2_crypto_recv_retry_cb;
    }
    cb->recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
    cb->encrypt = ngtcp2_crypto_encrypt_cb;
    cb->decrypt = ngtcp2_crypto_decrypt_cb;
    cb->hp_mask = ngtcp2_crypto_hp_mask_cb;
    cb->update_key = ngtcp2_crypto_update_key_cb;
    cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
    cb->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
    cb->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
    cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
    cb->rand = smoke_rand;
    cb->get_new_connection_id = smoke_new_cid;
    cb->handshake_completed = smoke_handshake_completed;
    cb->recv_stream_data = smoke_recv_stream_data;
}

static void smoke_addr(struct sockaddr_in *sa, uint16_t port) {
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    sa->sin_addr.s_addr = htonl(0x7f000001);
}

static ngtcp2_path smoke_path(smoke_ep *ep) {
    ngtcp2_path p;
    memset(&p, 0, sizeof p);
    p.local.addr = (ngtcp2_sockaddr *)&ep->local;
    p.local.addrlen = sizeof ep->local;
    p.remote.addr = (ngtcp2_sockaddr *)&ep->remote;
    p.remote.addrlen = sizeof ep->remote;
    return p;
}

static void smoke_params(ngtcp2_settings *s, ngtcp2_transport_params *tp) {
    ngtcp2_settings_default(s);
    s->initial_ts = smoke_now;
    ngtcp2_transport_params_default(tp);
    tp->initial_max_streams_bidi = 4;
    tp->initial_max_streams_uni = 4;
    tp->initial_max_data = 1 << 20;
    tp->initial_max_stream_data_bidi_local = 1 << 16;
    tp->initial_max_stream_data_bidi_remote = 1 << 16;
    tp->initial_max_stream_data_uni = 1 << 16;
    tp->max_datagram_frame_size = 1200;
}

/* Moves every packet one side has to send into the other; returns the count. */
static int smoke_pump(smoke_ep *from, smoke_ep *to, smoke_ep *server, const char *crt, const char *key,
                      int64_t stream, const char *msg) {
    uint8_t pkt[1500];
    int n = 0;
    for (;;) {
        ngtcp2_path_storage ps;
        ngtcp2_pkt_info pi;
        ngtcp2_path rp;
        ngtcp2_ssize w, used = -1;
        ngtcp2_vec v;
        ngtcp2_path_storage_zero(&ps);
        v.base = (uint8_t *)msg;
        v.len = msg ? strlen(msg) : 0;
        if (stream >= 0 && msg)
            w = ngtcp2_conn_writev_stream(from->conn, &ps.path, &pi, pkt, sizeof pkt, &used,
                                          NGTCP2_WRITE_STREAM_FLAG_FIN, stream, &v, 1, smoke_now);
        else
            w = ngtcp2_conn_write_pkt(from->conn, &ps.path, &pi, pkt, sizeof pkt, smoke_now);
        if (w <= 0) return w < 0 ? -1 : n;
        if (used > 0) msg = NULL;
        n++;
        if (to == server && !to->conn) {
            /* first packet at the server: accept it and make the connection */
            ngtcp2_pkt_hd hd;
            ngtcp2_settings s;
            ngtcp2_transport_params tp;
            ngtcp2_callbacks cb;
            ngtcp2_cid scid;
            if (ngtcp2_accept(&hd, pkt, (size_t)w) != 0) return -1;
            smoke_params(&s, &tp);
            tp.original_dcid = hd.dcid;
            tp.original_dcid_present = 1;
            scid.datalen = 16;
            wc_RNG_GenerateBlock(&smoke_rng, scid.data, 16);
            smoke_callbacks(&cb, 1);
            rp = smoke_path(to);
            if (ngtcp2_conn_server_new(&to->conn, &hd.scid, &scid, &rp, hd.version, &cb, &s, &tp, NULL, to) != 0)
                return -1;
            to->ctx = wolfSSL_CTX_new(wolfTLSv1_3_server_method());
            if (!to->ctx || ngtcp2_crypto_wolfssl_configure_server_context(to->ctx) != 0) return -1;
            if (wolfSSL_CTX_use_certificate_file(to->ctx, crt, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS) return -1;
            if (wolfSSL_CTX_use_PrivateKey_file(to->ctx, key, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS) return -1;
            to->ssl = wolfSSL_new(to->ctx);
            to->ref.get_conn = smoke_get_conn;
            to->ref.user_data = to;
            wolfSSL_set_app_data(to->ssl, &to->ref);
            wolfSSL_set_accept_state(to->ssl);
            wolfSSL_UseALPN(to->ssl, (char *)"h3", 2, WOLFSSL_ALPN_FAILED_ON_MISMATCH);
            ngtcp2_conn_set_tls_native_handle(to->conn, to->ssl);
        }
        rp = smoke_path(to);
        if (ngtcp2_conn_read_pkt(to->conn, &rp, &pi, pkt, (size_t)w, smoke_now) != 0) return -1;
    }
}

WT_TEST(smoke_quic_handshake_in_memory) {
    smoke_ep cl, sv;
    char dir[64], crt[128], key[128];
    wt_cert_config cc;
    ngtcp2_settings s;
    ngtcp2_transport_params tp;
    ngtcp2_callbacks cb;
    ngtcp2_cid dcid, scid;
    ngtcp2_path p;
    int round, rv;
    int64_t sid = -1;
    char *alpn = NULL;
    unsigned short alpn_len = 0;

    memset(&cl, 0, sizeof cl);
    memset(&sv, 0, sizeof sv);
    REQUIRE(wc_InitRng(&smoke_rng) == 0);
    REQUIRE(wt_test_tmpdir(dir, sizeof dir) == 0);
    snprintf(crt, sizeof crt, "%s/c.pem", dir);
    snprintf(key, sizeof key, "%s/k.pem", dir);
    memset(&cc, 0, sizeof cc);
    cc.cert_file = crt;
    cc.key_file = key;
    REQUIRE(wt_cert_generate(&cc) == WT_OK);

    smoke_addr(&cl.local, 50000);
    smoke_addr(&cl.remote, 4433);
    smoke_addr(&sv.local, 4433);
    smoke_addr(&sv.remote, 50000);
    smoke_params(&s, &tp);
    smoke_callbacks(&cb, 0);
    dcid.datalen = 18;
    scid.datalen = 16;
    wc_RNG_GenerateBlock(&smoke_rng, dcid.data, 18);
    wc_RNG_GenerateBlock(&smoke_rng, scid.data, 16);
    p = smoke_path(&cl);
    REQUIRE(ngtcp2_conn_client_new(&cl.conn, &dcid, &scid, &p, NGTCP2_PROTO_VER_V1, &cb, &s, &tp, NULL, &cl) == 0);
    cl.ctx = wolfSSL_CTX_new(wolfTLSv1_3_client_method());
    REQUIRE(cl.ctx && ngtcp2_crypto_wolfssl_configure_client_context(cl.ctx) == 0);
    /* the pinned certificate is checked below by hash, as a browser would */
    wolfSSL_CTX_set_verify(cl.ctx, WOLFSSL_VERIFY_NONE, NULL);
    cl.ssl = wolfSSL_new(cl.ctx);
    cl.ref.get_conn = smoke_get_conn;
    cl.ref.user_data = &cl;
    wolfSSL_set_app_data(cl.ssl, &cl.ref);
    wolfSSL_set_connect_state(cl.ssl);
    wolfSSL_set_alpn_protos(cl.ssl, (const unsigned char *)"\x02h3", 3);
    wolfSSL_set_quic_transport_version(cl.ssl, 0x39);
    wolfSSL_UseSNI(cl.ssl, WOLFSSL_SNI_HOST_NAME, "localhost", 9);
    ngtcp2_conn_set_tls_native_handle(cl.conn, cl.ssl);

    for (round = 0; round < 20 && !(cl.handshake_done && sv.handshake_done); round++) {
        smoke_now += 1000000;
        REQUIRE(smoke_pump(&cl, &sv, &sv, crt, key, -1, NULL) >= 0);
        REQUIRE(sv.conn != NULL);
        REQUIRE(smoke_pump(&sv, &cl, &sv, crt, key, -1, NULL) >= 0);
    }
    CHECK(cl.handshake_done);
    CHECK(sv.handshake_done);
    REQUIRE(wolfSSL_ALPN_GetProtocol(cl.ssl, &alpn, &alpn_len) == WOLFSSL_SUCCESS);
    CHECK(alpn_len == 2 && memcmp(alpn, "h3", 2) == 0);
    {
        /* the client saw the server's certificate: its hash matches the file */
        WOLFSSL_X509 *peer = wolfSSL_get_peer_certificate(cl.ssl);
        uint8_t want[32], got[32];
        int der_len = 0;
        const unsigned char *der;
        REQUIRE(peer != NULL);
        der = wolfSSL_X509_get_der(peer, &der_len);
        REQUIRE(der && der_len > 0);
        wc_Sha256Hash(der, (word32)der_len, got);
        REQUIRE(wt_cert_sha256(crt, want) == WT_OK);
        CHECK(memcmp(want, got, 32) == 0);
        wolfSSL_X509_free(peer);
    }
    /* application data over the negotiated keys */
    REQUIRE(ngtcp2_conn_open_bidi_stream(cl.conn, &sid, NULL) == 0);
    rv = smoke_pump(&cl, &sv, &sv, crt, key, sid, "hello over QUIC");
    CHECK(rv > 0);
    CHECK(sv.got_len == 15 && memcmp(sv.got, "hello over QUIC", 15) == 0);

    ngtcp2_conn_del(cl.conn);
    ngtcp2_conn_del(sv.conn);
    wolfSSL_free(cl.ssl);
    wolfSSL_free(sv.ssl);
    wolfSSL_CTX_free(cl.ctx);
    wolfSSL_CTX_free(sv.ctx);
    wc_FreeRng(&smoke_rng);
    unlink(crt);
    unlink(key);
    rmdir(dir);
}
