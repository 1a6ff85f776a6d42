/* udp_flood.c - raw UDP on loopback as fast as one receiver takes it: the
 * reference of the datagram figures (no QUIC, no crypto, no congestion
 * control: the kernel's own ceiling for one socket pair).
 *
 *   build/bench/udp_flood [--size 64] [--seconds 2] [--gso] [--cpus A,B]
 *
 * A receiver thread reads a socket on 127.0.0.1 with recvmmsg (64
 * messages a call) and UDP GRO where the kernel has it (a train of
 * same-size datagrams in one read, counted by its segment size); the main
 * thread sends datagrams of --size bytes for --seconds with sendmmsg (64 a
 * call), or with --gso as UDP GSO trains (one sendmsg of up to 64
 * segments). Whatever the receiver's buffer cannot hold is dropped by the
 * kernel, so the count is what one reader keeps up with. --cpus A,B pins
 * the receiver to CPU A and the sender to CPU B (as the wt.h side pins its
 * server and client), so the scheduler cannot put both on one CPU for some
 * runs and not others. Prints
 *   {"value": datagrams received per second, "sent": n, "received": n,
 *    "seconds": s, "gso": 0|1, "gro": 0|1}
 * over the span from the first datagram received to the last. Exits 1 if
 * nothing arrives.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define BATCH 64
#define RX_BUF 65536
#define SOCK_BUF (4 * 1024 * 1024) /* wt.h's limits.udp_buffer */
#define MAX_SIZE 1472

typedef struct rx_state {
    int fd, gro, cpu;
    atomic_int stop;
    uint64_t received, first_ns, last_ns;
} rx_state;

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
        fprintf(stderr, "udp_flood: cannot pin to CPU %d: left to the scheduler\n", cpu);
}

static void set_buf(int fd, int opt_force, int opt) {
    int size = SOCK_BUF;
    if (setsockopt(fd, SOL_SOCKET, opt_force, &size, sizeof size) != 0) /* root: past rmem_max */
        (void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof size);
}

static void *rx_main(void *arg) {
    rx_state *rx = (rx_state *)arg;
    static uint8_t bufs[BATCH][RX_BUF];
    static char ctl[BATCH][CMSG_SPACE(sizeof(int))];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    int i, n;
    pin(rx->cpu);
    for (;;) {
        memset(msgs, 0, sizeof msgs);
        for (i = 0; i < BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = RX_BUF;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = ctl[i];
            msgs[i].msg_hdr.msg_controllen = sizeof ctl[i];
        }
        n = recvmmsg(rx->fd, msgs, BATCH, 0, NULL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) { /* SO_RCVTIMEO: quiet */
                if (atomic_load(&rx->stop)) break;
                continue;
            }
            perror("udp_flood: recvmmsg");
            break;
        }
        rx->last_ns = mono_ns();
        if (!rx->received) rx->first_ns = rx->last_ns;
        for (i = 0; i < n; i++) {
            size_t len = msgs[i].msg_len, seg = 0;
            struct cmsghdr *c;
            for (c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c))
                if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
                    int v;
                    memcpy(&v, CMSG_DATA(c), sizeof v);
                    seg = (size_t)v;
                }
            rx->received += seg && len > seg ? (len + seg - 1) / seg : 1;
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    size_t size = 64;
    double seconds = 2;
    int gso = 0, i, one = 1, fd, rx_cpu = -1, tx_cpu = -1;
    rx_state rx;
    struct sockaddr_in addr;
    socklen_t alen = sizeof addr;
    struct timeval tv = {0, 100000};
    pthread_t th;
    static uint8_t payload[BATCH * MAX_SIZE];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    uint64_t sent = 0, end_ns;
    double span;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--gso")) gso = 1;
        else if (i + 1 < argc && !strcmp(argv[i], "--size")) size = (size_t)strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && !strcmp(argv[i], "--seconds")) seconds = atof(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--cpus")) {
            const char *v = argv[++i];
            if (strcmp(v, "-") && sscanf(v, "%d,%d", &rx_cpu, &tx_cpu) != 2)
                return fprintf(stderr, "udp_flood: --cpus A,B\n"), 1;
        } else {
            fprintf(stderr, "usage: udp_flood [--size B] [--seconds S] [--gso] [--cpus A,B|-]\n");
            return 1;
        }
    }
    if (size < 1 || size > MAX_SIZE || seconds <= 0 || seconds > 600) {
        fprintf(stderr, "udp_flood: --size 1..%d, --seconds up to 600\n", MAX_SIZE);
        return 1;
    }
    memset(&rx, 0, sizeof rx);
    rx.cpu = rx_cpu;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((rx.fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 || bind(rx.fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        getsockname(rx.fd, (struct sockaddr *)&addr, &alen) != 0) {
        perror("udp_flood: receiver socket");
        return 1;
    }
    set_buf(rx.fd, SO_RCVBUFFORCE, SO_RCVBUF);
    (void)setsockopt(rx.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    rx.gro = setsockopt(rx.fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
    if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("udp_flood: sender socket");
        return 1;
    }
    set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF);
    if (pthread_create(&th, NULL, rx_main, &rx) != 0) {
        fprintf(stderr, "udp_flood: cannot start the receiver\n");
        return 1;
    }
    pin(tx_cpu);
    memset(payload, 0x5a, sizeof payload);
    memset(msgs, 0, sizeof msgs);
    for (i = 0; i < BATCH; i++) {
        iov[i].iov_base = payload + (size_t)i * size;
        iov[i].iov_len = size;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    end_ns = mono_ns() + (uint64_t)(seconds * 1e9);
    if (gso) {
        /* one train: as many segments as fit 64 KiB, at most 64 */
        size_t segs = 65000 / size < BATCH ? 65000 / size : BATCH;
        char ctl[CMSG_SPACE(sizeof(uint16_t))];
        struct msghdr mh;
        struct iovec one_iov = {payload, segs * size};
        struct cmsghdr *c;
        uint16_t seg = (uint16_t)size;
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = &one_iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctl;
        mh.msg_controllen = sizeof ctl;
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof seg);
        memcpy(CMSG_DATA(c), &seg, sizeof seg);
        while (mono_ns() < end_ns) {
            ssize_t r = sendmsg(fd, &mh, 0);
            if (r < 0) {
                if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;
                perror("udp_flood: sendmsg with UDP_SEGMENT");
                return 1;
            }
            sent += segs;
        }
    } else {
        while (mono_ns() < end_ns) {
            int r = sendmmsg(fd, msgs, BATCH, 0);
            if (r < 0) {
                if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;
                perror("udp_flood: sendmmsg");
                return 1;
            }
            sent += (uint64_t)r;
        }
    }
    atomic_store(&rx.stop, 1);
    pthread_join(th, NULL);
    close(fd);
    close(rx.fd);
    span = (double)(rx.last_ns - rx.first_ns) / 1e9;
    if (!rx.received || span <= 0) {
        fprintf(stderr, "udp_flood: nothing received\n");
        return 1;
    }
    printf("{\"value\": %.0f, \"sent\": %llu, \"received\": %llu, \"seconds\": %.3f, \"gso\": %d, \"gro\": %d}\n",
           (double)rx.received / span, (unsigned long long)sent, (unsigned long long)rx.received, span, gso, rx.gro);
    return 0;
}
