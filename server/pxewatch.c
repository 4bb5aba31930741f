/* The passive PXE watcher's captures (pxewatch.h): libpcap on each
 * --watch-iface, a BPF filter that passes only UDP to the DHCP server and
 * PXE boot server ports, the capture's descriptor polled by the libuv loop
 * (uv_poll_t, freed in its close callback, which closes the capture), and
 * each frame into the table. Nothing here can send: no socket is opened and
 * pcap_inject/pcap_sendpacket are never called (docs/security.md). */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bucket.h"
#include "common/error.h"
#include "common/log.h"
#include "server/pxewatch.h"

#define FILTER "udp and (dst port 67 or dst port 4011)"
#define SNAPLEN 2048 /* a whole DHCP frame (at most 1518 bytes with a VLAN tag) */
#define BATCH 256    /* frames per poll callback: the sender is not kept waiting */
#define BUFFER (1 << 20)
#define LOG_RATE 10.0 /* new machines logged a second, after a burst of LOG_BURST */
#define LOG_BURST 50.0

struct capture {
    struct fc_pxewatch *w;
    uv_poll_t poll;
    pcap_t *pcap;
    char iface[FC_PXE_IFNAME_MAX];
};

struct fc_pxewatch {
    uv_loop_t *loop;
    struct fc_pxe_table *table;
    struct capture *cap[FC_WATCH_IFACES_MAX];
    unsigned n_cap;
    unsigned handles; /* poll handles not closed yet */
    int closing;
    fc_pxe_seen_cb on_seen;
    void *ctx;
    uint64_t generation;
    struct fc_pxewatch_counters c;
    struct fc_bucket log_bucket;
    uint64_t not_logged_told;
};

struct fc_pxewatch *fc_pxewatch_new(uv_loop_t *loop, size_t cap)
{
    struct fc_pxewatch *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    w->loop = loop;
    w->table = fc_pxe_table_new(cap);
    if (!w->table) {
        free(w);
        return NULL;
    }
    return w;
}

/* ---- frames ---- */

static void log_boot(struct fc_pxewatch *w, const struct fc_pxe_seen *e, double mono)
{
    char arch[24], type[24];

    /* A flood of made-up MACs must not become a flood of log lines. */
    if (!fc_bucket_take(&w->log_bucket, mono, LOG_RATE, LOG_BURST)) {
        w->c.not_logged++;
        return;
    }
    if (w->c.not_logged > w->not_logged_told) {
        fc_warn("pxe: %llu more machines first seen were not logged (over %.0f a second: a "
                "flood of made-up MACs?)",
                (unsigned long long)(w->c.not_logged - w->not_logged_told), LOG_RATE);
        w->not_logged_told = w->c.not_logged;
    }
    fc_info("pxe: %s %s%sPXE %s on %s", e->mac_text,
            e->has_arch ? fc_dhcp_arch_name(e->arch, arch, sizeof(arch)) : "",
            e->has_arch ? " " : "", fc_dhcp_type_name(e->msg_type, type, sizeof(type)), e->iface);
}

int fc_pxewatch_feed(struct fc_pxewatch *w, const uint8_t *frame, size_t len, const char *iface,
                     int64_t wall, double mono)
{
    const struct fc_pxe_seen *e;
    const uint8_t *payload;
    struct fc_dhcp m;
    size_t plen;
    int fresh;

    w->c.frames++;
    if (fc_dhcp_frame_payload(frame, len, &payload, &plen) || fc_dhcp_decode(payload, plen, &m)) {
        w->c.rejected++;
        return 0;
    }
    /* A machine booting asks; replies, and clients other than PXE
     * firmware (an OS renewing its lease), are only counted. */
    if (m.op != FC_BOOTREQUEST || (m.msg_type != FC_DHCPDISCOVER && m.msg_type != FC_DHCPREQUEST) ||
        !fc_dhcp_is_pxe(&m)) {
        w->c.other_dhcp++;
        return 0;
    }
    e = fc_pxe_table_record(w->table, &m, iface, wall, mono, &fresh);
    w->c.pxe++;
    w->generation++;
    if (fresh)
        log_boot(w, e, mono);
    if (w->on_seen)
        w->on_seen(w->ctx, e);
    return 1;
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct capture *c = (struct capture *)user;

    /* A frame cut by the snap length cannot be checked whole. */
    if (h->caplen < h->len) {
        c->w->c.frames++;
        c->w->c.rejected++;
        return;
    }
    fc_pxewatch_feed(c->w, bytes, h->caplen, c->iface, (int64_t)h->ts.tv_sec,
                     (double)uv_hrtime() / 1e9);
}

