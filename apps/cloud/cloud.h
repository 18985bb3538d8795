/* SPDX-License-Identifier: Apache-2.0 */
/* Internal interfaces of `smartcfg cloud`, the local IoT Explorer stand-in (docs/cloud.md):
 * the registry (cloud_store.h), the HTTP API, the MQTT binding service, event output and the crypto
 * helpers they share. Not a public API: only apps/cloud uses it. */
#ifndef SMARTCFG_APPS_CLOUD_H
#define SMARTCFG_APPS_CLOUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloud_acl.h"

/* ---- bind reply codes (app_bind_token_reply / bind_device_query_reply .code) ---------
 * Chosen to read like HTTP statuses so a device log line is self-explanatory. */
enum {
    CLOUD_BIND_OK = 0,
    CLOUD_BIND_MALFORMED = 400,   /* not JSON, no method/clientToken/params.token, bad token syntax */
    CLOUD_BIND_UNKNOWN = 404,     /* no such token; bind_device_query: device not bound */
    CLOUD_BIND_TAKEN = 409,       /* token already bound by another device */
    CLOUD_BIND_EXPIRED = 410,     /* token past its ExpireTime and not bound */
    CLOUD_BIND_INTERNAL = 500     /* database error: retry later */
};

#define CLOUD_MQTT_PACKET_MAX (256u * 1024u)   /* IoT Explorer's limit; mosquitto refuses bigger */

/* ---- store: cloud_store.h (SQLite or PostgreSQL behind one interface) ----------------- */
#include "cloud_store.h"

/* ---- events: --json lines on stdout, human log on stderr ------------------------------ */
struct cJSON;
void cloud_events_init(bool json);
/* Takes ownership of obj; one line by the tools' one printer (docs/json.md). Thread-safe. */
void cloud_event(const char *event, struct cJSON *obj);
/* A new event object naming the device: {"product_id": pid, "device_name": dn}. */
struct cJSON *cloud_device_event(const char *pid, const char *dn);
void cloud_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Refusals (device_refused, topic_refused and their log lines) are what a flood of bad logins
 * makes: one host on loopback made 3 000 a second, 0.6 MB/s of log. Each kind (login events,
 * topic events, log lines) passes a token
 * bucket (REFUSALS_PER_S a second, bursts of REFUSALS_BURST); what it drops is counted and said
 * in one line and one refusals_suppressed event, at most every 10 s (cloud_refusal_tick). */
#define REFUSALS_PER_S 5
#define REFUSALS_BURST 50
typedef enum { CLOUD_REFUSAL_LOGIN, CLOUD_REFUSAL_TOPIC, CLOUD_REFUSAL_LOG } cloud_refusal_kind_t;
bool cloud_refusal_allow(cloud_refusal_kind_t kind);
/* Any thread, often (the main loop): the summary of what was dropped, when due (force: now,
 * at exit). */
void cloud_refusal_tick(bool force);
/* A token abbreviated as every tool does (sc_send_abbrev: at most 4 characters, then "…"). */
void cloud_abbrev_token(const char *token, char out[16]);
/* s made valid UTF-8 in place: each byte outside a valid sequence (a stray byte, a character cut
 * by a bounded copy) becomes '?'. For what devices and apps send before it is stored (PostgreSQL
 * refuses text that is not UTF-8) or printed. */
void cloud_utf8_fix(char *s);

/* ---- crypto / random ----------------------------------------------------------------------- */
int cloud_random(void *buf, size_t len);
void cloud_random_hex(char *out, size_t nhex);   /* nhex lower-case hex chars + NUL */
int cloud_random_b64(char *out, size_t outlen, size_t nbytes);
int cloud_b64_encode(const void *in, size_t inlen, char *out, size_t outlen);
int cloud_b64_decode(const char *in, unsigned char *out, size_t outlen, size_t *olen);
/* cloud_consttime_eq: cloud_acl.h (the broker plugin needs it too) */
int64_t cloud_now(void);
int64_t cloud_now_ms(void);   /* monotonic */
/* The whole file as a NUL-terminated string (NULL on error or when larger than max). */
char *cloud_read_file(const char *path, size_t max);
/* Creates (or truncates) a file for secrets: 0600 whatever the umask, O_NOFOLLOW. */
/* 0 when DIR (the directory of `what`, e.g. "the registry") is safe to keep private files in:
 * owned by this user or root, and not writable by its group or others (sticky or not: another
 * user could create a file there first: an admin key of their choosing, a registry they own).
 * Else -1 with the reason in err. A directory that is not there yet is fine (it will be made). */
