/* SPDX-License-Identifier: Apache-2.0 */
/* The IoT Explorer topics of the local cloud (docs/cloud.md "Data template, system time,
 * gateways"): data template reports and get_status on $thing/up/property, events on
 * $thing/up/event, action replies on $thing/up/action, the system time on $sys/operation and
 * the gateway operations on $gateway/operation — each answered on its down/result topic. The
 * broker (the mosquitto plugin, or RabbitMQ asking cloud_authhttp.c) already made sure a sender
 * owns the <P>/<D> in the topic. One handler, cloud_thing_message, for both front-ends: the
 * mosquitto one here (its own service-identity client; messages on libmosquitto's loop thread)
 * and the RabbitMQ one in cloud_amqp.c (a shared quorum queue; messages on the worker's main
 * thread). Answers and the downlink (cloud_thing_down, on the HTTP threads) leave through the
 * front-end's send function, which is thread-safe; the store is used by the message thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mosquitto.h>

#include "cloud.h"
#include "cloud_acl.h"
#include "cloud_metrics.h"
#include "cloud_mosq.h"
#include "cloud_rate.h"
#include "smartcfg/cloud.h"

#define MSG_MAX 16384          /* larger messages are not template traffic: dropped with an event */
#define GW_SIGN_WINDOW 600     /* seconds a bind's timestamp may be off */
#define RATE_SETS 1024         /* the per-device limit's table: 1024 sets of 8, 8 192 devices at once */
#define LIMITED 429            /* the code of a message over the per-device limit */
/* The workers sharing --thing-rate (the consumers of the thing queue, cloud_thing_set_counter)
 * are counted this often (cloud_thing_tick), and again before each refusal (a worker that left
 * is seen before a device under its limit is refused), those at most RECOUNTS a second on
 * average, in bursts of as many (so flooders cost a worker at most that many counts a second;
 * while they spend them, a refusal may come up to 1/RECOUNTS s after a leave). A count that
 * fails for COUNT_STALE_MS is dropped: the whole limit again, never less than a device is due. */
#define COUNT_MS 1000
#define RECOUNTS 4.0
#define COUNT_STALE_MS 30000

/* Gateway result codes (ours: IoT Explorer does not publish its list). */
enum { GW_OK = 0, GW_BAD_REQUEST = 400, GW_NOT_BOUND = 401, GW_BAD_SIGNATURE = 403, GW_UNKNOWN = 404,
       GW_OTHER_GATEWAY = 409, GW_LIMITED = LIMITED, GW_INTERNAL = 500 };

struct cloud_thing {
    cloud_store_t store;
    cloud_mosq_t *mq;               /* the mosquitto front-end's client; NULL with RabbitMQ */
    cloud_thing_send_fn send;
    void *send_ctx;
    cloud_rate_t *rate;             /* messages per <P>/<D> (cloud_rate.h); NULL: no limit */
    double full_rate, full_burst;   /* the limit of the whole cluster (--thing-rate) */
    cloud_thing_count_fn count;     /* the workers sharing it (cloud_thing_set_counter); NULL: alone */
    void *count_ctx;
    unsigned workers;               /* the count t->rate is set for; 0 unknown (the whole limit) */
    int64_t counted_ms, good_ms;    /* the last count tried, the last that answered */
    double recounts;                /* counts a refusal may still ask for (RECOUNTS) */
    int64_t recounts_ms;            /* when recounts was last filled */
    bool redelivered;               /* the message being handled was counted before (F61) */
};

static const char *const subs[] = { "$thing/up/property/+/+", "$thing/up/event/+/+", "$thing/up/action/+/+",
                                    "$sys/operation/+/+", "$gateway/operation/+/+", "+/+/event" };

size_t cloud_thing_topics(const char *const **topics)
{
    *topics = subs;
    return sizeof subs / sizeof subs[0];
}

/* 0 handed to the front-end, -1 not (not connected: nothing was sent). */
static int send_json(cloud_thing_t *t, const char *fmt, const char *pid, const char *dn, cJSON *o)
{
    char topic[200];
    snprintf(topic, sizeof topic, fmt, pid, dn);
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    int rc = s ? t->send(t->send_ctx, topic, s, strlen(s)) : -1;
    free(s);
    return rc;
}