static void on_readable(uv_poll_t *p, int status, int events)
{
    struct capture *c = p->data;
    int n;

    (void)events;
    n = status < 0 ? -1 : pcap_dispatch(c->pcap, BATCH, on_frame, (u_char *)c);
    if (n < 0) {
        fc_warn("pxe: %s: the capture failed (%s): no longer watching it", c->iface,
                status < 0 ? uv_strerror(status) : pcap_geterr(c->pcap));
        uv_poll_stop(p);
    }
}

/* ---- captures ---- */

static int activate_error(const struct capture *c, int rc)
{
    if (rc == PCAP_ERROR_PERM_DENIED)
        fc_error("pxe: cannot watch %s: permission denied. Capturing needs CAP_NET_RAW: run "
                 "fleetcastd as root or give it the capability (AmbientCapabilities=CAP_NET_RAW "
                 "in its systemd unit, or setcap cap_net_raw+ep on the binary)",
                 c->iface);
    else if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
        fc_error("pxe: cannot watch %s: no such interface (--watch-iface)", c->iface);
    else if (rc == PCAP_ERROR_IFACE_NOT_UP)
        fc_error("pxe: cannot watch %s: the interface is down", c->iface);
    else
        fc_error("pxe: cannot watch %s: %s (%s)", c->iface, pcap_statustostr(rc),
                 pcap_geterr(c->pcap));
    return rc == PCAP_ERROR_NO_SUCH_DEVICE ? FC_EINVAL : FC_EIO;
}

static int set_filter(const struct capture *c)
{
    struct bpf_program prog;
    int rc;

    if (pcap_compile(c->pcap, &prog, FILTER, 1, PCAP_NETMASK_UNKNOWN)) {
        fc_error("pxe: %s: cannot compile the filter: %s", c->iface, pcap_geterr(c->pcap));
        return FC_EIO;
    }
    rc = pcap_setfilter(c->pcap, &prog);
    pcap_freecode(&prog);
    if (rc)
        fc_error("pxe: %s: cannot set the filter: %s", c->iface, pcap_geterr(c->pcap));
    return rc ? FC_EIO : 0;
}

/* The capture, active, filtered and non-blocking. */
static int open_capture(struct capture *c)
{
    char err[PCAP_ERRBUF_SIZE] = "";
    int rc;

    c->pcap = pcap_create(c->iface, err);
    if (!c->pcap)
        return fc_error("pxe: cannot watch %s: %s", c->iface, err), FC_EIO;
    /* Not promiscuous: a booting machine broadcasts; what others unicast is theirs. */
    if (pcap_set_snaplen(c->pcap, SNAPLEN) || pcap_set_promisc(c->pcap, 0) ||
        pcap_set_immediate_mode(c->pcap, 1) || pcap_set_buffer_size(c->pcap, BUFFER))
        return fc_error("pxe: %s: cannot set up the capture", c->iface), FC_EIO;
    rc = pcap_activate(c->pcap);
    if (rc < 0)
        return activate_error(c, rc);
    if (rc > 0)
        fc_warn("pxe: %s: %s (%s)", c->iface, pcap_statustostr(rc), pcap_geterr(c->pcap));
    if (pcap_datalink(c->pcap) != DLT_EN10MB)
        return fc_error("pxe: cannot watch %s: not an Ethernet interface (link type %s)", c->iface,
                        pcap_datalink_val_to_name(pcap_datalink(c->pcap))),
               FC_EINVAL;
    /* Only what arrives: this host's own DHCP client is not a lab machine. */
    if (pcap_setdirection(c->pcap, PCAP_D_IN))
        fc_debug("pxe: %s: cannot keep to incoming frames: %s", c->iface, pcap_geterr(c->pcap));
    rc = set_filter(c);
    if (!rc && pcap_setnonblock(c->pcap, 1, err))
        rc = (fc_error("pxe: %s: cannot make the capture non-blocking: %s", c->iface, err), FC_EIO);
    return rc;
}

