/* SPDX-License-Identifier: Apache-2.0 */
/* The protocol's numbers that more than one module needs, each in one place: field lengths
 * (without the NUL) and the Tencent UDP ports. The device, the phone side, the binder, the
 * AT front-end and the local cloud all size and check with these, so a value one side
 * accepts is a value the other side can hold. Sources: docs/protocol/tencent.md#the-udp-8266-service,
 * docs/protocol/tencent.md#device-info and docs/protocol/esptouch-v1.md#limits. */
#ifndef SMARTCFG_LIMITS_H
#define SMARTCFG_LIMITS_H

/* Wi-Fi: an SSID is 1..32 octets, a WPA passphrase 8..63 characters or 64 hex digits. */
#define SC_SSID_MAX 32
#define SC_PASSWORD_MAX 64

/* Tencent IoT Explorer identity: product id 1..10, device name 1..48, device secret (base64
 * PSK) 1..44 characters (the AT firmware's flash layout). The product secret's length is not
 * fixed by the protocol; 64 holds every one the cloud hands out. */
#define SC_PRODUCT_ID_MAX 10
#define SC_DEVICE_NAME_MAX 48
#define SC_DEVICE_SECRET_MAX 44
#define SC_PRODUCT_SECRET_MAX 64
#define SC_REGION_MAX 32             /* "ap-guangzhou" and friends */

/* The bind token: at most 32 characters (the reference's MAX_TOKEN_LENGTH; the cloud hands
 * out 32 hex digits). The reference cuts longer ones; every side here refuses them. */
#define SC_TOKEN_MAX 32

/* UDP ports of the Tencent flow. */
#define SC_TC8266_PORT 8266          /* token service: app (from its own port 8266) -> device */
#define SC_TC8266_LOG_PORT 9876      /* log service of the log soft-AP */

#endif