int cloud_private_dir(const char *dir, const char *what, char *err, size_t errlen);
int cloud_create_private(const char *path, bool excl);

/* ---- setup (cloud_setup.c) -------------------------------------------------------------- */
/* Loads the admin key from path, or makes one (64 hex) and stores it 0600 (*generated). */
int cloud_admin_key(const char *path, char *key, size_t keylen, bool *generated);
typedef struct {
    char ca[4096 + 16], cert[4096 + 16], key[4096 + 16];
    double ca_not_after, cert_not_after;   /* Unix time each ends (GET /metrics); 0: unreadable */
} cloud_tls_files_t;
int cloud_tls_material(const char *dir, const char *host, cloud_tls_files_t *out, char *err, size_t errlen);
/* At start: a wall clock not set yet (before SC_CLOUD_CLOCK_FLOOR) is warned of (stderr and a
 * `warning` event): what the cloud stores and compares by it goes by 1970 until it is set. */
void cloud_clock_check(void);
void cloud_private_files(const char *db);
void cloud_clean_stale_tmpdirs(const char *tmp);

/* ---- MQTT gate (cloud_gate.c): public MQTT listeners relayed to mosquitto's private ones --- */
typedef struct {
    const char *host;
    uint16_t port;            /* public */
    uint16_t upstream_port;   /* mosquitto's listener on 127.0.0.1 */
    bool plain_mqtt;          /* plain MQTT (the CONNECT is visible); false: TLS */
} cloud_gate_listener_t;
typedef struct cloud_gate cloud_gate_t;
cloud_gate_t *cloud_gate_start(const cloud_gate_listener_t *ls, int n, unsigned per_addr, unsigned timeout_s,
                               unsigned max_total, char *err, size_t errlen);
void cloud_gate_stop(cloud_gate_t *g);

/* ---- HTTP API ----------------------------------------------------------------------------- */
typedef struct cloud_http cloud_http_t;
typedef struct {
    const char *host, *dbpath;
    uint16_t port;
    int token_ttl;
    int token_grace;                     /* seconds an expired, unbound token stays readable */
    const char *admin_key;               /* Bearer key of the admin API */
    const char *tls_cert, *tls_key;      /* PEM files: HTTPS; NULL: plain HTTP */
    unsigned conn_limit, per_ip_limit, conn_timeout;
    double token_rate, token_burst;      /* bind tokens per second and burst, per account */
    double anon_rate, anon_burst;        /* unauthenticated requests per second and burst, per address */
    const char *rabbitmq_vhost;          /* --rabbitmq: answer its HTTP auth backend for this vhost; NULL: off */
    const char *rabbitmq_auth_from;      /* with it: the addresses or host names (comma-separated) whose
                                          * auth questions are answered; every other source gets 403 */
    bool rabbitmq_auth_from_default;     /* that list is the default one: a name that does not resolve
                                          * is skipped with a word instead of failing the start */
    bool reuse_port;                     /* share the port with other workers on this host (SO_REUSEPORT) */
    unsigned threads;                    /* HTTP threads (a pool of at least 2; only the RabbitMQ auth
                                          * answers run in parallel, each thread on its own read
                                          * connection; the probes never wait for the others) */
    struct cloud_ota *ota;               /* firmware updates (cloud_ota.h); NULL: none */
    struct cloud_thing *thing;           /* control / action downlink (cloud_thing.c); NULL: none */
    double start_time;                   /* Unix time the process started (GET /metrics) */
    double tls_ca_not_after, tls_cert_not_after;   /* when the TLS CA and server certificate end
                                          * (GET /metrics: alerting before it); 0: no TLS or unknown */
    bool mqtt_gauge;                     /* this process runs the MQTT gate: /metrics shows its connections */
} cloud_http_cfg_t;
cloud_http_t *cloud_http_start(const cloud_http_cfg_t *cfg, char *err, size_t errlen);
/* Stops the HTTP server; false when a request still waited on the database after 5 s and the
 * server was left running for the process's exit: what its requests reach (the data template,
 * OTA, the AMQP worker) must then not be freed under it. */