int fc_pxewatch_listen(struct fc_pxewatch *w, const char *iface)
{
    struct capture *c;
    int fd, rc;

    if (!w->loop || w->closing || w->n_cap == FC_WATCH_IFACES_MAX ||
        strlen(iface) >= FC_PXE_IFNAME_MAX)
        return FC_EINVAL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return FC_ENOMEM;
    c->w = w;
    snprintf(c->iface, sizeof(c->iface), "%s", iface);
    rc = open_capture(c);
    fd = rc ? -1 : pcap_get_selectable_fd(c->pcap);
    if (!rc && (fd < 0 || uv_poll_init(w->loop, &c->poll, fd))) {
        fc_error("pxe: %s: the capture cannot be polled", iface);
        rc = FC_EIO;
    }
    if (rc) {
        if (c->pcap)
            pcap_close(c->pcap);
        free(c);
        return rc;
    }
    c->poll.data = c;
    w->cap[w->n_cap++] = c;
    w->handles++;
    uv_poll_start(&c->poll, UV_READABLE, on_readable);
    fc_info("pxe: watching %s for PXE boots (passive: libpcap, filter '%s'; nothing is sent)",
            iface, FILTER);
    return 0;
}

int fc_pxewatch_open(struct fc_pxewatch **out, uv_loop_t *loop,
                     const char (*ifaces)[FC_PXE_IFNAME_MAX], unsigned n)
{
    struct fc_pxewatch *w = fc_pxewatch_new(loop, FC_PXE_TABLE_DEFAULT);
    unsigned i;
    int rc = w ? 0 : FC_ENOMEM;

    for (i = 0; !rc && i < n; i++)
        rc = fc_pxewatch_listen(w, ifaces[i]);
    if (rc) {
        fc_pxewatch_close(w);
        w = NULL;
    }
    *out = w;
    return rc;
}

static void free_watcher(struct fc_pxewatch *w)
{
    fc_pxe_table_free(w->table);
    free(w);
}

static void on_poll_closed(uv_handle_t *h)
{
    struct capture *c = h->data;
    struct fc_pxewatch *w = c->w;

    pcap_close(c->pcap); /* after libuv let go of its descriptor */
    free(c);
    if (--w->handles == 0 && w->closing)
        free_watcher(w);
}

void fc_pxewatch_close(struct fc_pxewatch *w)
{
    unsigned i;

    if (!w || w->closing)
        return;
    w->closing = 1;
    for (i = 0; i < w->n_cap; i++) {
        uv_poll_stop(&w->cap[i]->poll);
        uv_close((uv_handle_t *)&w->cap[i]->poll, on_poll_closed);
        w->cap[i] = NULL;
    }
    if (w->handles == 0)
        free_watcher(w);
}

/* ---- questions ---- */

void fc_pxewatch_on_seen(struct fc_pxewatch *w, fc_pxe_seen_cb fn, void *ctx)
{
    w->on_seen = fn;
    w->ctx = ctx;
}

const struct fc_pxe_table *fc_pxewatch_table(const struct fc_pxewatch *w)
{
    return w->table;
}

const struct fc_pxe_seen *fc_pxewatch_lookup(const struct fc_pxewatch *w, const uint8_t mac[6])
{
    return fc_pxe_table_lookup(w->table, mac);
}

uint64_t fc_pxewatch_generation(const struct fc_pxewatch *w)
{
    return w->generation;
}

struct fc_pxewatch_counters fc_pxewatch_counters(const struct fc_pxewatch *w)
{
    return w->c;
}

unsigned fc_pxewatch_iface_count(const struct fc_pxewatch *w)
{
    return w->closing ? 0 : w->n_cap;
}

const char *fc_pxewatch_iface(const struct fc_pxewatch *w, unsigned i)
{
    return i < fc_pxewatch_iface_count(w) ? w->cap[i]->iface : NULL;
}

/* ---- text ---- */

void fc_pxe_uuid_text(const uint8_t u[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
             u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
}