/* The mosquitto front-end's send: QoS 0, queued on the client (thread-safe). */
static int mosq_send(void *ctx, const char *topic, const char *payload, size_t len)
{
    cloud_thing_t *t = ctx;
    return cloud_mosq_publish(t->mq, topic, payload, len, 0) == MOSQ_ERR_SUCCESS ? 0 : -1;
}

static cJSON *reply(const char *method, const cJSON *token, int code, const char *status)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "method", method);
    cJSON_AddStringToObject(r, "clientToken", cJSON_IsString(token) ? token->valuestring : "");
    cJSON_AddNumberToObject(r, "code", code);
    cJSON_AddStringToObject(r, "status", status);
    return r;
}

static void event(const char *name, const char *pid, const char *dn, const char *method, const cJSON *extra,
                  const char *key)
{
    /* a device sending garbage in a loop would fill the log: the refusals' budget (cloud.h) */
    bool malformed = !strcmp(name, "malformed_request");
    if (malformed && !cloud_refusal_allow(CLOUD_REFUSAL_TOPIC))
        return;
    cJSON *ev = cloud_device_event(pid, dn);
    if (malformed)
        cJSON_AddNumberToObject(ev, "code", 400);   /* docs/json.md: malformed_request has a code */
    if (method)
        cJSON_AddStringToObject(ev, "method", method);
    if (extra && key)
        cJSON_AddItemToObject(ev, key, cJSON_Duplicate(extra, true));
    cloud_event(name, ev);
}

/* This worker's part of --thing-rate for n workers (0: not known, the whole limit). */
static void set_workers(cloud_thing_t *t, unsigned n, int64_t now)
{
    if (n == t->workers)
        return;
    /* the count that still said t->workers: a leave came after it */
    cloud_rate_reshare(t->rate, t->full_rate, t->full_burst, t->workers, n, now - t->good_ms);
    t->workers = n;
    double r, b;
    cloud_rate_share(t->full_rate, t->full_burst, n, &r, &b);
    if (n)
        cloud_log("--thing-rate: %u worker(s) consume the thing queue: this one allows each device %.4g messages a "
                  "second, bursts of %.4g (the cluster: %.4g a second, bursts of up to %.4g)", n, r, b, t->full_rate,
                  n * b);
    else
        cloud_log("--thing-rate: the number of workers is not known: this one allows each device the whole limit "
                  "(%.4g a second, bursts of %.4g) until it is known again", r, b);
}

static void recount(cloud_thing_t *t, int64_t now)
{
    t->counted_ms = now;
    unsigned n = t->count(t->count_ctx);
    if (n) {
        set_workers(t, n, now);
        t->good_ms = now;
    } else if (now - t->good_ms >= COUNT_STALE_MS) {
        set_workers(t, 0, now);
    }
}

void cloud_thing_set_counter(cloud_thing_t *t, cloud_thing_count_fn count, void *ctx)
{
    if (!t || !t->rate)
        return;
    t->count = count;
    t->count_ctx = ctx;
    t->good_ms = cloud_now_ms();   /* unknown (the whole limit) until the first count */
}

void cloud_thing_tick(cloud_thing_t *t)
{
    if (!t || !t->count)
        return;
    int64_t now = cloud_now_ms();
    if (now - t->counted_ms >= COUNT_MS)
        recount(t, now);
}

/* Whether this message of <P>/<D> is over the per-device limit (t->rate): then it is answered
 * with code 429 where the protocol has a code, or dropped, and costs no database work. Each one
 * is a thing_rate_limited event within the refusals' budget (cloud.h), so a flooding device
 * neither fills the log nor takes a worker from the others. */
