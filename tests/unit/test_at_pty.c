/* SPDX-License-Identifier: Apache-2.0 */
/* The AT front-end on a real pty pair: raw mode keeps "\r\n" intact both ways, chunked
 * input, a host that stops reading does not hang the device, and a hang-up is reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "sc_posix.h"
#include "sc_posix_at.h"

static int starts;

static int op_start(void *ctx, const sc_identity_t *id, uint8_t tls)
{
    (void)ctx; (void)id; (void)tls;
    starts++;
    return 0;
}

static int open_master(char *slave, size_t cap)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(m >= 0);
    assert_int_equal(grantpt(m), 0);
    assert_int_equal(unlockpt(m), 0);
    const char *s = ptsname(m);
    assert_non_null(s);
    snprintf(slave, cap, "%s", s);
    return m;
}

/* Runs the device side until the host side has received want (or a timeout). */
static void expect(int master, const char *want)
{
    char got[4096];
    size_t n = 0;
    uint32_t t0 = sc_posix_now_ms();
    while (sc_posix_now_ms() - t0 < 3000) {
        struct pollfd p[2] = { { .fd = sc_posix_at_fd(), .events = POLLIN }, { .fd = master, .events = POLLIN } };
        poll(p, 2, 50);
        if (p[0].revents & POLLIN)
            assert_int_equal(sc_posix_at_on_readable(sc_posix_now_ms()), SC_OK);
        if (p[1].revents & POLLIN) {
            ssize_t r = read(master, got + n, sizeof got - 1 - n);
            if (r > 0)
                n += (size_t)r;
            got[n] = 0;
            if (n >= strlen(want))
                break;
        }
    }
    got[n] = 0;
    assert_string_equal(got, want);
}

static void send_str(int master, const char *s)
{
    assert_int_equal(write(master, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_pty_session(void **state)
{
    (void)state;
    char slave[128];
    int m = open_master(slave, sizeof slave);
    sc_at_config_t cfg;
    sc_at_config_default(&cfg);
    sc_at_ops_t ops = { .start_smartconfig = op_start };
    char err[200] = "";
    assert_int_equal(sc_posix_at_open(slave, 0, &cfg, &ops, err, sizeof err), SC_OK);
    assert_int_equal(sc_posix_at_open(slave, 0, &cfg, &ops, err, sizeof err), SC_ERR_BUSY);
    assert_true(sc_posix_at_fd() >= 0);
    /* the slave is raw: no echo by the tty itself, CR/LF untouched */
    int sfd = sc_posix_at_fd();
    struct termios t;
    assert_int_equal(tcgetattr(sfd, &t), 0);
    assert_int_equal(t.c_lflag & (ECHO | ICANON), 0);
    assert_int_equal(t.c_iflag & (ICRNL | INLCR | IGNCR), 0);
    assert_int_equal(t.c_oflag & OPOST, 0);
    assert_int_equal(cfgetospeed(&t), B115200);
    expect(m, "ready\r\n");   /* the boot line, once the tty is raw */

    send_str(m, "AT\r\n");
    expect(m, "AT\r\nOK\r\n");   /* echo on by default */
    send_str(m, "ATE0\r\n");
    expect(m, "ATE0\r\nOK\r\n");
    send_str(m, "AT+TCDEVINFOSET=1,\"PID0123456\",\"dev-001\",\"c2VjcmV0\"\r\n");
    expect(m, "OK\r\n+TCDEVINFOSET:OK\r\n");
    /* byte at a time through the tty */
    const char *s = "AT+TCSTARTSMART\r\n";
    for (size_t i = 0; s[i]; i++) {
        send_str(m, (char[]){ s[i], 0 });
        usleep(1000);
        struct pollfd p = { .fd = sc_posix_at_fd(), .events = POLLIN };
        if (poll(&p, 1, 20) > 0)
            sc_posix_at_on_readable(sc_posix_now_ms());
    }
    expect(m, "OK\r\n+TCSTARTSMART:OK\r\n");
    assert_int_equal(starts, 1);
    /* URC from the device side */
    sc_at_provision_result(sc_posix_at_core(), true, 0, 0);
    expect(m, "+TCSTARTSMART:WIFI_CONNECT_SUCCESS\r\n");
    /* garbage, then recovery */
    send_str(m, "\x01\x02zz\r\nAT\r\n");
    expect(m, "ERROR\r\nOK\r\n");

    /* A host that never reads: the device keeps answering without blocking for long. */
    uint32_t t0 = sc_posix_now_ms();
    for (int i = 0; i < 2000; i++) {
        send_str(m, "AT+TCMODULE\r\n");
        sc_posix_at_on_readable(sc_posix_now_ms());
        if (sc_posix_at_dropped())
            break;
    }
    assert_true(sc_posix_at_dropped() > 0);
    assert_true(sc_posix_now_ms() - t0 < 10000);
    /* F34: and it keeps sending: 300 more commands (each reply dropped) cost a bounded time,
     * not 200 ms each (a minute, during which the device did nothing else) */
    t0 = sc_posix_now_ms();
    for (int i = 0; i < 300; i++) {
        send_str(m, "AT+TCMODULE\r\n");
        sc_posix_at_on_readable(sc_posix_now_ms());
    }
    uint32_t spent = sc_posix_now_ms() - t0;
    print_message("300 commands with nobody reading: %u ms\n", spent);
    assert_true(spent < 3000);
    /* drain, then hang up */
    char junk[4096];
    int fl = fcntl(m, F_GETFL);
    fcntl(m, F_SETFL, fl | O_NONBLOCK);
    while (read(m, junk, sizeof junk) > 0)
        ;
    close(m);
    sc_err_t e = SC_OK;
    for (int i = 0; i < 50 && e == SC_OK; i++) {
        struct pollfd p = { .fd = sc_posix_at_fd(), .events = POLLIN };
        poll(&p, 1, 20);
        e = sc_posix_at_on_readable(sc_posix_now_ms());
    }
    assert_int_equal(e, SC_ERR_CLOSED);
    sc_posix_at_close();
    assert_int_equal(sc_posix_at_fd(), -1);
    assert_null(sc_posix_at_core());
}

static void test_open_errors(void **state)
{
    (void)state;
    sc_at_config_t cfg;
    sc_at_config_default(&cfg);
    char err[200] = "";
    assert_int_equal(sc_posix_at_open("/nonexistent/tty", 0, &cfg, NULL, err, sizeof err), SC_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/tty"));
    assert_int_equal(sc_posix_at_open("/dev/null", 12345, &cfg, NULL, err, sizeof err), SC_ERR_RANGE);
    /* not a tty: served as is (no termios) */
    assert_int_equal(sc_posix_at_open("/dev/null", 9600, &cfg, NULL, err, sizeof err), SC_OK);
    assert_int_equal(sc_posix_at_on_readable(0), SC_ERR_CLOSED);   /* EOF */
    sc_posix_at_close();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pty_session),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
