/* gen_cert.c - make a self-signed certificate browsers accept by hash.
 *
 *   cc -std=c11 examples/gen_cert.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o gen_cert
 *   ./gen_cert [host]          ($P: cat build/deps/prefix after make deps)
 *
 * Writes <host>.crt and <host>.key and prints the SHA-256 to pass as
 * serverCertificateHashes in `new WebTransport(url, {...})`.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

int main(int argc, char **argv) {
    wt_cert_config cfg = {0};
    char crt[300], hex[65];
    uint8_t hash[32];
    int rv;
    cfg.host = argc > 1 ? argv[1] : "localhost";
    cfg.log.level = WT_LOG_INFO;
    if ((rv = wt_cert_generate(&cfg)) != WT_OK) {
        fprintf(stderr, "gen_cert: %s\n", wt_strerror(rv));
        return 1;
    }
    snprintf(crt, sizeof crt, "%s.crt", cfg.host);
    if ((rv = wt_cert_sha256(crt, hash)) != WT_OK) {
        fprintf(stderr, "gen_cert: %s\n", wt_strerror(rv));
        return 1;
    }
    wt_hex(hash, sizeof hash, hex);
    printf("sha256: %s\n", hex);
    return 0;
}
