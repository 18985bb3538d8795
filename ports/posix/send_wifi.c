/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <linux/nl80211.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "sc_send_posix.h"

#define MAX_WIFI_IFACES 16

typedef struct {
    int ifindex;
    char name[IF_NAMESIZE];
    uint8_t ssid[32];
    uint8_t ssid_len;
    bool station;
} wifi_iface_t;

typedef struct {
    wifi_iface_t ifs[MAX_WIFI_IFACES];
    int n;
} iface_list_t;

typedef struct {
    bool found;
    uint8_t bssid[SC_MAC_LEN];
    uint8_t ssid[32];
    uint8_t ssid_len;
} bss_result_t;

static int on_interface(struct nl_msg *msg, void *arg)
{
    iface_list_t *l = arg;
    struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
    struct nlattr *tb[NL80211_ATTR_MAX + 1];
    nla_parse(tb, NL80211_ATTR_MAX, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), NULL);
    if (!tb[NL80211_ATTR_IFINDEX] || l->n >= MAX_WIFI_IFACES)
        return NL_SKIP;
    wifi_iface_t *w = &l->ifs[l->n++];
    memset(w, 0, sizeof *w);
    w->ifindex = (int)nla_get_u32(tb[NL80211_ATTR_IFINDEX]);
    if (tb[NL80211_ATTR_IFNAME])
        snprintf(w->name, sizeof w->name, "%s", nla_get_string(tb[NL80211_ATTR_IFNAME]));
    if (tb[NL80211_ATTR_IFTYPE])
        w->station = nla_get_u32(tb[NL80211_ATTR_IFTYPE]) == NL80211_IFTYPE_STATION;
    if (tb[NL80211_ATTR_SSID]) {
        int len = nla_len(tb[NL80211_ATTR_SSID]);
        if (len > 0 && len <= 32) {
            memcpy(w->ssid, nla_data(tb[NL80211_ATTR_SSID]), (size_t)len);
            w->ssid_len = (uint8_t)len;
        }
    }
    return NL_SKIP;
}

static int on_bss(struct nl_msg *msg, void *arg)
{
    bss_result_t *r = arg;
    struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
    struct nlattr *tb[NL80211_ATTR_MAX + 1];
    struct nlattr *bss[NL80211_BSS_MAX + 1];
    static struct nla_policy policy[NL80211_BSS_MAX + 1];
    nla_parse(tb, NL80211_ATTR_MAX, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), NULL);
    if (!tb[NL80211_ATTR_BSS] || nla_parse_nested(bss, NL80211_BSS_MAX, tb[NL80211_ATTR_BSS], policy))
        return NL_SKIP;
    if (!bss[NL80211_BSS_STATUS] || !bss[NL80211_BSS_BSSID] || nla_len(bss[NL80211_BSS_BSSID]) != SC_MAC_LEN)
        return NL_SKIP;
    if (nla_get_u32(bss[NL80211_BSS_STATUS]) != NL80211_BSS_STATUS_ASSOCIATED)
        return NL_SKIP;
    r->found = true;
    memcpy(r->bssid, nla_data(bss[NL80211_BSS_BSSID]), SC_MAC_LEN);
    /* SSID element (id 0) from the beacon: used when GET_INTERFACE did not report one. */
    if (bss[NL80211_BSS_INFORMATION_ELEMENTS]) {
        const uint8_t *ie = nla_data(bss[NL80211_BSS_INFORMATION_ELEMENTS]);
        int left = nla_len(bss[NL80211_BSS_INFORMATION_ELEMENTS]);
        while (left >= 2 && ie[1] + 2 <= left) {
            if (ie[0] == 0 && ie[1] <= 32) {
                memcpy(r->ssid, ie + 2, ie[1]);
                r->ssid_len = ie[1];
                break;
            }
            left -= ie[1] + 2;
            ie += ie[1] + 2;
        }
    }
    return NL_SKIP;
}