bool cloud_http_stop(cloud_http_t *h);

/* ---- bind decisions (cloud_bindsvc.c), shared by the mosquitto and RabbitMQ front-ends ---- */
typedef struct {
    char topic[160];    /* MQTT form: $thing/down/service/<P>/<D> */
    char *payload;      /* JSON text */
    int bind_code;      /* app_bind_token's decision (counted at the commit, cloud_metrics.h); -1: another reply */
    int64_t t0_us;      /* when its request arrived (monotonic µs) */
} cloud_reply_t;
typedef struct cloud_binder cloud_binder_t;
cloud_binder_t *cloud_binder_new(const char *dbpath, char *err, size_t errlen);
/* One message on $thing/up/service/<P>/<D> (MQTT form, sender already checked by the broker):
 * decides inside the open transaction and queues the reply. */
void cloud_binder_request(cloud_binder_t *b, const char *topic, const void *payload, size_t len);
/* Commits the decisions since the last call: 0 stored (or nothing to store), -1 nothing was
 * stored (the queued success replies now say 500). Replies are sent only after this. */
int cloud_binder_commit(cloud_binder_t *b);
size_t cloud_binder_replies(const cloud_binder_t *b, const cloud_reply_t **r);
void cloud_binder_clear(cloud_binder_t *b);   /* forget the queued replies */
void cloud_binder_free(cloud_binder_t *b);
/* Its database connection ends a wait for the server when fd is readable (cloud_store_t's
 * abort_fd): the main loop's binder, so that a stop signal ends a wait on a database gone
 * without a reset (the decisions of that pass are then not stored: no reply claims success,
 * a RabbitMQ request not acknowledged goes to another worker). Before any use. */
void cloud_binder_abort_on(cloud_binder_t *b, int fd);

/* ---- MQTT binding service ------------------------------------------------------------- */
typedef struct cloud_bindsvc cloud_bindsvc_t;
/* Connects to the broker (a refusal, or no answer within 10 s: NULL and err, a fatal startup
 * error); abort_fd (-1: none) readable ends that wait too (a stop signal during startup). */
cloud_bindsvc_t *cloud_bindsvc_new(const char *host, uint16_t port, const char *user, const char *pass,
                                   const char *dbpath, int abort_fd, char *err, size_t errlen);
/* One pass of the service: network I/O for up to timeout_ms, then the batched commit and the
 * replies. Returns 0, or -1 when the broker connection is lost (it reconnects on later calls). */
int cloud_bindsvc_step(cloud_bindsvc_t *b, int timeout_ms);
/* Connected to the broker and its subscription granted by a SUBACK (GET /readyz). */
bool cloud_bindsvc_connected(const cloud_bindsvc_t *b);
void cloud_bindsvc_free(cloud_bindsvc_t *b);
cloud_binder_t *cloud_bindsvc_binder(cloud_bindsvc_t *b);

/* ---- RabbitMQ front-end of the binding service and the IoT Explorer topics (cloud_amqp.c,
 * docs/scale.md) ------------------------------------------------------------------------- */
typedef struct cloud_amqp cloud_amqp_t;
typedef struct cloud_thing cloud_thing_t;
/* spec: amqp://USER:PASS@HOST:PORT[,HOST:PORT...][/VHOST]; queue: the shared quorum queue of
 * the bind requests; thing_queue: the one of the IoT Explorer topics (cloud_thing.c). */
cloud_amqp_t *cloud_amqp_new(const char *spec, const char *queue, const char *thing_queue, unsigned prefetch,
                             const char *dbpath, char *err, size_t errlen);
/* Only checks spec's form (what cloud_amqp_new would parse), before anything starts: 0, else -1
 * and err says what is wrong (never the password). */
