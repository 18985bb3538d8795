/* SPDX-License-Identifier: Apache-2.0 */
/* sc_hal_mqtt_t on lwIP's MQTT client (lwip/apps/mqtt.h; mqtt.c comes from Debian's lwip
 * source package, see CMakeLists.txt). lwIP's client calls back in the tcpip thread: the
 * callbacks record the connection state, the acknowledged publishes and the incoming messages
 * (reassembled from lwIP's fragments) under the core lock, and wake the core's loop. No
 * reconnect: the core decides, as with the POSIX port.
 *
 * Between TCP and lwIP's client sits the port's packet aligner (rx_*): lwIP 2.1.3's parser keeps
 * a packet's bytes across TCP segments only when a segment ends exactly where its 512-byte
 * buffer fills or the packet ends; any other boundary made it write the next segment over the
 * bytes it had kept (the topic, the start of the payload) and hand that on as a message. The
 * aligner buffers the stream and gives the client exactly those pieces: the fixed header with
 * the first buffer's worth of the packet, then one buffer's worth at a time, whatever the
 * segments were. It also sees the topic's bytes, so a topic with a NUL (lwIP hands the topic
 * on as a C string: "a\0b" would be "a") is dropped instead of taken for another topic.
 *
 * The aligner is also the port's flow control: a PUBLISH is handed on only while the queue has
 * room for it. With the queue full it stops and keeps the rest of the stream (rx_held) until
 * poll() makes room; bytes it keeps are not yet acknowledged to TCP (lwIP's client calls
 * tcp_recved() for what it is handed), so the broker's window closes and it holds the rest.
 * Before, the fifth message lwIP took in before the core's next poll was dropped: a burst of
 * junk just ahead of the cloud's reply lost the reply, and the bind timed out. */
#include <errno.h>
#include <string.h>

#include "lwip/apps/mqtt.h"
#include "lwip/apps/mqtt_priv.h"
#include "lwip/ip_addr.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"

#include "sc_lwip.h"

#define ACK_RING 16

struct sc_lwip_mqtt {
    mqtt_client_t client;         /* static: lwIP's own struct, no heap */
    sc_mqtt_state_t state;
    int reason;
    bool ever_connected;
    int next_mid;
    int acked[ACK_RING];
    bool ack_used[ACK_RING];
    unsigned ack_next;
    uint32_t ack_order[ACK_RING]; /* the PUBACK's order stamp */
    /* SUBSCRIBE / UNSUBSCRIBE requests (request_status): mid, outcome (SC_ERR_AGAIN till the
     * answer) and the answer's order stamp; a ring like acked */
    int req_mid[ACK_RING];
    sc_err_t req_res[ACK_RING];
    uint32_t req_order[ACK_RING];
    bool req_used[ACK_RING];
    unsigned req_next;
    uint32_t order;               /* hal.h sc_mqtt_msg_t.order: PUBLISHes, PUBACKs, SUBACKs, UNSUBACKs in */
    sc_mqtt_msg_t queue[SC_LWIP_MQTT_QUEUE];
    unsigned q_head, q_count, dropped;
    sc_mqtt_msg_t in;             /* the message being reassembled */
    size_t in_total, in_seen;
    bool in_active, in_drop;
    unsigned long bad;            /* publishes dropped: NUL in the topic, topic too long */
    /* the aligner: one piece for lwIP's parser (fixed header <= 5 bytes + one buffer) */
    tcp_connected_fn rx_inner_connected;
    tcp_recv_fn rx_inner_recv;
    uint8_t rx_buf[5 + MQTT_VAR_HEADER_BUFFER_LEN];
    size_t rx_n;                  /* bytes held */
    size_t rx_hdr;                /* fixed header's length once complete, else 0 */
    uint32_t rx_rem;              /* the packet's remaining length */
    uint32_t rx_done;             /* bytes of it already handed on */
    bool rx_topic_nul;            /* the piece being handed on is a publish with a NUL in its topic */
    bool rx_stalled;              /* a PUBLISH's first piece waits in rx_buf for room in the queue */
    struct pbuf *rx_held;         /* the stream after it (owned; at most lwIP's TCP window) */
    size_t rx_tail_len;           /* its last bytes as lwIP received them: a buffer each segment */
    unsigned rx_tail_n;           /* the pbufs they take */
    bool rx_fin;                  /* the broker closed the connection behind the held bytes */
};