static int dump(struct nl_sock *sk, int family, uint8_t cmd, int ifindex, nl_recvmsg_msg_cb_t cb, void *arg)
{
    struct nl_msg *msg = nlmsg_alloc();
    if (!msg)
        return -1;
    genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, NLM_F_DUMP, cmd, 0);
    if (ifindex > 0)
        nla_put_u32(msg, NL80211_ATTR_IFINDEX, (uint32_t)ifindex);
    nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, cb, arg);
    int rc = nl_send_auto(sk, msg);
    nlmsg_free(msg);
    if (rc < 0)
        return rc;
    return nl_recvmsgs_default(sk);
}

sc_err_t sc_posix_wifi_assoc(const char *ifname, sc_posix_wifi_assoc_t *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk) {
        snprintf(why, cap, "out of memory");
        return SC_ERR_NOMEM;
    }
    sc_err_t err = SC_ERR_NOTFOUND;
    int family;
    iface_list_t list = { .n = 0 };
    if (genl_connect(sk) || (family = genl_ctrl_resolve(sk, "nl80211")) < 0) {
        snprintf(why, cap, "no nl80211 on this host (no Wi-Fi driver)");
        goto out;
    }
    if (dump(sk, family, NL80211_CMD_GET_INTERFACE, 0, on_interface, &list) < 0 || list.n == 0) {
        snprintf(why, cap, "no Wi-Fi interface found");
        goto out;
    }
    for (int i = 0; i < list.n; i++) {
        wifi_iface_t *w = &list.ifs[i];
        if (ifname ? strcmp(ifname, w->name) != 0 : !w->station)
            continue;
        bss_result_t r;
        memset(&r, 0, sizeof r);
        if (dump(sk, family, NL80211_CMD_GET_SCAN, w->ifindex, on_bss, &r) < 0 || !r.found)
            continue;
        snprintf(out->ifname, sizeof out->ifname, "%s", w->name);
        memcpy(out->bssid, r.bssid, SC_MAC_LEN);
        if (w->ssid_len) {
            memcpy(out->ssid, w->ssid, w->ssid_len);
            out->ssid_len = w->ssid_len;
        } else {
            memcpy(out->ssid, r.ssid, r.ssid_len);
            out->ssid_len = r.ssid_len;
        }
        err = SC_OK;
        goto out;
    }
    if (ifname)
        snprintf(why, cap, "%s is not a Wi-Fi interface associated to an access point", ifname);
    else
        snprintf(why, cap, "no Wi-Fi interface is associated to an access point");
out:
    nl_socket_free(sk);
    return err;
}

bool sc_posix_iface_exists(const char *ifname)
{
    return ifname && if_nametoindex(ifname) != 0;
}

sc_err_t sc_posix_iface_ipv4(const char *ifname, uint8_t ip[4], char *name_out, size_t cap)
{
    struct ifaddrs *all, *a;
    if (getifaddrs(&all))
        return SC_ERR_IO;
    sc_err_t err = SC_ERR_NOTFOUND;
    for (a = all; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || !(a->ifa_flags & IFF_UP))
            continue;
        if (ifname ? strcmp(ifname, a->ifa_name) != 0 : (a->ifa_flags & IFF_LOOPBACK) != 0)
            continue;
        memcpy(ip, &((struct sockaddr_in *)a->ifa_addr)->sin_addr, 4);
        if (name_out && cap)
            snprintf(name_out, cap, "%s", a->ifa_name);
        err = SC_OK;
        break;
    }
    freeifaddrs(all);
    return err;
}

bool sc_posix_ip_is_local(const uint8_t ip[4])
{
    if (ip[0] == 127)
        return true;
    struct ifaddrs *all, *a;
    if (getifaddrs(&all))
        return false;
    bool found = false;
    for (a = all; a && !found; a = a->ifa_next)
        found = a->ifa_addr && a->ifa_addr->sa_family == AF_INET &&
                !memcmp(&((struct sockaddr_in *)a->ifa_addr)->sin_addr, ip, 4);
    freeifaddrs(all);
    return found;
}
