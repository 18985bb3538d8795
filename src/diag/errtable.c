/* SPDX-License-Identifier: Apache-2.0 */
/* The error table of include/smartcfg/errors.h. The reference texts are the wire format the
 * app shows and matches (docs/protocol/tencent.md#errors): do not reword them. The reasons
 * are ours, written for someone holding the device and the phone. */
#include <stddef.h>

#include "smartcfg/errors.h"
#include "smartcfg/hal.h"

#include "../common/pool.h"

/* The reference texts, in error id order, one pool (no pointer per entry): sc_errid_text walks
 * to the id's string. The reasons live in their own tables, apart from the wire texts, so that
 * a firmware link that never asks for a reason (the device and the 8266 service only send the
 * wire text) drops them with --gc-sections, and SMARTCFG_WITH_REASONS=0 leaves them out of a
 * whole-core link. */
static const char texts[] =
    "Everything OK!\0"                  /* 0 */
    "MQTT connect error!\0"
    "APP command error!\0"
    "WIFI boarding stop!\0"
    "RTOS task error!\0"
    "RTOS queue error!\0"               /* 5 */
    "WIFI STA init error!\0"
    "WIFI AP init error!\0"
    "WIFI start error!\0"
    "WIFI config error!\0"
    "WIFI connect error!\0"             /* 10 */
    "WIFI disconnect error!\0"
    "WIFI AP STA error!\0"
    "ESP smartconfig start error!\0"
    "ESP smartconfig data error!\0"
    "SRV socket open error!\0"          /* 15 */
    "SRV socket bind error!\0"
    "SRV socket listen error!\0"
    "SRV socket fcntl error!\0"
    "SRV socket accept error!\0"
    "SRV socket recv error!\0"          /* 20 */
    "SRV socket select error!\0"
    "SRV socket send error!\0"
    "MQTT Token send error!\0"
    "MQTT Token reply error!\0"
    "MQTT Token recv timeout!\0"        /* 25 */
    "Product Region fault error!\0"
    "Device Info error!";               /* 27 */

/* The errors of the cloud step: the cloud failed, not the radio, the AP or the app. */
#define CLOUD_IDS ((1ul << SC_ERRID_MQTT_CONNECT) | (1ul << SC_ERRID_TOKEN_SEND) | (1ul << SC_ERRID_TOKEN_REPLY) | \
                   (1ul << SC_ERRID_TOKEN_TIMEOUT) | (1ul << SC_ERRID_DEVINFO))
_Static_assert(SC_ERRID__COUNT == 28 && SC_ERRID_DEVINFO == 27, "one text per error id in texts[]");

const char *sc_errid_text(uint16_t err_id)
{
    if (err_id >= SC_ERRID__COUNT)
        return "Unknown error!";
    return sc_pool_at(texts, err_id);
}

/* The sub ids' texts as one pool too: 101..104 are its first four, 201..208 the next eight
 * (the switch this replaces compiled to two jump tables and a literal load per text). */
static const char subid_texts[] =
    "stopped by app\0stopped by AT\0execution timeout\0invalid data\0"
    "JSON format\0timestamp\0signature\0AP info\0JSON print\0comm task\0token changed\0unknown cmdType";
_Static_assert(SC_SUBID_INVALID - SC_SUBID_STOP_APP == 3 && SC_SUBID_UNKNOWN_CMD - SC_SUBID_JSON == 7,
               "two runs of consecutive sub ids, one text each in subid_texts[]");

const char *sc_subid_text(int32_t sub_id)
{
    if (sub_id >= SC_SUBID_STOP_APP && sub_id <= SC_SUBID_INVALID)
        return sc_pool_at(subid_texts, (unsigned)(sub_id - SC_SUBID_STOP_APP));
    if (sub_id >= SC_SUBID_JSON && sub_id <= SC_SUBID_UNKNOWN_CMD)
        return sc_pool_at(subid_texts, 4u + (unsigned)(sub_id - SC_SUBID_JSON));
    return NULL;
}

bool sc_errid_is_cloud(uint16_t err_id)
{
    return err_id < SC_ERRID__COUNT && ((CLOUD_IDS >> err_id) & 1u);
}