static bool over_limit(cloud_thing_t *t, const char *pid, const char *dn, const char *topic)
{
    /* A redelivery (F61): a worker that took this message counted it then (its bucket, or the
     * part another worker took over from it when it left, F52), so counting it again would
     * refuse a device under its limit for a worker's lost connection. Only the broker sets the
     * flag, on messages it delivered before and got no ack for: at most --prefetch of them per
     * lost connection of a worker, none that a device can cause. */
    if (t->redelivered)
        return false;
    char key[CLOUD_RATE_KEY_MAX];
    snprintf(key, sizeof key, "%s/%s", pid, dn);
    int64_t now = cloud_now_ms();
    if (!t->rate || cloud_rate_allow(t->rate, key, now))
        return false;
    /* Before refusing: a worker may have left since the last count (F52), its part of this
     * device's limit now this worker's (cloud_rate_reshare). */
    if (t->count) {
        t->recounts += (double)(now - t->recounts_ms) * RECOUNTS / 1000.0;
        t->recounts = t->recounts > RECOUNTS ? RECOUNTS : t->recounts;
        t->recounts_ms = now;
    }
    if (t->count && t->recounts >= 1.0) {
        t->recounts -= 1.0;
        unsigned was = t->workers;
        recount(t, now);
        if (t->workers != was && cloud_rate_allow(t->rate, key, now))
            return false;
    }
    cloud_metrics_inc(CLOUD_M_THING_RATE_LIMITED);
    if (cloud_refusal_allow(CLOUD_REFUSAL_TOPIC)) {
        cJSON *ev = cloud_device_event(pid, dn);
        cJSON_AddStringToObject(ev, "topic", topic);
        cJSON_AddNumberToObject(ev, "code", LIMITED);
        cloud_event("thing_rate_limited", ev);
    }
    return true;
}

/* $thing/up/property: report (merged into what was reported before), get_status, control_reply. */
static void property(cloud_thing_t *t, const char *pid, const char *dn, const cJSON *j, const char *method,
                     bool limited)
{
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "clientToken");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(j, "params");
    if (limited) {   /* the replies' code says so; other methods have no reply */
        if (!strcmp(method, "report") || !strcmp(method, "get_status"))
            send_json(t, "$thing/down/property/%s/%s", pid, dn,
                      reply(!strcmp(method, "report") ? "report_reply" : "get_status_reply", tok, LIMITED,
                            "too many messages"));
        return;
    }
    if (!strcmp(method, "report")) {
        if (!cJSON_IsObject(params)) {
            send_json(t, "$thing/down/property/%s/%s", pid, dn, reply("report_reply", tok, 406, "params must be an object"));
            return;
        }
        /* Read, merge and write in one transaction that first locks the device's row: with
         * RabbitMQ two workers may take two reports of one device at once, and each would
         * otherwise write back what it read before the other's merge (one report lost). */
        char old[MSG_MAX];
        bool txn = cloud_store_begin(&t->store) == 0;
        if (txn && cloud_store_thing_lock(&t->store, pid, dn, cloud_now()) != 0) {
            cloud_store_rollback(&t->store);
            txn = false;
        }
        cJSON *cur = txn && cloud_store_thing_get(&t->store, pid, dn, old, sizeof old) == 0 ? cJSON_Parse(old) : NULL;
        if (!cJSON_IsObject(cur)) {
            cJSON_Delete(cur);
            cur = cJSON_CreateObject();
        }
        const cJSON *p;
        cJSON_ArrayForEach(p, params) {
            cJSON_DeleteItemFromObjectCaseSensitive(cur, p->string);
            cJSON_AddItemToObject(cur, p->string, cJSON_Duplicate(p, true));
        }
        char *s = cJSON_PrintUnformatted(cur);
        cJSON_Delete(cur);
        cloud_utf8_fix(s);   /* stray bytes only sit inside strings: '?' keeps the JSON valid */
        int rc = txn && s && strlen(s) < MSG_MAX ? cloud_store_thing_put(&t->store, pid, dn, s, cloud_now()) : -1;
        free(s);
        if (txn && rc == 0)
            rc = cloud_store_commit(&t->store);
        if (txn && rc != 0)
            cloud_store_rollback(&t->store);
        send_json(t, "$thing/down/property/%s/%s", pid, dn,
                  rc == 0 ? reply("report_reply", tok, 0, "success") : reply("report_reply", tok, 500, "cannot store"));
        event("thing_report", pid, dn, NULL, params, "params");
    } else if (!strcmp(method, "get_status")) {
        char cur[MSG_MAX];
        cJSON *r = reply("get_status_reply", tok, 0, "success"), *data = cJSON_AddObjectToObject(r, "data");
        cJSON_AddStringToObject(r, "type", "report");
        cJSON *rep = cloud_store_thing_get(&t->store, pid, dn, cur, sizeof cur) == 0 ? cJSON_Parse(cur) : NULL;
        cJSON_AddItemToObject(data, "reported", rep ? rep : cJSON_CreateObject());
        send_json(t, "$thing/down/property/%s/%s", pid, dn, r);
        event("thing_get_status", pid, dn, NULL, NULL, NULL);
    } else {
        event("thing_property", pid, dn, method, j, "message");   /* control_reply and the like */
    }
}

