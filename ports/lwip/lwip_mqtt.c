/* SPDX-License-Identifier: Apache-2.0 */
/* sc_hal_mqtt_t on lwIP's MQTT client (lwip/apps/mqtt.h; mqtt.c comes from Debian's lwip
 * source package, see CMakeLists.txt). lwIP's client calls back in the tcpip thread: the
 * callbacks record the connection state, the acknowledged publishes and the incoming messages
 * (reassembled from lwIP's fragments) under the core lock, and wake the core's loop. No
 * reconnect: the core decides, as with the POSIX port. */
#include <errno.h>
#include <string.h>

#include "lwip/apps/mqtt.h"
#include "lwip/apps/mqtt_priv.h"
#include "lwip/ip_addr.h"
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
    sc_mqtt_msg_t queue[SC_LWIP_MQTT_QUEUE];
    unsigned q_head, q_count, dropped;
    sc_mqtt_msg_t in;             /* the message being reassembled */
    size_t in_total;
    bool in_active, in_drop;
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

static void on_publish_done(void *arg, err_t err)
{
    sc_lwip_mqtt_t *m = &g_mqtt;
    if (err == ERR_OK) {
        /* QoS 1: lwIP calls this when the PUBACK arrived (QoS 0: when it was sent). */
        m->acked[m->ack_next] = (int)(intptr_t)arg;
        m->ack_used[m->ack_next] = true;
        m->ack_next = (m->ack_next + 1) % ACK_RING;
        sc_lwip_wake();
    }
}

static void on_subscribed(void *arg, err_t err)
{
    (void)arg;
    (void)err; /* a refused SUBACK shows as the reply never coming: the core's deadline */
}

static void on_incoming_publish(void *arg, const char *topic, u32_t tot_len)
{
    sc_lwip_mqtt_t *m = arg;
    memset(&m->in, 0, sizeof m->in);
    size_t tl = strlen(topic);
    if (tl >= sizeof m->in.topic)
        tl = sizeof m->in.topic - 1; /* a longer topic cannot be ours; keep it visibly cut */
    memcpy(m->in.topic, topic, tl);
    m->in_total = tot_len;
    m->in_active = true;
    m->in_drop = m->q_count == SC_LWIP_MQTT_QUEUE;
    if (tot_len == 0) {
        /* no data callback follows for an empty payload in every lwIP version: finish here */
        if (!m->in_drop) {
            m->queue[(m->q_head + m->q_count) % SC_LWIP_MQTT_QUEUE] = m->in;
            m->q_count++;
            sc_lwip_wake();
        } else {
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
    if (n < len)
        m->in.truncated = true;
    if (flags & MQTT_DATA_FLAG_LAST) {
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

/* ---- the HAL: the core's thread ------------------------------------------------------------ */

static void teardown_locked(sc_lwip_mqtt_t *m)
{
    mqtt_disconnect(&m->client); /* closes the TCP connection if any; no callback */
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
    if (p->tls) {
        /* Debian's lwIP has no altcp TLS layer: refuse rather than send credentials in clear. */
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

static sc_err_t m_subscribe(void *ctx, const char *topic, int qos)
{
    sc_lwip_mqtt_t *m = ctx;
    if (!topic || qos < 0 || qos > 2)
        return SC_ERR_INVAL;
    LOCK_TCPIP_CORE();
    sc_err_t rc = m->state != SC_MQTT_CONNECTED ? SC_ERR_CLOSED
                                                : map_err(mqtt_subscribe(&m->client, topic, (u8_t)qos, on_subscribed, m));
    UNLOCK_TCPIP_CORE();
    return rc;
}

static sc_err_t m_publish(void *ctx, const char *topic, const void *payload, size_t len, int qos, int *mid)
{
    sc_lwip_mqtt_t *m = ctx;
    if (!topic || (!payload && len) || qos < 0 || qos > 2)
        return SC_ERR_INVAL;
    if (len > 0xffff)
        return SC_ERR_RANGE; /* lwIP's client takes a 16-bit length */
    sc_err_t rc;
    LOCK_TCPIP_CORE();
    if (m->state != SC_MQTT_CONNECTED) {
        rc = SC_ERR_CLOSED;
    } else {
        int id = ++m->next_mid;
        if (id <= 0)
            id = m->next_mid = 1;
        rc = map_err(mqtt_publish(&m->client, topic, payload, (u16_t)len, (u8_t)qos, 0, on_publish_done,
                                  (void *)(intptr_t)id));
        if (rc == SC_OK && mid)
            *mid = id;
    }
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
