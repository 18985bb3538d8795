/* SPDX-License-Identifier: Apache-2.0 */
/* UDP HAL over loopback: bind to a given address, send/recv, truncation, EAGAIN, conflicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sc_posix_udp.h"

static uint16_t local_port(const sc_posix_udp_t *u, int h)
{
    struct sockaddr_in sa;
    socklen_t l = sizeof sa;
    getsockname(u->fd[h], (struct sockaddr *)&sa, &l);
    return ntohs(sa.sin_port);
}

static void test_loopback_roundtrip(void **state)
{
    (void)state;
    sc_posix_udp_t u;
    sc_hal_udp_t h;
    sc_posix_udp_init(&u, &h);
    const uint8_t a2[4] = { 127, 0, 0, 2 }, a3[4] = { 127, 0, 0, 3 };
    int ha, hb;
    assert_int_equal(h.open(h.ctx, a2, 0, false, &ha), SC_OK);
    assert_int_equal(h.open(h.ctx, a3, 0, true, &hb), SC_OK);
    uint16_t pa = local_port(&u, ha), pb = local_port(&u, hb);
    uint8_t buf[64];
    size_t len = 99;
    bool trunc = true;
    sc_ipv4_ep_t from;
    assert_int_equal(h.recv_from(h.ctx, hb, &from, buf, sizeof buf, &len, &trunc), SC_ERR_AGAIN);

    sc_ipv4_ep_t to = { { 127, 0, 0, 3 }, pb };
    assert_int_equal(h.send_to(h.ctx, ha, &to, "0123456789", 10), SC_OK);
    struct pollfd pfd[SC_POSIX_UDP_MAX];
    assert_int_equal(sc_posix_udp_pollfds(&u, pfd, SC_POSIX_UDP_MAX), 2);
    assert_int_equal(poll(pfd, 2, 1000), 1);
    assert_int_equal(h.recv_from(h.ctx, hb, &from, buf, sizeof buf, &len, &trunc), SC_OK);
    assert_int_equal(len, 10);
    assert_false(trunc);
    assert_memory_equal(buf, "0123456789", 10);
    /* the source is the sender's own bound address, which is what replies must go to */
    assert_memory_equal(from.addr, a2, 4);
    assert_int_equal(from.port, pa);

    /* truncation is reported, with len = cap */
    assert_int_equal(h.send_to(h.ctx, ha, &to, "0123456789", 10), SC_OK);
    assert_int_equal(poll(pfd, 2, 1000), 1);
    assert_int_equal(h.recv_from(h.ctx, hb, &from, buf, 4, &len, &trunc), SC_OK);
    assert_int_equal(len, 4);
    assert_true(trunc);
    assert_int_equal(u.truncated, 1);
    /* truncated pointer is optional */
    assert_int_equal(h.send_to(h.ctx, ha, &to, "xy", 2), SC_OK);
    assert_int_equal(poll(pfd, 2, 1000), 1);
    assert_int_equal(h.recv_from(h.ctx, hb, NULL, buf, sizeof buf, &len, NULL), SC_OK);
    assert_int_equal(len, 2);

    /* the same address and port twice is a conflict, another address is not */
    int hc;
    assert_int_equal(h.open(h.ctx, a3, pb, false, &hc), SC_ERR_BUSY);
    const uint8_t a4[4] = { 127, 0, 0, 4 };
    assert_int_equal(h.open(h.ctx, a4, pb, false, &hc), SC_OK);
    /* an address this host does not have */
    const uint8_t foreign[4] = { 192, 0, 2, 77 };
    int hd;
    assert_int_equal(h.open(h.ctx, foreign, 0, false, &hd), SC_ERR_INVAL);

    h.close(h.ctx, ha);
    assert_int_equal(h.send_to(h.ctx, ha, &to, "x", 1), SC_ERR_INVAL);
    assert_int_equal(h.recv_from(h.ctx, 999, &from, buf, sizeof buf, &len, NULL), SC_ERR_INVAL);
    h.close(h.ctx, -1); /* harmless */
    sc_posix_udp_close_all(&u);
    assert_int_equal(sc_posix_udp_pollfds(&u, pfd, SC_POSIX_UDP_MAX), 0);
}