static void sys_operation(cloud_thing_t *t, const char *pid, const char *dn, const cJSON *j)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "resource"), *r;
    bool time_asked = false;
    cJSON_ArrayForEach(r, res)
        time_asked |= cJSON_IsString(r) && !strcmp(r->valuestring, "time");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "get") || !time_asked) {
        event("malformed_request", pid, dn, "$sys/operation", NULL, NULL);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "get");
    cJSON_AddNumberToObject(o, "time", (double)cloud_now());
    send_json(t, "$sys/operation/result/%s/%s", pid, dn, o);
    event("sys_time", pid, dn, NULL, NULL, NULL);
}

/* ---- gateways ---------------------------------------------------------------------------- */

static int gw_check_sign(cloud_thing_t *t, const char *spid, const char *sdn, const cJSON *d)
{
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(d, "signature");
    const cJSON *rnd = cJSON_GetObjectItemCaseSensitive(d, "random");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(d, "timestamp");
    const cJSON *sm = cJSON_GetObjectItemCaseSensitive(d, "signmethod");
    if (!cJSON_IsString(sig) || !cJSON_IsNumber(rnd) || !cJSON_IsNumber(ts) || rnd->valuedouble < 0 ||
        rnd->valuedouble > 4294967295.0 || !cJSON_IsString(sm) || strcmp(sm->valuestring, "hmacsha256"))
        return GW_BAD_REQUEST;
    double now = (double)cloud_now();
    if (ts->valuedouble < now - GW_SIGN_WINDOW || ts->valuedouble > now + GW_SIGN_WINDOW)
        return GW_BAD_SIGNATURE;
    char psk[128], expect[SC_CLOUD_GW_SIGN_SIZE];
    int rc = cloud_store_get_device_psk(&t->store, spid, sdn, psk, sizeof psk);
    if (rc != 0)
        return rc == 1 ? GW_UNKNOWN : GW_INTERNAL;
    bool ok = sc_cloud_gw_bind_sign(psk, spid, sdn, (uint32_t)rnd->valuedouble, (uint64_t)ts->valuedouble, expect,
                                    sizeof expect) == SC_OK &&
              cloud_consttime_eq(expect, sig->valuestring);
    memset(psk, 0, sizeof psk);
    return ok ? GW_OK : GW_BAD_SIGNATURE;
}

static int gw_one(cloud_thing_t *t, const char *gpid, const char *gdn, const char *type, const char *spid,
                  const char *sdn, const cJSON *d)
{
    if (!cloud_valid_id(spid, 64) || !cloud_valid_id(sdn, 48))
        return GW_BAD_REQUEST;
    if (!strcmp(gpid, spid) && !strcmp(gdn, sdn))
        return GW_BAD_REQUEST;   /* a gateway is not its own sub-device */
    if (!strcmp(type, "bind")) {
        int rc = gw_check_sign(t, spid, sdn, d);
        if (rc != GW_OK)
            return rc;
        rc = cloud_store_gw_bind(&t->store, gpid, gdn, spid, sdn, cloud_now());
        return rc == 0 ? GW_OK : rc == 1 ? GW_OTHER_GATEWAY : GW_INTERNAL;
    }
    int online = !strcmp(type, "unbind") ? -1 : !strcmp(type, "online") ? 1 : 0;
    int rc = cloud_store_gw_update(&t->store, gpid, gdn, spid, sdn, online);
    if (rc > 0 && online <= 0 && cloud_revoke_enabled()) {   /* with RabbitMQ its sub-device subscriptions must go (cloud_revoke.c) */
        char gcid[CLOUD_ACL_ID_MAX];
        int n = snprintf(gcid, sizeof gcid, "%s%s", gpid, gdn);
        if (n > 0 && (size_t)n < sizeof gcid)   /* a longer client id is refused at login (cloud_acl.h): nothing to close */
            cloud_revoke_client(gcid);
    }
    return rc < 0 ? GW_INTERNAL : rc == 0 ? GW_NOT_BOUND : GW_OK;
}

