/* SPDX-License-Identifier: Apache-2.0 */
/* Built by tests/integration/rx_switches.sh against a core configured with some of
 * SMARTCFG_WITH_ESPTOUCH_V2 / SMARTCFG_WITH_AIRKISS off: every protocol the build keeps
 * decodes a lossy simulated capture through the receiver front, every protocol it left out is
 * refused by name and by mask and its capture never completes, and the storage shrinks. */
#include <stdio.h>
#include <string.h>

#include "smartcfg/air.h"
#include "smartcfg/receiver.h"

static sc_air_t air;
static sc_receiver_t rx;
static unsigned passed, failed;

#define CHECK(cond, ...)                                        \
    do {                                                        \
        if (cond) {                                             \
            passed++;                                           \
        } else {                                                \
            failed++;                                           \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);         \
            printf(__VA_ARGS__);                                \
            printf("\n");                                       \
        }                                                       \
    } while (0)

/* one capture of protocol p through a receiver running every protocol built (mask 0):
 * 1 and *res on a completed session */
static int decode(sc_air_proto_t p, unsigned seed, sc_rx_event_t *ev)
{
    sc_air_config_t c;
    sc_air_config_default(&c);
    c.protocol = p;
    c.seed = seed;
    c.loss = 0.1;
    c.retry = 0.05;
    c.foreign = 1.0;
    c.ak_random = 0x42;
    if (sc_air_init(&air, &c) != SC_OK || sc_receiver_init(&rx, 0) != SC_OK)
        return -1;
    sc_frame_t f;
    uint32_t t;
    while (sc_air_next(&air, &f, &t) == SC_OK) {
        if (sc_receiver_feed(&rx, &f, t, ev) == SC_ET_EV_DONE)
            return 1;
        if (t % 500u == 0)
            (void)sc_receiver_tick(&rx, t);
    }
    return 0;
}

int main(void)
{
    static const struct {
        sc_air_proto_t air;
        unsigned bit;
        const char *name;
    } protos[] = {
        { SC_AIR_PROTO_V1, SC_PROTO_ESPTOUCH_V1, "v1" },
        { SC_AIR_PROTO_V2, SC_PROTO_ESPTOUCH_V2, "v2" },
        { SC_AIR_PROTO_AIRKISS, SC_PROTO_AIRKISS, "airkiss" },
    };
    unsigned want = SC_PROTO_ESPTOUCH_V1 | (SMARTCFG_WITH_ESPTOUCH_V2 ? SC_PROTO_ESPTOUCH_V2 : 0u) |
                    (SMARTCFG_WITH_AIRKISS ? SC_PROTO_AIRKISS : 0u);
    printf("built v2=%d airkiss=%d mask=%u sizeof(sc_receiver_t)=%zu\n", SMARTCFG_WITH_ESPTOUCH_V2,
           SMARTCFG_WITH_AIRKISS, (unsigned)SC_PROTO_BUILT, sizeof(sc_receiver_t));
    CHECK(SC_PROTO_BUILT == want, "SC_PROTO_BUILT %u, switches say %u", (unsigned)SC_PROTO_BUILT, want);
    /* the state shrinks by exactly the decoders left out (and, with v2, the channel search's 16
     * bytes for relayed broadcasts: receiver.h) */
    size_t full = 16u + SC_ET_RX_SIZE + SC_ET2_RX_SIZE + 16u + SC_AK_RX_SIZE; /* the front's own 16 bytes */
    size_t left_out = (SMARTCFG_WITH_ESPTOUCH_V2 ? 0u : SC_ET2_RX_SIZE + 16u) + (SMARTCFG_WITH_AIRKISS ? 0u : SC_AK_RX_SIZE);
    CHECK(sizeof(sc_receiver_t) == full - left_out, "sizeof(sc_receiver_t) %zu, expected %zu", sizeof(sc_receiver_t),
          full - left_out);
    unsigned m = 0;
    CHECK(sc_proto_parse("all", &m) == SC_OK && m == want, "\"all\" is %u", m);
    CHECK(sc_proto_parse("v3", &m) == SC_ERR_INVAL, "unknown name accepted");
    CHECK(sc_receiver_init(&rx, 8u) == SC_ERR_INVAL, "unknown mask bit accepted");
    for (unsigned i = 0; i < sizeof protos / sizeof protos[0]; i++) {
        int built = (want & protos[i].bit) != 0;
        sc_err_t e = sc_proto_parse(protos[i].name, &m);
        CHECK(built ? e == SC_OK && m == protos[i].bit : e == SC_ERR_UNSUPPORTED, "parse %s: %d", protos[i].name, (int)e);
        e = sc_receiver_init(&rx, protos[i].bit);
        CHECK(built ? e == SC_OK : e == SC_ERR_UNSUPPORTED, "init with %s: %d", protos[i].name, (int)e);
        for (unsigned seed = 1; seed <= 3; seed++) {
            sc_rx_event_t ev;
            memset(&ev, 0, sizeof ev);
            int r = decode(protos[i].air, seed, &ev);
            if (!built) {
                CHECK(r == 0, "%s capture (seed %u) completed in a build without it", protos[i].name, seed);
                continue;
            }
            CHECK(r == 1, "%s capture (seed %u) did not complete", protos[i].name, seed);
            CHECK(r == 1 && ev.result.proto == (sc_proto_t)protos[i].bit, "%s: result tagged %d", protos[i].name,
                  (int)ev.result.proto);
            CHECK(r == 1 && ev.result.ssid_len == 12 && !memcmp(ev.result.ssid, "TP-LINK_2.4G", 12) &&
                      ev.result.password_len == 8 && !memcmp(ev.result.password, "12345678", 8),
                  "%s: wrong credentials", protos[i].name);
        }
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
