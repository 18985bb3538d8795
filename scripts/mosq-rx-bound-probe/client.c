/* SPDX-License-Identifier: Apache-2.0 */
/* An MQTT 5 libmosquitto client that asks for maximum-packet-size 2048 in its CONNECT. */
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
static void on_disc(struct mosquitto *m, void *o, int rc) { (void)m; (void)o; fprintf(stderr, "client: disconnected rc=%d (%s)\n", rc, mosquitto_strerror(rc)); exit(3); }
int main(int argc, char **argv)
{
    int port = atoi(argv[1]);
    mosquitto_lib_init();
    struct mosquitto *m = mosquitto_new("probe", true, NULL);
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_disconnect_callback_set(m, on_disc);
    mosquitto_property *props = NULL;
    if (mosquitto_property_add_int32(&props, MQTT_PROP_MAXIMUM_PACKET_SIZE, 2048) != MOSQ_ERR_SUCCESS) return 2;
    int rc = mosquitto_connect_bind_v5(m, "127.0.0.1", port, 60, NULL, props);
    fprintf(stderr, "client: connect rc=%d\n", rc);
    rc = mosquitto_loop_forever(m, 1000, 1);
    fprintf(stderr, "client: loop_forever rc=%d (%s)\n", rc, mosquitto_strerror(rc));
    return 0;
}