static void gw_list_one(void *u, const char *pid, const char *dn, bool online)
{
    (void)online;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "product_id", pid);
    cJSON_AddStringToObject(d, "device_name", dn);
    cJSON_AddItemToArray(u, d);
}

/* limited: over the per-device limit, each sub-device's result is 429 and nothing is looked up. */
static void gateway(cloud_thing_t *t, const char *gpid, const char *gdn, const cJSON *j, bool limited)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    const char *ty = cJSON_IsString(type) ? type->valuestring : "";
    if (!strcmp(ty, "describe_sub_devices") && limited)   /* its answer has no code */
        return;
    cJSON *o = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(o, "payload");
    cJSON_AddStringToObject(o, "type", ty);
    cJSON *out = cJSON_AddArrayToObject(p, "devices");
    if (!strcmp(ty, "describe_sub_devices")) {
        cloud_store_gw_list(&t->store, gpid, gdn, gw_list_one, out);
        send_json(t, "$gateway/operation/result/%s/%s", gpid, gdn, o);
        return;
    }
    bool known = !strcmp(ty, "bind") || !strcmp(ty, "unbind") || !strcmp(ty, "online") || !strcmp(ty, "offline");
    const cJSON *devs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "payload"), "devices"), *d;
    if (!known || !cJSON_IsArray(devs)) {
        cJSON_Delete(o);
        event("malformed_request", gpid, gdn, "$gateway/operation", NULL, NULL);
        return;
    }
    size_t nth = 0;
    cJSON_ArrayForEach(d, devs) {
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(d, "product_id");
        const cJSON *sd = cJSON_GetObjectItemCaseSensitive(d, "device_name");
        if (!cJSON_IsString(sp) || !cJSON_IsString(sd))
            continue;
        /* Each sub-device past the first costs one more message of the gateway's limit: one
         * 16 KiB message lists ~450, each a lookup or a write (a signature for bind) and a
         * gateway_operation event, so the limit per message let one gateway make ~13 000 of
         * each a second. Past its bucket the rest are 429 like a message over the limit. */
        if (!limited && nth++ > 0 && over_limit(t, gpid, gdn, "$gateway/operation"))
            limited = true;
        int rc = limited ? GW_LIMITED : gw_one(t, gpid, gdn, ty, sp->valuestring, sd->valuestring, d);
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "product_id", sp->valuestring);
        cJSON_AddStringToObject(r, "device_name", sd->valuestring);
        cJSON_AddNumberToObject(r, "result", rc);
        cJSON_AddItemToArray(out, r);
        if (limited)
            continue;   /* the one thing_rate_limited event says it */
        cJSON *ev = cloud_device_event(gpid, gdn);
        cJSON_AddStringToObject(ev, "operation", ty);
        cJSON_AddStringToObject(ev, "sub_product_id", sp->valuestring);
        cJSON_AddStringToObject(ev, "sub_device_name", sd->valuestring);
        cJSON_AddNumberToObject(ev, "result", rc);
        cloud_event("gateway_operation", ev);
    }
    send_json(t, "$gateway/operation/result/%s/%s", gpid, gdn, o);
}

/* ---- dispatch ------------------------------------------------------------------------------ */

/* "<prefix><P>/<D>" -> P, D; false when the shape is wrong. */
static bool split(const char *topic, const char *prefix, char pid[65], char dn[65])
{
    size_t pl = strlen(prefix);
    if (strncmp(topic, prefix, pl))
        return false;
    const char *p = topic + pl, *slash = strchr(p, '/');
    if (!slash || (size_t)(slash - p) >= 65 || strlen(slash + 1) >= 65 || strchr(slash + 1, '/'))
        return false;
    memcpy(pid, p, (size_t)(slash - p));
    pid[slash - p] = 0;
    strcpy(dn, slash + 1);
    return cloud_valid_id(pid, 64) && cloud_valid_id(dn, 48);
}

static void message(cloud_thing_t *t, const char *tp, const void *payload, size_t len);

void cloud_thing_message(cloud_thing_t *t, const char *tp, const void *payload, size_t len, bool redelivered)
{
    t->redelivered = redelivered;
    message(t, tp, payload, len);
    t->redelivered = false;
}