static sc_lwip_mqtt_t g_mqtt;

/* ---- callbacks: tcpip thread, core lock held ----------------------------------------------- */

static void on_connection(mqtt_client_t *client, void *arg, mqtt_connection_status_t status)
{
    (void)client;
    sc_lwip_mqtt_t *m = arg;
    if (status == MQTT_CONNECT_ACCEPTED) {
        m->state = SC_MQTT_CONNECTED;
        m->reason = 0;
        m->ever_connected = true;
    } else if (m->state == SC_MQTT_CONNECTING || m->state == SC_MQTT_CONNECTED) {
        m->state = SC_MQTT_FAILED;
        if (status >= MQTT_CONNECT_REFUSED_PROTOCOL_VERSION && status <= MQTT_CONNECT_REFUSED_NOT_AUTHORIZED_)
            m->reason = (int)status; /* the CONNACK return code, as the POSIX port reports it */
        else if (status == MQTT_CONNECT_TIMEOUT)
            m->reason = ETIMEDOUT;
        else
            m->reason = m->ever_connected ? ECONNRESET : ECONNREFUSED;
    }
    sc_lwip_wake();
}

/* The next order stamp (never 0: that means unstamped). */
static uint32_t next_order(sc_lwip_mqtt_t *m)
{
    if (++m->order == 0)
        m->order = 1;
    return m->order;
}

static void on_publish_done(void *arg, err_t err)
{
    sc_lwip_mqtt_t *m = &g_mqtt;
    if (err == ERR_OK) {
        /* QoS 1: lwIP calls this when the PUBACK arrived (QoS 0: when it was sent). */
        m->acked[m->ack_next] = (int)(intptr_t)arg;
        m->ack_used[m->ack_next] = true;
        m->ack_order[m->ack_next] = next_order(m);
        m->ack_next = (m->ack_next + 1) % ACK_RING;
        sc_lwip_wake();
    }
}

static void on_subscribed(void *arg, err_t err)
{
    (void)arg;
    (void)err; /* a refused SUBACK shows as the reply never coming: the core's deadline */
}

/* The SUBACK (ERR_OK granted, ERR_ABRT 0x80) or UNSUBACK of request `arg` (its mid). lwIP's own
 * timeout (ERR_TIMEOUT, 30 s) is no answer: the caller's deadline decides. */
static void on_req_answer(void *arg, err_t err)
{
    sc_lwip_mqtt_t *m = &g_mqtt;
    int mid = (int)(intptr_t)arg;
    if (err == ERR_TIMEOUT)
        return;
    uint32_t order = next_order(m);
    for (unsigned i = 0; i < ACK_RING; i++)
        if (m->req_used[i] && m->req_mid[i] == mid) {
            m->req_res[i] = err == ERR_OK ? SC_OK : SC_ERR_REFUSED;
            m->req_order[i] = order;
        }
    sc_lwip_wake();
}

static void on_incoming_publish(void *arg, const char *topic, u32_t tot_len)
{
    sc_lwip_mqtt_t *m = arg;
    memset(&m->in, 0, sizeof m->in);
    m->in.order = next_order(m);   /* a message dropped here takes its place too */
    size_t tl = strlen(topic);
    m->in_total = tot_len;
    m->in_seen = 0;
    m->in_active = true;
    m->in_drop = m->q_count == SC_LWIP_MQTT_QUEUE;
    if (m->rx_topic_nul || tl >= sizeof m->in.topic) {
        /* not a topic we subscribed to, whatever its first bytes say: never cut it into one */
        m->in_drop = true;
        m->bad++;
    } else {
        memcpy(m->in.topic, topic, tl);
    }
    if (tot_len == 0) {
        /* no data callback follows for an empty payload in every lwIP version: finish here */
        if (!m->in_drop) {
            m->queue[(m->q_head + m->q_count) % SC_LWIP_MQTT_QUEUE] = m->in;
            m->q_count++;
            sc_lwip_wake();
        } else if (!m->rx_topic_nul) {
            m->dropped++;
        }
        m->in_active = false;
    }
}

