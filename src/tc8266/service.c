/* SPDX-License-Identifier: Apache-2.0 */
/* The UDP 8266 service and the 9876 log service (service.h). Unlike the reference, which
 * handles one datagram and stops, the service keeps answering until the flow moves on: the
 * app resends its request every 2 s and must get the same answer each time, and a junk
 * datagram must not end the session for the real app. */
#include <string.h>

#include "../common/log.h"
#include "service.h"

void sc_tc8266_svc_init(sc_tc8266_svc_t *s, const sc_hal_t *hal, const sc_diag_log_t *log, bool log_only)
{
    memset(s, 0, sizeof *s);
    s->hal = hal;
    s->log = log;
    s->log_only = log_only;
    s->log_raised = log_only; /* the 9876 service only exists while the log soft-AP is up */
    s->budget = &s->own_budget;
    s->h = -1;
}

void sc_tc8266_svc_share(sc_tc8266_svc_t *s, sc_tc8266_svc_t *with) { s->budget = with->budget; }

void sc_tc8266_svc_log_raised(sc_tc8266_svc_t *s, bool up) { s->log_raised = up || s->log_only; }

/* The time an empty budget takes to fill up (rounded up, so FILL_MS ms always refill it all). */
#define FILL_MS ((SC_TC8266_BUDGET_BYTES * 1000u + SC_TC8266_BUDGET_RATE - 1u) / SC_TC8266_BUDGET_RATE)
_Static_assert(FILL_MS * (uint64_t)SC_TC8266_BUDGET_RATE <= UINT32_MAX / 2, "the clamped refill fits 32 bits");

/* Takes n bytes from the global reply budget; false (and nothing taken) when it would then
 * hold less than `keep`. */
static bool budget_take(sc_tc8266_budget_t *b, uint32_t now, size_t n, size_t keep)
{
    if (!b->started) {
        b->started = true;
        b->bytes = SC_TC8266_BUDGET_BYTES;
        b->at = now;
    }
    int32_t dt = sc_ms_diff(now, b->at);
    if (dt > 0) {
        /* Past FILL_MS the bucket is full whatever dt is: clamped, the refill is 32-bit
         * arithmetic (no 64-bit multiply and divide helpers on a 32-bit MCU). */
        uint32_t ms = (uint32_t)dt < FILL_MS ? (uint32_t)dt : FILL_MS;
        uint32_t add = ms * SC_TC8266_BUDGET_RATE / 1000u;
        if (add) {
            uint32_t v = b->bytes + add;
            b->bytes = v > SC_TC8266_BUDGET_BYTES ? SC_TC8266_BUDGET_BYTES : v;
            b->at = now;
        }
    } else if (dt < -60000) {
        b->at = now; /* the clock went back: restart the refill from here */
    }
    if (b->bytes < n || b->bytes - n < keep)
        return false;
    b->bytes -= (uint32_t)n;
    return true;
}

sc_err_t sc_tc8266_svc_open(sc_tc8266_svc_t *s, const uint8_t *local_ip, uint16_t port)
{
    if (s->open)
        return SC_OK;
    if (!s->hal->udp.open)
        return SC_ERR_UNSUPPORTED;
    sc_err_t e = s->hal->udp.open(s->hal->udp.ctx, local_ip, port, false, &s->h);
    if (e == SC_OK)
        s->open = true;
    return e;
}

void sc_tc8266_svc_close(sc_tc8266_svc_t *s)
{
    if (s->open && s->hal->udp.close)
        s->hal->udp.close(s->hal->udp.ctx, s->h);
    s->open = false;
    s->h = -1;
    s->id_repeats = 0;
    s->log_resend = false;
    memset(s->log_peers, 0, sizeof s->log_peers); /* a service opened again serves a new log */
}

void sc_tc8266_svc_reset_peers(sc_tc8266_svc_t *s)
{
    s->app_known = false;
    memset(s->peers, 0, sizeof s->peers);
    memset(s->log_peers, 0, sizeof s->log_peers);
}

static sc_err_t send_to(sc_tc8266_svc_t *s, const sc_ipv4_ep_t *to, const void *buf, size_t len)
{
    if (!s->open)
        return SC_ERR_STATE;
    if (!s->hal->udp.send_to)
        return SC_ERR_UNSUPPORTED;
    sc_err_t e = s->hal->udp.send_to(s->hal->udp.ctx, s->h, to, buf, len);
    if (e == SC_OK)
        s->stats.bytes_out += (uint32_t)len;
    return e;
}

static bool ep_eq(const sc_ipv4_ep_t *a, const sc_ipv4_ep_t *b)
{
    return a->port == b->port && memcmp(a->addr, b->addr, 4) == 0;
}

/* Per-peer token bucket for error replies: a flood of junk earns a few replies, never a
 * reply storm, and never touches another peer's state. The table is tiny: when full, the
 * least recently seen entry is reused (worst case a spoofer resets its own budget). */