static void message(cloud_thing_t *t, const char *tp, const void *payload, size_t len)
{
    char pid[65], dn[65];
    if (!tp)
        return;
    size_t tl = strlen(tp);
    /* IoT Hub custom topic <P>/<D>/event: only recorded (the device's own business). */
    if (tl > 6 && !strcmp(tp + tl - 6, "/event") && tp[0] != '$') {
        char head[140];
        if (tl - 6 < sizeof head) {
            memcpy(head, tp, tl - 6);
            head[tl - 6] = 0;
            if (split(head, "", pid, dn) && !over_limit(t, pid, dn, tp)) {
                cJSON *ev = cloud_device_event(pid, dn);
                cJSON_AddNumberToObject(ev, "bytes", (double)len);
                cloud_event("device_custom_event", ev);
            }
        }
        return;
    }
    int kind = split(tp, "$thing/up/property/", pid, dn) ? 1 : split(tp, "$thing/up/event/", pid, dn) ? 2
             : split(tp, "$thing/up/action/", pid, dn)   ? 3 : split(tp, "$sys/operation/", pid, dn) ? 4
             : split(tp, "$gateway/operation/", pid, dn) ? 5 : 0;
    if (!kind)
        return;
    /* Over the limit: only the messages whose answer has a code are read (for the clientToken). */
    bool limited = over_limit(t, pid, dn, tp);
    if (limited && kind != 1 && kind != 2 && kind != 5)
        return;
    cJSON *j = len > 0 && len <= MSG_MAX ? cJSON_ParseWithLength(payload, len) : NULL;
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(j, "method");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "clientToken");
    /* The tool's action reply is {"desired":null,"clientToken":…}: no method needed there. */
    if (!cJSON_IsObject(j) || (kind <= 2 && !cJSON_IsString(method))) {
        if (!limited && cloud_refusal_allow(CLOUD_REFUSAL_TOPIC)) {
            cJSON *ev = cloud_device_event(pid, dn);
            cJSON_AddStringToObject(ev, "topic", tp);
            cJSON_AddStringToObject(ev, "reason", len > MSG_MAX ? "larger than 16384 bytes"
                                                  : kind <= 2 ? "not a JSON object with a method" : "not a JSON object");
            cJSON_AddNumberToObject(ev, "code", 400);
            cJSON_AddNumberToObject(ev, "bytes", (double)len);
            cloud_event("malformed_request", ev);
        }
    } else if (kind == 1) {
        property(t, pid, dn, j, method->valuestring, limited);
    } else if (kind == 2) {
        /* event_post / events_post: acknowledged, recorded */
        cJSON *r = reply("event_reply", tok, limited ? LIMITED : 0, limited ? "too many messages" : "");
        cJSON_AddObjectToObject(r, "data");
        send_json(t, "$thing/down/event/%s/%s", pid, dn, r);
        if (limited) {
            cJSON_Delete(j);
            return;
        }
        cJSON *ev = cloud_device_event(pid, dn);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "eventId");
        cJSON_AddStringToObject(ev, "method", method->valuestring);
        cJSON_AddStringToObject(ev, "event_id", cJSON_IsString(id) ? id->valuestring : "");
        cJSON_AddItemToObject(ev, "params", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(j, "params"), true));
        cloud_event("thing_event", ev);
    } else if (kind == 3) {
        event("thing_action_reply", pid, dn, cJSON_IsString(method) ? method->valuestring : NULL, j, "message");
    } else if (kind == 4) {
        sys_operation(t, pid, dn, j);
    } else {
        gateway(t, pid, dn, j, limited);
    }
    cJSON_Delete(j);
}

static void on_message(void *user, const struct mosquitto_message *msg)
{
    cloud_thing_message(user, msg->topic, msg->payload, msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0, false);
}

static void on_connect(void *user, struct mosquitto *m, int rc)
{
    cloud_thing_t *t = user;
    if (rc == 0)
        for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
            cloud_mosq_subscribe(t->mq, m, subs[i], 0);
}

static const cloud_mosq_hooks_t hooks = { .connect = on_connect, .message = on_message };

bool cloud_thing_connected(const cloud_thing_t *t)
{
    return !t->mq || cloud_mosq_ready(t->mq);
}

void cloud_thing_retry(cloud_thing_t *t)
{
    if (t)
        cloud_mosq_retry(t->mq);
}

void cloud_thing_stop(cloud_thing_t *t)
{
    if (t)
        cloud_mosq_stop(t->mq);
}