static void on_incoming_data(void *arg, const u8_t *data, u16_t len, u8_t flags)
{
    sc_lwip_mqtt_t *m = arg;
    if (!m->in_active)
        return;
    size_t room = sizeof m->in.payload - m->in.payload_len;
    size_t n = len < room ? len : room;
    if (n && data)
        memcpy(m->in.payload + m->in.payload_len, data, n);
    m->in.payload_len += n;
    m->in_seen += len;
    if (n < len)
        m->in.truncated = true;
    if (flags & MQTT_DATA_FLAG_LAST) {
        if (m->in_seen != m->in_total)
            m->in.truncated = true; /* the parser lost bytes: never whole */
        if (m->in_drop) {
            m->dropped++;
        } else {
            m->queue[(m->q_head + m->q_count) % SC_LWIP_MQTT_QUEUE] = m->in;
            m->q_count++;
            sc_lwip_wake();
        }
        m->in_active = false;
        memset(&m->in, 0, sizeof m->in);
    }
}

/* ---- the aligner: TCP -> lwIP's parser, one whole piece at a time (tcpip thread) ---------------- */

static void rx_reset(sc_lwip_mqtt_t *m)
{
    m->rx_n = m->rx_hdr = 0;
    m->rx_rem = m->rx_done = 0;
    m->rx_topic_nul = false;
    if (m->rx_held)
        pbuf_free(m->rx_held);
    m->rx_held = NULL;
    m->rx_tail_len = 0;
    m->rx_tail_n = 0;
    m->rx_stalled = m->rx_fin = false;
}

/* The piece of the packet lwIP's parser takes whole: the fixed header (first piece only) and
 * the body up to its buffer's end (MQTT_VAR_HEADER_BUFFER_LEN, header included) or the
 * packet's end. */
static size_t rx_piece_len(const sc_lwip_mqtt_t *m)
{
    size_t body = m->rx_rem - m->rx_done;
    size_t room = MQTT_VAR_HEADER_BUFFER_LEN - m->rx_hdr;
    return (m->rx_done == 0 ? m->rx_hdr : 0) + (body < room ? body : room);
}

enum { RX_OK, RX_CLOSED, RX_ABORTED, RX_FULL };

/* The piece complete in rx_buf goes to lwIP's recv callback as one pbuf. */
static int rx_hand_on(sc_lwip_mqtt_t *m, struct tcp_pcb *pcb)
{
    struct pbuf *q = pbuf_alloc(PBUF_RAW, (u16_t)m->rx_n, PBUF_RAM);
    if (!q) {
        tcp_abort(pcb); /* lwIP's error callback reports the loss; the core reconnects */
        return RX_ABORTED;
    }
    pbuf_take(q, m->rx_buf, (u16_t)m->rx_n);
    m->rx_topic_nul = false;
    if (m->rx_done == 0 && (m->rx_buf[0] >> 4) == 3 && m->rx_n >= m->rx_hdr + 2) {
        size_t tl = (size_t)m->rx_buf[m->rx_hdr] << 8 | m->rx_buf[m->rx_hdr + 1];
        size_t have = m->rx_n - m->rx_hdr - 2;
        m->rx_topic_nul = memchr(m->rx_buf + m->rx_hdr + 2, 0, tl < have ? tl : have) != NULL;
    }
    m->rx_done += (uint32_t)(m->rx_n - (m->rx_done == 0 ? m->rx_hdr : 0));
    m->rx_n = 0;
    m->rx_inner_recv(&m->client, pcb, q, ERR_OK); /* frees q; may close the connection */
    m->rx_topic_nul = false;
    if (m->client.conn != pcb)
        return RX_CLOSED;
    if (m->rx_done >= m->rx_rem)
        m->rx_hdr = m->rx_rem = m->rx_done = 0; /* the packet is through: the next one's header */
    return RX_OK;
}

