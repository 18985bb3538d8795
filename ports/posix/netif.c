/* SPDX-License-Identifier: Apache-2.0 */
/* Interface facts for the station backends and the CLI. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sc_posix_netif.h"

sc_err_t sc_posix_netif_ipv4(const char *iface, uint8_t ip[4])
{
    if (!iface || !iface[0])
        return SC_ERR_INVAL;
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) < 0)
        return SC_ERR_IO;
    sc_err_t err = SC_ERR_NOTFOUND;
    for (struct ifaddrs *a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || strcmp(a->ifa_name, iface) != 0)
            continue;
        const struct sockaddr_in *sin = (const struct sockaddr_in *)a->ifa_addr;
        memcpy(ip, &sin->sin_addr.s_addr, 4);
        err = SC_OK;
        break;
    }
    freeifaddrs(list);
    return err;
}

sc_err_t sc_posix_netif_mac(const char *iface, uint8_t mac[SC_MAC_LEN])
{
    if (!iface || !iface[0] || strlen(iface) >= IFNAMSIZ)
        return SC_ERR_INVAL;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return SC_ERR_IO;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, iface, strlen(iface));
    int r = ioctl(fd, SIOCGIFHWADDR, &ifr);
    close(fd);
    if (r < 0)
        return SC_ERR_NOTFOUND;
    static const uint8_t zero[SC_MAC_LEN];
    if (!memcmp(ifr.ifr_hwaddr.sa_data, zero, SC_MAC_LEN))
        return SC_ERR_NOTFOUND;
    memcpy(mac, ifr.ifr_hwaddr.sa_data, SC_MAC_LEN);
    return SC_OK;
}

void sc_posix_fake_mac(const char *seed, uint8_t mac[SC_MAC_LEN])
{
    /* FNV-1a: a stable, well-spread hash; no secrecy needed. */
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = seed ? seed : ""; *p; p++) {
        h ^= (uint8_t)*p;
        h *= 0x100000001b3ull;
    }
    mac[0] = 0x02; /* locally administered, unicast */
    for (int i = 1; i < SC_MAC_LEN; i++)
        mac[i] = (uint8_t)(h >> (8 * (i - 1)));
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sc_posix_parse_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s);
    if (n % 2)
        return -1;
    if (n / 2 > cap)
        return -2;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (int)(n / 2);
}

sc_err_t sc_posix_parse_mac(const char *s, uint8_t mac[SC_MAC_LEN])
{
    if (!s || strlen(s) != 17)
        return SC_ERR_FORMAT;
    for (int i = 0; i < SC_MAC_LEN; i++) {
        int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
        if (hi < 0 || lo < 0)
            return SC_ERR_FORMAT;
        if (i < SC_MAC_LEN - 1 && s[3 * i + 2] != ':' && s[3 * i + 2] != '-')
            return SC_ERR_FORMAT;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return SC_OK;
}

sc_err_t sc_posix_parse_ipv4(const char *s, uint8_t ip[4])
{
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1)
        return SC_ERR_FORMAT;
    memcpy(ip, &a.s_addr, 4);
    return SC_OK;
}

const uint8_t sc_posix_default_bssid[SC_MAC_LEN] = { 0x02, 0x5c, 0x00, 0x00, 0x00, 0x01 };
