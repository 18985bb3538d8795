/* SPDX-License-Identifier: Apache-2.0 */
/* Compile-time module switches. A firmware build leaves out what it does not use by
 * compiling without that module's sources and defining its switch to 0 for every file that
 * includes smartcfg headers (CMake does both from its SMARTCFG_WITH_* options and hands the
 * defines on through smartcfg::core and smartcfg.pc; a hand-written build passes -D itself).
 * Undefined switches mean "on". What each module holds and weighs: docs/porting.md. */
#ifndef SMARTCFG_FEATURES_H
#define SMARTCFG_FEATURES_H

/* IoT Explorer cloud: the MQTT binder (app_bind_token, bind_device_query), credentials,
 * messages and dynamic registration. Needs mbedTLS. Off: the device stops after the UDP 8266
 * token handshake (sc_device_config_t.skip_cloud must be set). */
#ifndef SMARTCFG_WITH_CLOUD
#define SMARTCFG_WITH_CLOUD 1
#endif
/* Dynamic registration (the device fetches its PSK with the product secret). Off: devices
 * must come with their PSK; the binder fails with err 27 when there is none. Needs the cloud. */
#ifndef SMARTCFG_WITH_DYNREG
#define SMARTCFG_WITH_DYNREG SMARTCFG_WITH_CLOUD
#endif
/* Tencent AT command front-end (at.h, at_device.h). Needs SMARTCFG_WITH_CLOUD. */
#ifndef SMARTCFG_WITH_AT
#define SMARTCFG_WITH_AT 1
#endif
/* The phone side: ESP-TOUCH encoder and send schedule, ack collector, token handshake, token
 * API (sender.h). A device does not need it. */
#ifndef SMARTCFG_WITH_SENDER
#define SMARTCFG_WITH_SENDER 1
#endif
/* The air simulator (air.h): synthetic captures for tests and tools. Uses the encoder. */
#ifndef SMARTCFG_WITH_SIM
#define SMARTCFG_WITH_SIM 1
#endif
/* Receivers beside ESP-TOUCH v1 (esptouch/v2_rx.c, airkiss/rx.c). Off: the receiver front
 * (receiver.h) decodes without it, sc_receiver_t and sc_device_t shrink by its state, the
 * device never speaks its ack, and asking for it at run time is SC_ERR_UNSUPPORTED. Their
 * encoders stay available to the sender and the simulator when those are on. */
#ifndef SMARTCFG_WITH_ESPTOUCH_V2
#define SMARTCFG_WITH_ESPTOUCH_V2 1
#endif
#ifndef SMARTCFG_WITH_AIRKISS
#define SMARTCFG_WITH_AIRKISS 1
#endif

/* Plain-language error reasons (sc_errid_reason): about 2 KB of sentences for people, which a
 * device never sends (the app gets the reference text). On by default where there is an OS to
 * show them (host tools, the cloud, tests), off on a bare-metal build; -D either way. Off,
 * sc_errid_reason returns the reference text. */
#ifndef SMARTCFG_WITH_REASONS
#if defined(__unix__) || defined(__APPLE__) || defined(_WIN32)
#define SMARTCFG_WITH_REASONS 1
#else
#define SMARTCFG_WITH_REASONS 0
#endif
#endif

/* SC_LEFT_OUT("SMARTCFG_WITH_X"): on the declaration of a function whose module the switches
 * above leave out of this build, so that a program calling it stops at the compiler with a
 * message naming the switch instead of an undefined reference at the link (the declaration
 * stays: the shared headers are installed either way, for their types and sizes). unavailable
 * (clang, GCC 12+) fails the call at once; GCC's older error attribute fails a call the
 * optimiser keeps. The switches are the library's: smartcfg::core and smartcfg.pc hand them to
 * its users (docs/porting.md). */
#if defined(__has_attribute)
#if __has_attribute(unavailable)
#define SC_LEFT_OUT(sw) __attribute__((unavailable("left out of this smartcfg build (" sw ")")))
#elif __has_attribute(error)
#define SC_LEFT_OUT(sw) __attribute__((error("left out of this smartcfg build (" sw ")")))
#endif
#endif
#ifndef SC_LEFT_OUT
#define SC_LEFT_OUT(sw)
#endif

#if SMARTCFG_WITH_DYNREG && !SMARTCFG_WITH_CLOUD
#error "smartcfg: SMARTCFG_WITH_DYNREG needs SMARTCFG_WITH_CLOUD"
#endif
#if SMARTCFG_WITH_AT && !SMARTCFG_WITH_CLOUD
#error "smartcfg: SMARTCFG_WITH_AT needs SMARTCFG_WITH_CLOUD (AT+TCMQTTCONN and AT+TCDEVREG use it)"
#endif

#endif