/* Feeds p from *off through the aligner until p is used up (RX_OK), a PUBLISH waits for room in
 * the queue (RX_FULL: its first piece stays in rx_buf, *off is where the rest starts), or the
 * connection is gone (RX_CLOSED, RX_ABORTED: lwIP's own callbacks report it). p may be NULL:
 * only a waiting piece is handed on. */
static int rx_feed(sc_lwip_mqtt_t *m, struct tcp_pcb *pcb, struct pbuf *p, u16_t *off)
{
    for (;;) {
        if (m->rx_hdr && m->rx_n == rx_piece_len(m)) {
            if (m->rx_done == 0 && (m->rx_buf[0] >> 4) == 3 && m->q_count == SC_LWIP_MQTT_QUEUE)
                return RX_FULL;
            int r = rx_hand_on(m, pcb);
            if (r != RX_OK)
                return r;
            continue;
        }
        if (p == NULL || *off >= p->tot_len)
            return RX_OK;
        if (!m->rx_hdr) {
            /* the fixed header: the type byte and 1..4 length bytes */
            uint8_t b = pbuf_get_at(p, (*off)++);
            m->rx_buf[m->rx_n++] = b;
            if (m->rx_n >= 2 && !(b & 0x80)) {
                uint32_t rem = 0;
                for (size_t i = m->rx_n - 1; i >= 1; i--)
                    rem = rem << 7 | (m->rx_buf[i] & 0x7fu);
                m->rx_hdr = m->rx_n;
                m->rx_rem = rem;
                m->rx_done = 0;
            } else if (m->rx_n == 5) { /* a fifth length byte: not MQTT */
                tcp_abort(pcb);
                return RX_ABORTED;
            }
            continue;
        }
        size_t take = rx_piece_len(m) - m->rx_n;
        if (take > (size_t)(p->tot_len - *off))
            take = p->tot_len - *off;
        pbuf_copy_partial(p, m->rx_buf + m->rx_n, (u16_t)take, *off);
        m->rx_n += take;
        *off = (u16_t)(*off + take);
    }
}

/* Each segment lwIP hands on keeps the whole frame it came in (and a pbuf of its own): a broker
 * sending a byte per segment made the held window cost ~96 bytes a byte (5 120 one-byte
 * segments held in 5 120 pbufs, 490 KB; ~6 MB for lwIP's 64 KB window, or all of a fixed pbuf
 * pool). Past SC_LWIP_MQTT_HELD_PBUFS of them, the tail of segments is copied into one buffer,
 * each byte once. False when lwIP has no memory for it. */
static bool rx_compact(sc_lwip_mqtt_t *m)
{
    struct pbuf *prev = NULL, *t = m->rx_held;
    if (t == NULL || m->rx_tail_n <= SC_LWIP_MQTT_HELD_PBUFS)
        return true;
    while (t->next && t->tot_len > m->rx_tail_len) { /* the tail: the pbufs of its last bytes */
        prev = t;
        t = t->next;
    }
    struct pbuf *q = pbuf_alloc(PBUF_RAW, t->tot_len, PBUF_RAM);
    if (q == NULL)
        return false;
    pbuf_copy_partial(t, q->payload, t->tot_len, 0);
    if (prev)
        prev->next = q; /* the same length behind prev: its tot_len holds */
    else
        m->rx_held = q;
    pbuf_free(t);
    m->rx_tail_len = 0;
    m->rx_tail_n = 0;
    return true;
}

/* The stream after a stall: what rx_feed left of p (freed when nothing is left); fresh: p is
 * as lwIP handed it on, else it is the held stream (its tail stays the tail). */
static bool rx_hold(sc_lwip_mqtt_t *m, struct pbuf *p, u16_t off, bool fresh)
{
    m->rx_stalled = true;
    m->rx_held = p ? pbuf_free_header(p, off) : NULL;
    size_t left = m->rx_held ? m->rx_held->tot_len : 0;
    m->rx_tail_len = fresh || m->rx_tail_len > left ? left : m->rx_tail_len;
    m->rx_tail_n = 0;
    for (struct pbuf *q = m->rx_held; q; q = q->next)
        m->rx_tail_n += q->tot_len <= m->rx_tail_len;
    return rx_compact(m);
}