#if SMARTCFG_WITH_REASONS
static const char *const reasons[SC_ERRID__COUNT] = {
    [0] = "no error",
    [1] = "could not reach the cloud over MQTT (network, broker or credentials)",
    [2] = "the app sent a request the device cannot use",
    [3] = "provisioning stopped before it finished",
    [4] = "the device could not start a task",
    [5] = "the device could not create a queue",
    [6] = "the Wi-Fi station could not be initialised",
    [7] = "the soft-AP could not be started",
    [8] = "Wi-Fi could not be started",
    [9] = "the Wi-Fi join could not be started",
    [10] = "could not join the Wi-Fi network",
    [11] = "the Wi-Fi link dropped",
    [12] = "AP+station mode failed",
    [13] = "the radio could not start sniffing",
    [14] = "the credentials received over the air are invalid",
    [15] = "the UDP 8266 service could not be opened",
    [16] = "the UDP 8266 port is taken",
    [17] = "the UDP 8266 service failed",
    [18] = "the UDP 8266 service failed",
    [19] = "the UDP 8266 service failed",
    [20] = "the UDP 8266 service could not receive",
    [21] = "the UDP 8266 service failed",
    [22] = "the UDP 8266 service could not send",
    [23] = "the bind token could not be published to the cloud",
    [24] = "the cloud refused the bind token (expired, used or unknown)",
    [25] = "the cloud did not answer the bind request in time",
    [26] = "the app and the device are set to different regions",
    [27] = "the device identity or secret is missing or invalid",
};

/* Pairs whose sub id says more than the error id alone. */
static const struct {
    uint16_t err;
    int32_t sub;
    const char *reason;
} pairs[] = {
    { SC_ERRID_BOARDING_STOP, SC_SUBID_STOP_APP, "stopped by the user" },
    { SC_ERRID_BOARDING_STOP, SC_SUBID_STOP_AT, "stopped by the AT host" },
    { SC_ERRID_BOARDING_STOP, SC_SUBID_TIMEOUT,
      "the provisioning window ran out (no credentials, no token from the app, or no bind in time)" },
    { SC_ERRID_WIFI_CONNECT, SC_SUBID_TIMEOUT, "joining the Wi-Fi network took too long (AP out of range?)" },
    { SC_ERRID_WIFI_CONNECT, SC_SUBID_JOIN_BASE + SC_STA_REASON_WRONG_PASSWORD,
      "wrong Wi-Fi password or AP out of range" },
    { SC_ERRID_WIFI_CONNECT, SC_SUBID_JOIN_BASE + SC_STA_REASON_NO_AP, "the Wi-Fi network was not found" },
    { SC_ERRID_WIFI_CONNECT, SC_SUBID_JOIN_BASE + SC_STA_REASON_ASSOC, "the AP rejected the device" },
    { SC_ERRID_WIFI_CONNECT, SC_SUBID_JOIN_BASE + SC_STA_REASON_DHCP, "joined the AP but got no IP address" },
    { SC_ERRID_APP_CMD, SC_SUBID_JSON, "the app's request was not valid JSON or lacked a field" },
    { SC_ERRID_APP_CMD, SC_SUBID_AP_INFO, "the app's token, SSID or password was missing or too long" },
    { SC_ERRID_APP_CMD, SC_SUBID_TOKEN_CHANGED, "the app sent a different token than before" },
    { SC_ERRID_APP_CMD, SC_SUBID_UNKNOWN_CMD, "the app sent an unknown command" },
    { SC_ERRID_SC_DATA, SC_SUBID_INVALID, "the credentials received over the air are invalid" },
    { SC_ERRID_MQTT_CONNECT, SC_SUBID_TIMEOUT, "the cloud's MQTT broker did not answer in time" },
    { SC_ERRID_TOKEN_SEND, SC_SUBID_TIMEOUT, "the cloud never acknowledged the bind request" },
};

const char *sc_errid_reason(uint16_t err_id, int32_t sub_id)
{
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (pairs[i].err == err_id && pairs[i].sub == sub_id)
            return pairs[i].reason;
    if (err_id == SC_ERRID_WIFI_CONNECT && sub_id > SC_SUBID_JOIN_BASE)
        return "could not join the Wi-Fi network";
    return err_id < SC_ERRID__COUNT ? reasons[err_id] : "unknown error";
}
#else
/* Built without reasons (docs/porting.md): the wire text stands in, so callers still get a
 * non-NULL line that names the error. */
const char *sc_errid_reason(uint16_t err_id, int32_t sub_id)
{
    (void)sub_id;
    return sc_errid_text(err_id);
}
#endif