int cloud_amqp_check_spec(const char *spec, char *err, size_t errlen);
cloud_binder_t *cloud_amqp_binder(cloud_amqp_t *a);
/* Before cloud_amqp_connect: also consume thing_queue and hand its messages to t. */
void cloud_amqp_serve_thing(cloud_amqp_t *a, cloud_thing_t *t);
/* A cloud_thing_send_fn (ctx: the cloud_amqp_t): queued, published by the worker's thread
 * within its next pass (at most 100 ms); -1 while no node is connected or the queue is full. */
int cloud_amqp_send(void *ctx, const char *topic, const char *payload, size_t len);
/* Tries every node once: 0 connected and consuming, -1 none would (err says why), 1 abort_fd
 * became readable (a stop) while a node's name was looked up. */
int cloud_amqp_connect(cloud_amqp_t *a, int abort_fd, char *err, size_t errlen);
/* One pass (up to timeout_ms waiting): 0, or -1 while no node is reachable (it keeps trying
 * the list, with back-off). */
int cloud_amqp_step(cloud_amqp_t *a, int timeout_ms);
bool cloud_amqp_connected(const cloud_amqp_t *a);
const char *cloud_amqp_vhost(const cloud_amqp_t *a);
/* The node list's hosts, as --rabbitmq names them: i < cloud_amqp_nodes(a). */
unsigned cloud_amqp_nodes(const cloud_amqp_t *a);
const char *cloud_amqp_node_host(const cloud_amqp_t *a, unsigned i);
/* Any thread, at a stop: shuts the connection's socket (and any later one's) so that a wait of
 * the worker's thread on a node that does not answer (an RPC, a login: rabbitmq-c retries its
 * poll after a signal, and only the heartbeat, 20 s, ends them) ends at once. NULL: nothing. */
void cloud_amqp_cut(cloud_amqp_t *a);
void cloud_amqp_free(cloud_amqp_t *a);
/* The workers' AMQP user and password (the first node's URL). */
const char *cloud_amqp_user(const cloud_amqp_t *a);
const char *cloud_amqp_password(const cloud_amqp_t *a);

/* ---- revocation with RabbitMQ (cloud_revoke.c, docs/scale.md "Revoking rights") ----------- */
/* spec: http[s]://[USER:PASS@]HOST:PORT[,HOST:PORT...][/PREFIX], the nodes' management API;
 * user/pass when the spec has none; delay_ms: the nodes' auth cache TTL + a margin. */
int cloud_revoke_start(const char *spec, const char *user, const char *pass, const char *vhost, unsigned delay_ms,
                       const char *dbpath, char *err, size_t errlen);
/* Any thread: this MQTT client's rights shrank; its connections are closed after the delay by
 * any worker with revocation (the close is stored in the database before this returns, also
 * while and after this worker stops, until cloud_revoke_stop(true): another worker or the next
 * start closes them). A no-op unless started. */
void cloud_revoke_client(const char *client_id);
/* Whether closes are recorded (started with --rabbitmq-management, not stopped for good):
 * callers skip looking up whose connections a change affects when nothing would be recorded. */
bool cloud_revoke_enabled(void);
/* The stop begins, without waiting: the revocation thread's management API request under way
 * is abandoned (within 1 s) and its wait on the database at once; the closes it took are
 * released for another worker, by release_by_ms (CLOCK_MONOTONIC ms) at the latest: a database
 * that does not answer then keeps them taken until their lease ends (2 min), not lost. */
void cloud_revoke_stop_begin(int64_t release_by_ms);
/* cloud_revoke_stop_begin (2 s from now, if not called), then waits for the thread (until
 * release_by at most). callers_done: no caller of cloud_revoke_client can come any more (the
 * HTTP server stopped with no request left running): the callers' database connection is
 * closed; otherwise it stays for them, to the process's exit. */
void cloud_revoke_stop(bool callers_done);

/* ---- IoT Explorer topics (cloud_thing.c): data template, events, actions, system time,
 * gateway operations. One handler (cloud_thing_message) for both front-ends. */
/* How answers and the downlink leave (MQTT topic form): 0 handed to the broker connection, -1
 * not (not connected, or its queue full). Called from the message thread and the HTTP threads. */