/* The held stream dropped and the connection with it: lwIP's error callback reports the loss,
 * the core reconnects. */
static void rx_abort(sc_lwip_mqtt_t *m, struct tcp_pcb *pcb)
{
    rx_reset(m);
    tcp_abort(pcb);
}

/* p (owned; NULL: only a waiting piece) through the aligner, in lwIP's thread for a fresh
 * segment or from poll() for the held stream: what a full queue stops is held (RX_FULL); when
 * lwIP has no memory to hold it, the connection goes (RX_ABORTED), as after RX_CLOSED. */
static int rx_take(sc_lwip_mqtt_t *m, struct tcp_pcb *pcb, struct pbuf *p, bool fresh)
{
    u16_t off = 0;
    int r = rx_feed(m, pcb, p, &off);
    if (r == RX_FULL) {
        if (rx_hold(m, p, off, fresh))
            return RX_FULL;
        rx_abort(m, pcb);
        return RX_ABORTED;
    }
    if (p)
        pbuf_free(p);
    return r;
}

static err_t rx_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    sc_lwip_mqtt_t *m = &g_mqtt;
    if (!p && err == ERR_OK && m->rx_stalled) {
        m->rx_fin = true; /* the messages before the FIN first (rx_resume closes) */
        return ERR_OK;
    }
    if (!p || err != ERR_OK) {
        rx_reset(m);
        return m->rx_inner_recv(arg, pcb, p, err); /* closed by the broker, or an error: lwIP's */
    }
    if (m->rx_stalled) {
        /* the window bounds what is held; a chain past pbuf's 16-bit length is not that */
        if (m->rx_held && (uint32_t)m->rx_held->tot_len + p->tot_len > 0xffffu) {
            pbuf_free(p);
            rx_abort(m, pcb);
            return ERR_ABRT;
        }
        if (m->rx_held)
            pbuf_cat(m->rx_held, p);
        else
            m->rx_held = p;
        m->rx_tail_len += p->tot_len;
        m->rx_tail_n += pbuf_clen(p); /* the chain is walked once per compaction, not per segment */
        if (!rx_compact(m)) {
            rx_abort(m, pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    return rx_take(m, pcb, p, true) == RX_ABORTED ? ERR_ABRT : ERR_OK; /* closed: as lwIP's own callback */
}

/* poll() made room: the held stream goes on (the core's thread, core lock held). */
static void rx_resume(sc_lwip_mqtt_t *m)
{
    if (!m->rx_stalled || m->q_count == SC_LWIP_MQTT_QUEUE)
        return;
    struct tcp_pcb *pcb = m->client.conn;
    if (pcb == NULL || pcb->recv != rx_recv) { /* the connection is gone: nothing to hand on to */
        rx_reset(m);
        return;
    }
    struct pbuf *p = m->rx_held;
    m->rx_held = NULL;
    m->rx_stalled = false;
    if (rx_take(m, pcb, p, false) == RX_OK && m->rx_fin) {
        m->rx_fin = false;
        m->rx_inner_recv(&m->client, pcb, NULL, ERR_OK); /* the broker's close, now */
    }
}

/* lwIP's client installs its recv callback when TCP connects: put the aligner in front. */
static err_t rx_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    sc_lwip_mqtt_t *m = &g_mqtt;
    err_t e = m->rx_inner_connected(arg, pcb, err);
    if (e == ERR_OK && err == ERR_OK && pcb->recv && pcb->recv != rx_recv) {
        m->rx_inner_recv = pcb->recv;
        rx_reset(m);
        tcp_recv(pcb, rx_recv);
    }
    return e;
}

/* ---- the HAL: the core's thread ------------------------------------------------------------ */

static void teardown_locked(sc_lwip_mqtt_t *m)
{
    mqtt_disconnect(&m->client); /* closes the TCP connection if any; no callback */
    rx_reset(m);                 /* and the stream held for the queue with it */
    /* lwIP's output ring still holds the CONNECT packet, password included */
    memset(&m->client, 0, sizeof m->client);
}

static sc_err_t m_connect(void *ctx, const sc_mqtt_connect_t *p)
{
    sc_lwip_mqtt_t *m = ctx;
    if (!p || !p->host || !p->client_id)
        return SC_ERR_INVAL;
    ip_addr_t broker;
    bool numeric = ipaddr_aton(p->host, &broker) && IP_IS_V4(&broker);
    sc_err_t rc = SC_OK;
    LOCK_TCPIP_CORE();
    teardown_locked(m);
    m->state = SC_MQTT_CONNECTING;
    m->reason = 0;
    m->ever_connected = false;
    m->q_head = m->q_count = 0;
    m->in_active = false;
    memset(m->ack_used, 0, sizeof m->ack_used);
    memset(m->req_used, 0, sizeof m->req_used);
    if (p->tls || p->psk) {
        /* Debian's lwIP has no altcp TLS layer (liblwip.so exports no altcp_* at all): refuse,
         * certificate TLS and TLS-PSK alike, rather than send credentials in clear. */
        m->state = SC_MQTT_FAILED;
        m->reason = EPROTONOSUPPORT;
        rc = SC_ERR_UNSUPPORTED;
    } else if (!numeric) {
        m->state = SC_MQTT_FAILED;
        m->reason = EHOSTUNREACH; /* no DNS in this lwIP build */
        rc = SC_ERR_UNSUPPORTED;
    } else {
        struct mqtt_connect_client_info_t ci;
        memset(&ci, 0, sizeof ci);
        ci.client_id = p->client_id;
        ci.client_user = p->username && p->username[0] ? p->username : NULL;
        ci.client_pass = p->password && p->password[0] ? p->password : NULL;
        ci.keep_alive = p->keepalive_s ? p->keepalive_s : 60;
        err_t e = mqtt_client_connect(&m->client, &broker, p->port ? p->port : MQTT_PORT, on_connection, m, &ci);
        if (e != ERR_OK) {
            m->state = SC_MQTT_FAILED;
            m->reason = e == ERR_MEM ? ENOMEM : e == ERR_VAL ? EINVAL : EIO;
            rc = e == ERR_VAL ? SC_ERR_INVAL : SC_ERR_IO;
        } else {
            /* lwIP's connect wipes the client struct: the callbacks go in afterwards */
            mqtt_set_inpub_callback(&m->client, on_incoming_publish, on_incoming_data, m);
            /* and the aligner once TCP is up (LWIP_ALTCP is off: the conn is a tcp_pcb) */
            struct tcp_pcb *pcb = m->client.conn;
            if (pcb && pcb->connected) {
                m->rx_inner_connected = pcb->connected;
                pcb->connected = rx_connected;
            }
        }
    }
    UNLOCK_TCPIP_CORE();
    return rc;
}

static sc_mqtt_state_t m_state(void *ctx, int *reason)
{
    sc_lwip_mqtt_t *m = ctx;
    LOCK_TCPIP_CORE();
    sc_mqtt_state_t s = m->state;
    if (reason)
        *reason = m->reason;
    UNLOCK_TCPIP_CORE();
    return s;
}

static sc_err_t map_err(err_t e)
{
    switch (e) {
    case ERR_OK: return SC_OK;
    case ERR_MEM: return SC_ERR_AGAIN;   /* output ring or request slots full */
    case ERR_CONN: return SC_ERR_CLOSED;
    case ERR_VAL:
    case ERR_ARG: return SC_ERR_INVAL;
    default: return SC_ERR_IO;
    }
}

/* Whether a packet of `rem` remaining length can ever go out: lwIP queues a whole packet in its
 * one output ring (MQTT_OUTPUT_RINGBUF_SIZE) or refuses it with ERR_MEM, which means "later"
 * for a packet that would fit an emptier ring and "never" for a larger one (the caller would
 * wait for ever). With a remaining length of 65 532..65 535 lwIP's own check
 * (mqtt_output_check_space) adds in 16 bits and wraps: it let the packet in, and the ring,
 * written round 42 times, sent a slice of the payload as if it were MQTT framing. Such packets
 * are refused here, before lwIP sees them. */
static bool fits_ring(size_t rem)
{
    size_t len_bytes = rem < 128 ? 1 : rem < 16384 ? 2 : rem < 2097152 ? 3 : 4;
    return 1 + len_bytes + rem <= MQTT_OUTPUT_RINGBUF_SIZE;
}

static sc_err_t m_subscribe(void *ctx, const char *topic, int qos)
{
    sc_lwip_mqtt_t *m = ctx;
    if (!topic || qos < 0 || qos > 2)
        return SC_ERR_INVAL;
    if (!fits_ring(2 + 2 + strlen(topic) + 1))
        return SC_ERR_RANGE;
    LOCK_TCPIP_CORE();
    sc_err_t rc = m->state != SC_MQTT_CONNECTED ? SC_ERR_CLOSED
                                                : map_err(mqtt_subscribe(&m->client, topic, (u8_t)qos, on_subscribed, m));
    UNLOCK_TCPIP_CORE();
    return rc;
}

/* A new mid (positive, shared by publishes and requests). */
static int new_mid(sc_lwip_mqtt_t *m)
{
    int id = ++m->next_mid;
    if (id <= 0)
        id = m->next_mid = 1;
    return id;
}

/* A request's mid in *id while the session is up, else SC_ERR_CLOSED and no mid taken. Core
 * lock held. */
static sc_err_t take_mid(sc_lwip_mqtt_t *m, int *id)
{
    if (m->state != SC_MQTT_CONNECTED)
        return SC_ERR_CLOSED;
    *id = new_mid(m);
    return SC_OK;
}

/* SUBSCRIBE (sub) or UNSUBSCRIBE whose answer request_status() tells. */
static sc_err_t sub_unsub(sc_lwip_mqtt_t *m, const char *topic, int qos, int *mid, bool sub)
{
    if (!topic || qos < 0 || qos > 2)
        return SC_ERR_INVAL;
    if (!fits_ring(2 + 2 + strlen(topic) + (sub ? 1 : 0)))
        return SC_ERR_RANGE;
    LOCK_TCPIP_CORE();
    int id = 0;
    sc_err_t rc = take_mid(m, &id);
    if (rc == SC_OK)
        rc = map_err(mqtt_sub_unsub(&m->client, topic, (u8_t)qos, on_req_answer, (void *)(intptr_t)id, sub ? 1 : 0));
    if (rc == SC_OK) {
        unsigned k = m->req_next;
        m->req_mid[k] = id;
        m->req_res[k] = SC_ERR_AGAIN;
        m->req_order[k] = 0;
        m->req_used[k] = true;
        m->req_next = (k + 1) % ACK_RING;
        if (mid)
            *mid = id;
    }
    UNLOCK_TCPIP_CORE();
    return rc;
}

static sc_err_t m_subscribe_req(void *ctx, const char *topic, int qos, int *mid)
{
    return sub_unsub(ctx, topic, qos, mid, true);
}

static sc_err_t m_unsubscribe(void *ctx, const char *topic, int *mid)
{
    return sub_unsub(ctx, topic, 0, mid, false);
}

/* The request's ring entry, or -1 (never made, or 16 requests ago). Core lock held. */
static int req_find(const sc_lwip_mqtt_t *m, int mid)
{
    for (unsigned i = 0; i < ACK_RING; i++)
        if (m->req_used[i] && m->req_mid[i] == mid)
            return (int)i;
    return -1;
}

static sc_err_t m_request_status(void *ctx, int mid)
{
    sc_lwip_mqtt_t *m = ctx;
    LOCK_TCPIP_CORE();
    int i = req_find(m, mid);
    sc_err_t r = i < 0 ? SC_ERR_NOTFOUND : m->req_res[i];
    UNLOCK_TCPIP_CORE();
    return r;
}

static uint32_t m_request_order(void *ctx, int mid)
{
    sc_lwip_mqtt_t *m = ctx;
    LOCK_TCPIP_CORE();
    int i = req_find(m, mid);
    uint32_t r = i < 0 ? 0 : m->req_order[i];
    for (unsigned k = 0; k < ACK_RING; k++)   /* a publish's mid (the same counter: never both) */
        if (m->ack_used[k] && m->acked[k] == mid)
            r = m->ack_order[k];
    UNLOCK_TCPIP_CORE();
    return r;
}

static sc_err_t m_publish(void *ctx, const char *topic, const void *payload, size_t len, int qos, int *mid)
{
    sc_lwip_mqtt_t *m = ctx;
    if (!topic || (!payload && len) || qos < 0 || qos > 2)
        return SC_ERR_INVAL;
    if (len > 0xffff || !fits_ring(2 + strlen(topic) + (qos ? 2 : 0) + len))
        return SC_ERR_RANGE; /* never fits lwIP's output ring (or its 16-bit length): not "later" */
    LOCK_TCPIP_CORE();
    int id = 0;
    sc_err_t rc = take_mid(m, &id);
    if (rc == SC_OK)
        rc = map_err(mqtt_publish(&m->client, topic, payload, (u16_t)len, (u8_t)qos, 0, on_publish_done,
                                  (void *)(intptr_t)id));
    if (rc == SC_OK && mid)
        *mid = id;
    UNLOCK_TCPIP_CORE();
    return rc;
}

static bool m_puback_received(void *ctx, int mid)
{
    sc_lwip_mqtt_t *m = ctx;
    bool found = false;
    LOCK_TCPIP_CORE();
    for (unsigned i = 0; i < ACK_RING && !found; i++)
        found = m->ack_used[i] && m->acked[i] == mid;
    UNLOCK_TCPIP_CORE();
    return found;
}

static sc_err_t m_poll(void *ctx, sc_mqtt_msg_t *msg)
{
    sc_lwip_mqtt_t *m = ctx;
    if (!msg)
        return SC_ERR_INVAL;
    sc_err_t rc = SC_ERR_AGAIN;
    LOCK_TCPIP_CORE();
    if (m->q_count) {
        *msg = m->queue[m->q_head];
        memset(&m->queue[m->q_head], 0, sizeof m->queue[0]);
        m->q_head = (m->q_head + 1) % SC_LWIP_MQTT_QUEUE;
        m->q_count--;
        rc = SC_OK;
        rx_resume(m);
    }
    UNLOCK_TCPIP_CORE();
    return rc;
}

static sc_err_t m_disconnect(void *ctx)
{
    sc_lwip_mqtt_t *m = ctx;
    LOCK_TCPIP_CORE();
    teardown_locked(m);
    m->state = SC_MQTT_DISCONNECTED;
    UNLOCK_TCPIP_CORE();
    return SC_OK;
}

void sc_lwip_mqtt_init(sc_hal_mqtt_t *hal)
{
    memset(&g_mqtt, 0, sizeof g_mqtt);
    memset(hal, 0, sizeof *hal);
    hal->ctx = &g_mqtt;
    hal->connect = m_connect;
    hal->state = m_state;
    hal->subscribe = m_subscribe;
    hal->publish = m_publish;
    hal->puback_received = m_puback_received;
    hal->poll = m_poll;
    hal->disconnect = m_disconnect;
    hal->subscribe_req = m_subscribe_req;
    hal->unsubscribe = m_unsubscribe;
    hal->request_status = m_request_status;
    hal->request_order = m_request_order;
}

size_t sc_lwip_mqtt_held(unsigned *pbufs)
{
    LOCK_TCPIP_CORE();
    struct pbuf *h = g_mqtt.rx_held;
    size_t n = h ? h->tot_len : 0;
    if (pbufs)
        *pbufs = h ? pbuf_clen(h) : 0;
    UNLOCK_TCPIP_CORE();
    return n;
}

void sc_lwip_mqtt_cleanup(sc_hal_mqtt_t *hal)
{
    if (!hal || hal->ctx != &g_mqtt || !sc_lwip_running())
        return;
    m_disconnect(&g_mqtt);
    LOCK_TCPIP_CORE();
    memset(&g_mqtt, 0, sizeof g_mqtt);
    UNLOCK_TCPIP_CORE();
}
