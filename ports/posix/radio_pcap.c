/* SPDX-License-Identifier: Apache-2.0 */
/* Live capture radio. Channel hopping on a monitor-mode interface uses nl80211 SET_WIPHY with
 * the interface index and a frequency (what `iw dev X set channel N` does); an interface that
 * is not Wi-Fi (no /sys/class/net/X/phy80211) has no channel to change. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/nl80211.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "sc_posix_radio.h"

sc_err_t sc_posix_radio_pcap_open(sc_posix_radio_t *r, const char *iface, char *errbuf, size_t errlen);
sc_err_t sc_posix_radio_pcap_tune(sc_posix_radio_t *r, uint8_t channel);
void sc_posix_radio_pcap_close(sc_posix_radio_t *r);

static bool is_wireless(const char *iface)
{
    char path[96];
    struct stat st;
    snprintf(path, sizeof path, "/sys/class/net/%s/phy80211", iface);
    return stat(path, &st) == 0;
}

sc_err_t sc_posix_radio_pcap_open(sc_posix_radio_t *r, const char *iface, char *errbuf, size_t errlen)
{
    if (!iface[0] || strlen(iface) >= sizeof r->iface || strchr(iface, '/')) {
        snprintf(errbuf, errlen, "pcap: needs an interface name");
        return SC_ERR_INVAL;
    }
    strcpy(r->iface, iface);
    r->ifindex = (int)if_nametoindex(iface);
    if (r->ifindex == 0) {
        /* not there now (a driver still loading, a dongle unplugged): SC_ERR_AGAIN, a setup
         * failure worth retrying, not a wrong spec */
        snprintf(errbuf, errlen, "pcap: no interface '%s' (not present now)", iface);
        return SC_ERR_AGAIN;
    }
    r->src = sc_pcap_open_live(iface, errbuf, errlen);
    if (!r->src)
        return SC_ERR_IO;
    r->wireless = is_wireless(iface);
    if (r->wireless) {
        struct nl_sock *sk = nl_socket_alloc();
        if (!sk || genl_connect(sk) < 0 || (r->nl_family = genl_ctrl_resolve(sk, "nl80211")) < 0) {
            if (sk)
                nl_socket_free(sk);
            snprintf(errbuf, errlen, "pcap: %s is Wi-Fi but nl80211 is not reachable (cannot hop channels)", iface);
            sc_pcap_close(r->src);
            r->src = NULL;
            return SC_ERR_IO;
        }
        r->nl = sk;
    }
    return SC_OK;
}

sc_err_t sc_posix_radio_pcap_tune(sc_posix_radio_t *r, uint8_t channel)
{
    struct nl_sock *sk = r->nl;
    uint32_t freq = sc_posix_channel_freq(channel);
    if (!sk || !freq)
        return SC_ERR_STATE;
    struct nl_msg *m = nlmsg_alloc();
    if (!m)
        return SC_ERR_NOMEM;
    int rc = -1;
    if (genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, r->nl_family, 0, 0, NL80211_CMD_SET_WIPHY, 0) &&
        nla_put_u32(m, NL80211_ATTR_IFINDEX, (uint32_t)r->ifindex) == 0 &&
        nla_put_u32(m, NL80211_ATTR_WIPHY_FREQ, freq) == 0 &&
        nla_put_u32(m, NL80211_ATTR_WIPHY_CHANNEL_TYPE, NL80211_CHAN_NO_HT) == 0 && nl_send_auto(sk, m) >= 0)
        rc = nl_wait_for_ack(sk);
    nlmsg_free(m);
    if (rc < 0) {
        if (r->sys && r->sys->log) {
            char line[128];
            snprintf(line, sizeof line, "radio: %s: cannot tune to channel %u: %s", r->iface, channel,
                     nl_geterror(rc));
            r->sys->log(r->sys->ctx, SC_LOG_WARN, line);
        }
        return SC_ERR_IO;
    }
    return SC_OK;
}

void sc_posix_radio_pcap_close(sc_posix_radio_t *r)
{
    if (r->src)
        sc_pcap_close(r->src);
    r->src = NULL;
    if (r->nl)
        nl_socket_free(r->nl);
    r->nl = NULL;
}