typedef int (*cloud_thing_send_fn)(void *ctx, const char *topic, const char *payload, size_t len);
/* rate: the per-device limit, messages a second per <P>/<D> in the topic (bursts of twice that;
 * --thing-rate, docs/cloud.md "Limits"); 0: none. Over it a message costs no database work: it
 * is answered with code 429 where the answer has a code, else dropped (thing_rate_limited
 * events, within the refusals' budget). */
/* The mosquitto front-end: its own service-identity MQTT client, on libmosquitto's thread. */
cloud_thing_t *cloud_thing_new(const char *dbpath, const char *host, uint16_t port, const char *user, const char *pass,
                               unsigned rate, char *err, size_t errlen);
/* The handler alone, fed by another front-end (cloud_amqp.c) and answering through send. */
/* As cloud_binder_abort_on, for the RabbitMQ worker's handler (on the main loop). NULL: nothing. */
void cloud_thing_abort_on(cloud_thing_t *t, int fd);
cloud_thing_t *cloud_thing_open(const char *dbpath, cloud_thing_send_fn send, void *ctx, unsigned rate, char *err,
                                size_t errlen);
/* How many workers share the devices' messages (the consumers of the RabbitMQ thing queue): 0
 * when it cannot be told now. Called on the message thread (cloud_thing_message's), also from
 * inside it. */
typedef unsigned (*cloud_thing_count_fn)(void *ctx);
/* Each worker then enforces its part of the rate limit (cloud_rate_share), so the limit holds
 * for the cluster: count is asked every second (cloud_thing_tick) and before each refusal (at
 * most 4 of those a second on average); a change is logged; no answer for 30 s: the whole
 * limit. Without it (mosquitto: one handler), the whole limit. */
void cloud_thing_set_counter(cloud_thing_t *t, cloud_thing_count_fn count, void *ctx);
/* The front-end's loop, between messages, on the message thread: counts when due. */
void cloud_thing_tick(cloud_thing_t *t);
/* One device message on one of cloud_thing_topics (MQTT form; the broker already checked that
 * the sender owns the <P>/<D> in it). One thread at a time. Bad input (not JSON, no method,
 * over 16 KiB, a topic of another shape) is a malformed_request event or nothing, never a crash.
 * redelivered: the broker hands this message out again (AMQP's redelivered flag: a worker took
 * it and lost its connection or died before acknowledging it); it is handled as any other but
 * not counted against the device's limit (--thing-rate) again, docs/security.md F61. */
void cloud_thing_message(cloud_thing_t *t, const char *topic, const void *payload, size_t len, bool redelivered);
/* The MQTT subscriptions the handler serves ('+' wildcards). */
size_t cloud_thing_topics(const char *const **topics);
/* The main loop, each pass: asks the broker again for a subscription it refused
 * (cloud_mosq_retry); NULL, or no client: nothing. */
void cloud_thing_retry(cloud_thing_t *t);
/* Begins its MQTT client's stop without waiting (cloud_mosq_stop); NULL, or no client: nothing. */
void cloud_thing_stop(cloud_thing_t *t);
/* false: its MQTT client's thread did not stop in time (cloud_mosq_free), nothing was freed. */
bool cloud_thing_free(cloud_thing_t *t);
/* The mosquitto front-end's client is connected to the broker and every subscription granted
 * by a SUBACK (GET /readyz); true when the handler is fed by another front-end
 * (cloud_thing_open). Any thread. */
bool cloud_thing_connected(const cloud_thing_t *t);
/* POST /v1/products/<P>/devices/<D>/control {"params":{…}} and …/action {"actionId":…,"params":{…}}:
 * the downlink. 0 sent, -1 bad input (msg says which), -2 not connected to the broker (msg
 * says so; nothing was sent); on success msg is the clientToken. Any thread. */
int cloud_thing_down(cloud_thing_t *t, const char *pid, const char *dn, bool action, const char *body, size_t len,
                     char *msg, size_t msglen);

/* Shared validation of identifiers coming from the network. */
bool cloud_valid_id(const char *s, size_t maxlen);
bool cloud_valid_token(const char *s);

#endif