int cloud_thing_down(cloud_thing_t *t, const char *pid, const char *dn, bool action, const char *body, size_t len,
                     char *msg, size_t msglen)
{
    cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(j, "params");
    const cJSON *aid = cJSON_GetObjectItemCaseSensitive(j, "actionId");
    if (!cJSON_IsObject(params) || (action && !cJSON_IsString(aid))) {
        cJSON_Delete(j);
        snprintf(msg, msglen, action ? "body: {\"actionId\": \"…\", \"params\": {…}}" : "body: {\"params\": {…}}");
        return -1;
    }
    char token[40] = "smartcfg-";
    cloud_random_hex(token + strlen(token), 16);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "method", action ? "action" : "control");
    cJSON_AddStringToObject(o, "clientToken", token);
    if (action)
        cJSON_AddStringToObject(o, "actionId", aid->valuestring);
    cJSON_AddNumberToObject(o, "timestamp", (double)cloud_now());
    cJSON_AddItemToObject(o, "params", cJSON_Duplicate(params, true));
    cJSON_Delete(j);
    /* The admin API answered 202 and a thing_down event even when the message went nowhere
     * (the MQTT client between two connections): the caller must know to retry. */
    if (send_json(t, action ? "$thing/down/action/%s/%s" : "$thing/down/property/%s/%s", pid, dn, o) != 0) {
        snprintf(msg, msglen, t->mq ? "the cloud's MQTT client is not connected to the broker; try again"
                                   : "this worker is not connected to RabbitMQ; try again");
        return -2;
    }
    snprintf(msg, msglen, "%s", token);
    cJSON *ev = cloud_device_event(pid, dn);
    cJSON_AddStringToObject(ev, "method", action ? "action" : "control");
    cJSON_AddStringToObject(ev, "client_token", token);   /* docs/json.md: snake_case names */
    cloud_event("thing_down", ev);
    return 0;
}

void cloud_thing_abort_on(cloud_thing_t *t, int fd)
{
    if (t && fd >= 0) {
        t->store.abortable = true;
        t->store.abort_fd = fd;
        t->store.abort_grace_ms = 1000;
    }
}

cloud_thing_t *cloud_thing_open(const char *dbpath, cloud_thing_send_fn send, void *ctx, unsigned rate, char *err,
                                size_t errlen)
{
    cloud_thing_t *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (cloud_store_open(&t->store, dbpath, err, errlen) != 0) {
        free(t);
        return NULL;
    }
    t->send = send;
    t->send_ctx = ctx;
    if (rate) {
        uint64_t seed = 0;
        (void)cloud_random(&seed, sizeof seed);
        t->full_rate = (double)rate;
        t->full_burst = 2.0 * rate;
        t->rate = cloud_rate_new(t->full_rate, t->full_burst, RATE_SETS, seed);
        if (!t->rate) {
            snprintf(err, errlen, "out of memory");
            cloud_thing_free(t);
            return NULL;
        }
    }
    return t;
}

cloud_thing_t *cloud_thing_new(const char *dbpath, const char *host, uint16_t port, const char *user, const char *pass,
                               unsigned rate, char *err, size_t errlen)
{
    cloud_thing_t *t = cloud_thing_open(dbpath, mosq_send, NULL, rate, err, errlen);
    if (!t)
        return NULL;
    t->send_ctx = t;
    t->mq = cloud_mosq_new("smartcfg-thing-", user, pass, &hooks, t, err, errlen);
    if (!t->mq) {
        cloud_thing_free(t);
        return NULL;
    }
    mosquitto_int_option(cloud_mosq_client(t->mq), MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_int_option(cloud_mosq_client(t->mq), MOSQ_OPT_TCP_NODELAY, 1);
    if (cloud_mosq_start(t->mq, host, port) != 0) {
        snprintf(err, errlen, "cannot start the MQTT thread of the IoT Explorer topics");
        cloud_thing_free(t);
        return NULL;
    }
    return t;
}

bool cloud_thing_free(cloud_thing_t *t)
{
    if (!t)
        return true;
    if (!cloud_mosq_free(t->mq))
        return false;   /* its loop still runs the handler: the store stays */
    cloud_store_close(&t->store);
    cloud_rate_free(t->rate);
    free(t);
    return true;
}
