/* test_cert.c - certificate generation as browsers need it. */
#include <sys/stat.h>

static int wt_test_tmpdir(char *out, size_t n) {
    snprintf(out, n, "/tmp/wt_test_XXXXXX");
    return mkdtemp(out) ? 0 : -1;
}

WT_TEST(cert_generate_is_browser_acceptable) {
    char dir[64], crt[128], key[128];
    wt_cert_config cfg;
    WOLFSSL_X509 *x;
    const char *alts[] = {"example.test", "10.1.2.3", NULL};
    uint8_t h1[32], h2[32];
    struct stat st;
    REQUIRE(wt_test_tmpdir(dir, sizeof dir) == 0);
    snprintf(crt, sizeof crt, "%s/c.pem", dir);
    snprintf(key, sizeof key, "%s/k.pem", dir);
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "localhost";
    cfg.alt_names = alts;
    cfg.cert_file = crt;
    cfg.key_file = key;
    REQUIRE(wt_cert_generate(&cfg) == WT_OK);
    REQUIRE(stat(key, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);

    x = wolfSSL_X509_load_certificate_file(crt, WOLFSSL_FILETYPE_PEM);
    REQUIRE(x != NULL);
    {
        /* ECDSA P-256, v3, total validity <= 14 days and now inside it */
        const WOLFSSL_ASN1_TIME *nb = wolfSSL_X509_get_notBefore(x);
        const WOLFSSL_ASN1_TIME *na = wolfSSL_X509_get_notAfter(x);
        int days = 0, secs = 0;
        CHECK_EQ_INT(wolfSSL_X509_get_version(x), 2); /* 2 means X.509v3 */
        CHECK_EQ_INT(wolfSSL_X509_get_signature_type(x), CTC_SHA256wECDSA);
        REQUIRE(nb && na);
        REQUIRE(wolfSSL_ASN1_TIME_diff(&days, &secs, nb, na) == 1);
        CHECK(days * 86400 + secs <= 14 * 86400);
        CHECK(days >= 10);
        CHECK(wolfSSL_X509_check_host(x, "localhost", 9, 0, NULL) == 1);
        CHECK(wolfSSL_X509_check_host(x, "example.test", 12, 0, NULL) == 1);
        CHECK(wolfSSL_X509_check_host(x, "other.test", 10, 0, NULL) != 1);
        CHECK(wolfSSL_X509_check_ip_asc(x, "127.0.0.1", 0) == 1);
        CHECK(wolfSSL_X509_check_ip_asc(x, "10.1.2.3", 0) == 1);
    }
    wolfSSL_X509_free(x);

    /* the hash is over the DER and stable across calls */
    REQUIRE(wt_cert_sha256(crt, h1) == WT_OK);
    REQUIRE(wt_cert_sha256(crt, h2) == WT_OK);
    CHECK(memcmp(h1, h2, 32) == 0);
    /* a second certificate has a new key, so a new hash */
    REQUIRE(wt_cert_generate(&cfg) == WT_OK);
    REQUIRE(wt_cert_sha256(crt, h2) == WT_OK);
    CHECK(memcmp(h1, h2, 32) != 0);
    unlink(crt);
    unlink(key);
    rmdir(dir);
}

static int wt_test_errors_logged;
static void wt_test_count_errors(wt_log_level level, const char *msg, void *user) {
    (void)msg, (void)user;
    if (level == WT_LOG_ERROR) wt_test_errors_logged++;
}

WT_TEST(cert_errors_are_reported_and_logged) {
    uint8_t h[32];
    wt_cert_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.log.fn = wt_test_count_errors;
    CHECK_EQ_INT(wt_cert_sha256(NULL, h), WT_ERR_INVALID);
    cfg.valid_days = -1;
    wt_test_errors_logged = 0;
    CHECK_EQ_INT(wt_cert_generate(&cfg), WT_ERR_INVALID);
    CHECK_EQ_INT(wt_test_errors_logged, 1);
    cfg.valid_days = 1;
    cfg.cert_file = "/nonexistent/dir/c.pem";
    wt_test_errors_logged = 0;
    CHECK_EQ_INT(wt_cert_generate(&cfg), WT_ERR_IO);
    CHECK_EQ_INT(wt_test_errors_logged, 1);
}
