/* udp_pingpong.c - raw UDP round trips on loopback, one at a time: the
 * reference of the rtt figure (the kernel's and the scheduler's share of a
 * round trip, without QUIC).
 *
 *   build/bench/udp_pingpong [--size 64] [--n 2000] [--cpus A,B]
 *
 * An echo thread on CPU A sends every datagram back; the main thread on
 * CPU B sends one of --size bytes, waits for it in a blocking recv, and
 * sends the next, --n times after 20 of warm-up (A,B default 0,1: the two
 * ends on different CPUs, as the wt.h side runs; "-" leaves them to the
 * scheduler). Prints
 *   {"value": p50 in us, "p90_us": .., "p99_us": .., "min_us": .., "n": n}
 * A datagram not back within 200 ms is sent again (none is lost on
 * loopback unless a buffer overflows); exits 1 after 100 such.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 20
#define MAX_SIZE 1472

static int echo_fd;

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu) {
    cpu_set_t set;
    if (cpu < 0) return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
        fprintf(stderr, "udp_pingpong: cannot pin to CPU %d: left to the scheduler\n", cpu);
}

static int echo_cpu = 0;

static void *echo_main(void *arg) {
    uint8_t buf[2048];
    struct sockaddr_in from;
    (void)arg;
    pin(echo_cpu);
    for (;;) {
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(echo_fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
        if (n < 0) {
            if (errno == EINTR) continue;
            break; /* shut down */
        }
        if (n == 0) break; /* the stop datagram */
        (void)sendto(echo_fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
    }
    return NULL;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, c = *(const double *)y;
    return a < c ? -1 : a > c;
}

int main(int argc, char **argv) {
    size_t size = 64;
    long n = 2000, done = 0, resent = 0, i;
    int my_cpu = 1, fd;
    uint64_t seq = 0;
    struct sockaddr_in addr;
    socklen_t alen = sizeof addr;
    struct timeval tv = {0, 200000};
    pthread_t th;
    uint8_t buf[MAX_SIZE], in[2048];
    double *rtt;

    for (i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--size")) size = (size_t)strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && !strcmp(argv[i], "--n")) n = atol(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--cpus")) {
            const char *v = argv[++i];
            if (!strcmp(v, "-")) echo_cpu = my_cpu = -1;
            else if (sscanf(v, "%d,%d", &echo_cpu, &my_cpu) != 2) return fprintf(stderr, "udp_pingpong: --cpus A,B\n"), 1;
        } else {
            fprintf(stderr, "usage: udp_pingpong [--size B] [--n N] [--cpus A,B|-]\n");
            return 1;
        }
    }
    if (size < 8 || size > MAX_SIZE || n < 1 || n > 10000000) {
        fprintf(stderr, "udp_pingpong: --size 8..%d, --n 1..10000000\n", MAX_SIZE);
        return 1;
    }
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) echo_cpu = my_cpu = -1; /* nothing to cross */
    if (!(rtt = (double *)calloc((size_t)n, sizeof(double)))) return 1;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((echo_fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 || bind(echo_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        getsockname(echo_fd, (struct sockaddr *)&addr, &alen) != 0 || (fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
        connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("udp_pingpong: sockets");
        return 1;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (pthread_create(&th, NULL, echo_main, NULL) != 0) return 1;
    pin(my_cpu);
    memset(buf, 0xa5, sizeof buf);
    while (done < n) {
        uint64_t t0, got;
        ssize_t r;
        seq++;
        memcpy(buf, &seq, sizeof seq);
        t0 = mono_ns();
        if (send(fd, buf, size, 0) < 0) {
            perror("udp_pingpong: send");
            return 1;
        }
        for (;;) {
            r = recv(fd, in, sizeof in, 0);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) break; /* timed out: send the next one */
            memcpy(&got, in, sizeof got);
            if (r >= 8 && got == seq) break;
        }
        if (r < 0) {
            if (++resent > 100) {
                fprintf(stderr, "udp_pingpong: 100 round trips lost\n");
                return 1;
            }
            continue;
        }
        if (seq > WARMUP) rtt[done++] = (double)(mono_ns() - t0) / 1e3;
    }
    (void)send(fd, buf, 0, 0); /* stops the echo thread */
    pthread_join(th, NULL);
    qsort(rtt, (size_t)n, sizeof(double), cmp_double);
    printf("{\"value\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, \"min_us\": %.1f, \"n\": %ld}\n", rtt[n / 2],
           rtt[n * 9 / 10], rtt[n * 99 / 100], rtt[0], n);
    close(fd);
    close(echo_fd);
    free(rtt);
    return 0;
}