static void test_table_full(void **state)
{
    (void)state;
    sc_posix_udp_t u;
    sc_hal_udp_t h;
    sc_posix_udp_init(&u, &h);
    const uint8_t lo[4] = { 127, 0, 0, 1 };
    int hd;
    for (int i = 0; i < SC_POSIX_UDP_MAX; i++)
        assert_int_equal(h.open(h.ctx, lo, 0, false, &hd), SC_OK);
    assert_int_equal(h.open(h.ctx, lo, 0, false, &hd), SC_ERR_NOSPACE);
    h.close(h.ctx, 3);
    assert_int_equal(h.open(h.ctx, lo, 0, false, &hd), SC_OK);
    assert_int_equal(hd, 3);
    sc_posix_udp_close_all(&u);
}

static void test_broadcast_needs_flag(void **state)
{
    (void)state;
    sc_posix_udp_t u;
    sc_hal_udp_t h;
    sc_posix_udp_init(&u, &h);
    int plain, bcast;
    assert_int_equal(h.open(h.ctx, NULL, 0, false, &plain), SC_OK);
    assert_int_equal(h.open(h.ctx, NULL, 0, true, &bcast), SC_OK);
    sc_ipv4_ep_t to = { { 255, 255, 255, 255 }, 18266 };
    /* Without SO_BROADCAST the kernel refuses (EACCES); with it the send may still fail for
     * lack of a route in a bare namespace, but never as "refused". */
    assert_int_equal(h.send_to(h.ctx, plain, &to, "x", 1), SC_ERR_REFUSED);
    assert_int_not_equal(h.send_to(h.ctx, bcast, &to, "x", 1), SC_ERR_REFUSED);
    sc_posix_udp_close_all(&u);
}

/* A port found taken names its holder (F71): our own socket is found by /proc/net/udp, on its
 * address and through the wildcard; on another address it has none. */
static void test_port_holder(void **state)
{
    (void)state;
    sc_posix_udp_t u;
    sc_hal_udp_t h;
    sc_posix_udp_init(&u, &h);
    const uint8_t a2[4] = { 127, 0, 0, 2 }, a3[4] = { 127, 0, 0, 3 };
    int ha;
    assert_int_equal(h.open(h.ctx, a2, 0, false, &ha), SC_OK);
    uint16_t port = local_port(&u, ha);
    assert_int_equal(sc_posix_udp_port_holder(a2, port), (long)geteuid());
    assert_int_equal(sc_posix_udp_port_holder(NULL, port), (long)geteuid());
    assert_int_equal(sc_posix_udp_port_holder(a3, port), -1);   /* another address: not a conflict */
    char text[64];
    sc_posix_udp_holder_text(text, sizeof text, a2, port);
    assert_string_equal(text, " (held by another socket of this user)");
    int hb;
    assert_int_equal(h.open(h.ctx, a2, port, false, &hb), SC_ERR_BUSY);
    sc_posix_udp_holder_text(text, sizeof text, a3, port);
    assert_string_equal(text, "");
    sc_posix_udp_close_all(&u);
}

/* F76: an IPv6 socket on [::] (dual-stack, the default) or on ::ffff:127.0.0.2 holds the IPv4
 * port too: the bind fails, and the holder is in /proc/net/udp6, which was not read (the error
 * said "Address already in use" and nothing of who). On ::1 it holds nothing of IPv4. */
static void test_port_holder_ipv6(void **state)
{
    (void)state;
    const uint8_t a2[4] = { 127, 0, 0, 2 };
    static const char *const addrs[] = { "::", "::ffff:127.0.0.2", "::1" };
    for (size_t i = 0; i < 3; i++) {
        int fd = socket(AF_INET6, SOCK_DGRAM, 0);
        assert_true(fd >= 0);
        int off = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
        assert_int_equal(inet_pton(AF_INET6, addrs[i], &sa.sin6_addr), 1);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            close(fd);
            assert_int_equal(i, 2);   /* a host without ::1 (IPv6 off on lo): the others must work */
            continue;
        }
        socklen_t sl = sizeof sa;
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
        uint16_t port = ntohs(sa.sin6_port);
        long want = i < 2 ? (long)geteuid() : -1;
        /* the wildcard query for [::] only: beside ::1 or ::ffff:127.0.0.2 an unrelated IPv4
         * socket of this host may hold the same port number on another address */
        if (sc_posix_udp_port_holder(a2, port) != want || (i == 0 && sc_posix_udp_port_holder(NULL, port) != want))
            fail_msg("holder of a socket on [%s]:%u: %ld, want %ld", addrs[i], port, sc_posix_udp_port_holder(a2, port),
                     want);
        close(fd);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_roundtrip),
        cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_broadcast_needs_flag),
        cmocka_unit_test(test_port_holder),
        cmocka_unit_test(test_port_holder_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