static bool peer_allow(sc_tc8266_svc_t *s, const sc_ipv4_ep_t *ep, uint32_t now)
{
    sc_tc8266_peer_t *p = NULL, *lru = &s->peers[0];
    for (size_t i = 0; i < SC_TC8266_PEERS; i++) {
        sc_tc8266_peer_t *c = &s->peers[i];
        if (c->used && ep_eq(&c->ep, ep)) {
            p = c;
            break;
        }
        if (!c->used)
            lru = c;
        else if (lru->used && sc_ms_diff(c->last_seen, lru->last_seen) < 0)
            lru = c;
    }
    if (!p) {
        p = lru;
        p->used = 1;
        p->ep = *ep;
        p->tokens = SC_TC8266_RL_BURST;
        p->refill_at = now + SC_TC8266_RL_REFILL_MS;
    }
    p->last_seen = now;
    while (sc_ms_reached(now, p->refill_at)) {
        if (p->tokens < SC_TC8266_RL_BURST)
            p->tokens++;
        p->refill_at += SC_TC8266_RL_REFILL_MS;
        if (p->tokens == SC_TC8266_RL_BURST && sc_ms_reached(now, p->refill_at))
            p->refill_at = now + SC_TC8266_RL_REFILL_MS;
    }
    if (!p->tokens)
        return false;
    p->tokens--;
    return true;
}

void sc_tc8266_svc_reject(sc_tc8266_svc_t *s, const sc_ipv4_ep_t *from, uint16_t err_id, int32_t sub_id,
                          uint32_t now, const char *what)
{
    s->stats.bad_dgrams++;
    if (!peer_allow(s, from, now)) {
        s->stats.rate_limited++;
        return;
    }
    sc_logf(&s->hal->sys, SC_LOG_WARN, "8266: %s from %u.%u.%u.%u:%u -> (%u, %ld)", what, from->addr[0],
            from->addr[1], from->addr[2], from->addr[3], (unsigned)from->port, (unsigned)err_id, (long)sub_id);
    size_t len = 0;
    if (sc_tc8266_build_error(s->txbuf, sizeof s->txbuf, false, err_id, sub_id, &len) != SC_OK)
        return;
    if (!budget_take(s->budget, now, len, 0)) {
        s->stats.rate_limited++;
        return;
    }
    if (send_to(s, from, s->txbuf, len) == SC_OK)
        s->stats.err_replies++;
}

void sc_tc8266_svc_set_app(sc_tc8266_svc_t *s, const sc_ipv4_ep_t *app)
{
    s->app = *app;
    s->app_known = true;
}

static void send_identity(sc_tc8266_svc_t *s, const sc_ipv4_ep_t *to, const sc_identity_t *id)
{
    size_t len = 0;
    if (sc_tc8266_build_identity(s->txbuf, sizeof s->txbuf, id, &len) == SC_OK && send_to(s, to, s->txbuf, len) == SC_OK)
        s->stats.identity_replies++;
}

void sc_tc8266_svc_identify(sc_tc8266_svc_t *s, const sc_ipv4_ep_t *to, const sc_identity_t *id, uint32_t now)
{
    send_identity(s, to, id);
    s->id_repeats = SC_TC8266_ID_REPEATS;
    s->id_next = now + SC_TC8266_ID_REPEAT_MS;
}

void sc_tc8266_svc_stop_repeats(sc_tc8266_svc_t *s) { s->id_repeats = 0; }

sc_err_t sc_tc8266_svc_send_error(sc_tc8266_svc_t *s, bool previous, uint16_t err_id, int32_t sub_id)
{
    if (!s->app_known || !s->open)
        return SC_ERR_STATE;
    size_t len = 0;
    sc_err_t e = sc_tc8266_build_error(s->txbuf, sizeof s->txbuf, previous, err_id, sub_id, &len);
    return e == SC_OK ? send_to(s, &s->app, s->txbuf, len) : e;
}

/* The address's entry if it was sent the log within LOG_EVERY_MS, else NULL; *slot is where
 * to note it (its own entry, a free one, or the oldest). */
static const sc_tc8266_log_peer_t *log_peer_recent(sc_tc8266_svc_t *s, const uint8_t addr[4], uint32_t now,
                                                   sc_tc8266_log_peer_t **slot)
{
    sc_tc8266_log_peer_t *old = &s->log_peers[0];
    for (size_t i = 0; i < SC_TC8266_LOG_PEERS; i++) {
        sc_tc8266_log_peer_t *c = &s->log_peers[i];
        if (c->used && memcmp(c->addr, addr, 4) == 0) {
            *slot = c;
            int32_t dt = sc_ms_diff(now, c->at);
            return dt >= 0 && dt < SC_TC8266_LOG_EVERY_MS ? c : NULL;
        }
        if (!c->used || (old->used && sc_ms_diff(c->at, old->at) < 0))
            old = c;
    }
    *slot = old;
    return NULL;
}

/* The log goes out only while the log soft-AP is raised, only within the global budget (it is
 * the longest reply: up to 1280 bytes for a 13-byte query), and to one address once per
 * LOG_EVERY_MS unless the budget is rich (`again`: the second copy of one already sent). */
static bool send_log(sc_tc8266_svc_t *s, const sc_ipv4_ep_t *to, uint32_t now, bool again)
{
    if (!s->log_raised) {
        s->stats.bad_dgrams++;
        return false;
    }
    /* Asked again within LOG_EVERY_MS (both copies lost, the app restarted): served only from
     * a budget that keeps, after both copies of this one, a whole log (two copies) for another
     * address. A quiet device answers at once; one host asking 20 times a second still leaves
     * the phone its log at its first try (F60). */
    sc_tc8266_log_peer_t *slot = NULL;
    bool recent = !again && log_peer_recent(s, to->addr, now, &slot) != NULL;
    size_t len = sc_diag_log_concat(s->log, s->txbuf, sizeof s->txbuf);
    if (!budget_take(s->budget, now, len, recent ? 3 * len : 0)) {
        s->stats.rate_limited++;
        return false;
    }
    if (send_to(s, to, s->txbuf, len) != SC_OK)
        return false;
    if (slot) {
        memcpy(slot->addr, to->addr, 4);
        slot->used = true;
        slot->at = now;
    }
    s->stats.log_replies++;
    return true;
}

/* The log service answers cmdType 3 and ignores everything else: it runs on an open soft-AP
 * anyone may join, so it gives strangers nothing but the (secret-free) log. */
static void log_service_dgram(sc_tc8266_svc_t *s, const sc_ipv4_ep_t *from, size_t len, bool trunc, uint32_t now)
{
    sc_tc8266_req_t req;
    uint16_t err_id;
    int32_t sub_id;
    memset(&req, 0, sizeof req);
    if (!trunc && sc_tc8266_parse_request(s->rxbuf, len, &req, &err_id, &sub_id) == SC_OK &&
        req.cmd_type == SC_TC8266_CMD_LOG) {
        if (send_log(s, from, now, false)) {
            s->log_peer = *from;
            s->log_resend = true;
            s->log_resend_at = now + SC_TC8266_LOG_RESEND_MS;
        }
    } else {
        s->stats.bad_dgrams++;
    }
    sc_wipe(&req, sizeof req);
}

sc_err_t sc_tc8266_svc_recv(sc_tc8266_svc_t *s, uint32_t now, sc_ipv4_ep_t *from, sc_tc8266_req_t *req)
{
    if (!s->open || !s->hal->udp.recv_from)
        return SC_ERR_AGAIN;
    size_t len = 0;
    bool trunc = false;
    if (s->hal->udp.recv_from(s->hal->udp.ctx, s->h, from, s->rxbuf, SC_TC8266_DGRAM_MAX + 1, &len, &trunc) != SC_OK)
        return SC_ERR_AGAIN;
    if (len > SC_TC8266_DGRAM_MAX)
        trunc = true;
    s->stats.bytes_in += (uint32_t)len;
    if (s->log_only) {
        log_service_dgram(s, from, len, trunc, now);
        return SC_ERR_DONE;
    }
    s->stats.dgrams++;
    if (trunc) {
        sc_tc8266_svc_reject(s, from, SC_ERRID_APP_CMD, SC_SUBID_JSON, now, "oversized datagram");
        return SC_ERR_DONE;
    }
    uint16_t err_id;
    int32_t sub_id;
    if (sc_tc8266_parse_request(s->rxbuf, len, req, &err_id, &sub_id) != SC_OK) {
        sc_wipe(req, sizeof *req);
        sc_tc8266_svc_reject(s, from, err_id, sub_id, now, "bad request");
        return SC_ERR_DONE;
    }
    if (req->cmd_type == SC_TC8266_CMD_LOG) {
        (void)send_log(s, from, now, false);
        sc_wipe(req, sizeof *req);
        return SC_ERR_DONE;
    }
    return SC_OK;
}

uint32_t sc_tc8266_svc_step(sc_tc8266_svc_t *s, uint32_t now, const sc_identity_t *id, uint32_t next)
{
    if (!s->open)
        return next;
    if (s->log_resend) {
        if (sc_ms_reached(now, s->log_resend_at)) {
            (void)send_log(s, &s->log_peer, now, true);
            s->log_resend = false;
        } else {
            next = sc_ms_min(next, s->log_resend_at);
        }
    }
    if (s->id_repeats && s->app_known) {
        if (sc_ms_reached(now, s->id_next)) {
            send_identity(s, &s->app, id);
            s->id_repeats--;
            s->id_next = now + SC_TC8266_ID_REPEAT_MS;
        }
        if (s->id_repeats)
            next = sc_ms_min(next, s->id_next);
    }
    return next;
}
