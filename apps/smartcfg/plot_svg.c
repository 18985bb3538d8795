/* SPDX-License-Identifier: Apache-2.0 */
/* SVG writer of `smartcfg decode --plot` (plot_svg.h). Kept apart from the decoder: it only
 * records what the decode loop tells it and draws it once at the end. Frames beyond
 * PLOT_MAX_FRAMES are counted, not drawn, so a day-long capture cannot exhaust memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot_svg.h"
#include "sc_posix_event.h"
#include "sc_posix.h"

#define PLOT_MAX_FRAMES 200000u
#define PLOT_MAX_MARKS 4096u
#define PLOT_MAX_STREAMS 8u /* distinct colours; more senders share the last one */

#define W 1200
#define H 600
#define ML 70   /* margins: room for the axes' labels and the legend */
#define MR 230
#define MT 50
#define MB 50

typedef struct {
    uint64_t t_us;
    uint16_t len;
    uint8_t stream; /* index into streams[] */
    uint8_t group;
} plot_frame_t;

typedef struct {
    uint64_t t_us;
    uint32_t frame; /* the frame seen last when the mark was made (the completing frame) */
    uint16_t offset;
    uint8_t kind;
    char label[48];
} plot_mark_t;

struct sc_plot {
    plot_frame_t *f;
    size_t n, cap;
    unsigned long dropped;
    plot_mark_t m[PLOT_MAX_MARKS];
    size_t nm, committed;
    uint8_t streams[PLOT_MAX_STREAMS][6];
    size_t ns;
};

static const char *const colours[PLOT_MAX_STREAMS] = { "#1f77b4", "#2ca02c", "#9467bd", "#8c564b",
                                                       "#e377c2", "#17becf", "#bcbd22", "#7f7f7f" };

sc_plot_t *sc_plot_new(void) { return calloc(1, sizeof(sc_plot_t)); }

void sc_plot_free(sc_plot_t *p)
{
    if (!p)
        return;
    free(p->f);
    free(p);
}

void sc_plot_frame(sc_plot_t *p, uint64_t t_us, uint16_t len, const uint8_t sender[6], int group)
{
    if (!p)
        return;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4096;
        if (cap > PLOT_MAX_FRAMES)
            cap = PLOT_MAX_FRAMES;
        plot_frame_t *nf = p->n < cap ? realloc(p->f, cap * sizeof *nf) : NULL;
        if (!nf) {
            p->dropped++;
            return;
        }
        p->f = nf;
        p->cap = cap;
    }
    size_t s;
    for (s = 0; s < p->ns && memcmp(p->streams[s], sender, 6); s++)
        ;
    if (s == p->ns) {
        if (p->ns < PLOT_MAX_STREAMS)
            memcpy(p->streams[p->ns++], sender, 6);
        else
            s = PLOT_MAX_STREAMS - 1;
    }
    p->f[p->n++] = (plot_frame_t){ t_us, len, (uint8_t)s, (uint8_t)(group != 0) };
}

void sc_plot_mark(sc_plot_t *p, uint64_t t_us, enum sc_plot_mark kind, uint16_t offset, const char *label)
{
    if (!p || p->nm >= PLOT_MAX_MARKS)
        return;
    plot_mark_t *m = &p->m[p->nm++];
    m->t_us = t_us;
    m->frame = p->n ? (uint32_t)(p->n - 1) : 0;
    m->kind = (uint8_t)kind;
    m->offset = offset;
    snprintf(m->label, sizeof m->label, "%s", label ? label : "");
}

void sc_plot_commit(sc_plot_t *p)
{
    if (p)
        p->committed = p->nm;
}

void sc_plot_discard(sc_plot_t *p)
{
    if (p)
        p->nm = p->committed;
}

/* Text escaped for XML character data and attribute values. The title holds the capture's
 * file name, anyone's to choose (F77): a byte that is no UTF-8 made the whole SVG malformed (no
 * viewer opens it), so it is U+FFFD; a C1 or bidirectional control (a name shown reversed in
 * the viewer's title) is '?', as C0 is. */
static void xml_text(FILE *o, const char *s)
{
    const size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : sc_posix_utf8_seq((const uint8_t *)s + i, n - i);
        if (k == 0) {
            fputs("\xef\xbf\xbd", o); /* U+FFFD */
            i++;
            continue;
        }
        if (k > 1) {
            if (sc_posix_utf8_control((const uint8_t *)s + i, k))
                fputc('?', o);
            else
                fwrite(s + i, 1, k, o);
            i += k;
            continue;
        }
        if (c == '<')
            fputs("&lt;", o);
        else if (c == '>')
            fputs("&gt;", o);
        else if (c == '&')
            fputs("&amp;", o);
        else if (c == '"')
            fputs("&quot;", o);
        else if (c < 0x20 || c == 0x7f)
            fputc('?', o); /* XML 1.0 cannot carry control characters at all */
        else
            fputc(c, o);
        i++;
    }
}

/* The guide is the lengths 515, 514, 513, 512 on top of the stream's overhead (ESP-TOUCH v1,
 * docs/protocol/esptouch-v1.md): once a lock tells the overhead, those frames are the guide. */
static int is_guide1(uint16_t len, uint16_t offset) { return len >= offset + 512u && len <= offset + 515u; }

/* The uplink and the AP's relay of it lock with different overheads: a guide of either. */
static int is_guide(uint16_t len, const uint16_t *offsets, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_guide1(len, offsets[i]))
            return 1;
    return 0;
}

/* A round step (1, 2 or 5 x 10^k) giving about n ticks over span. */
static double nice_step(double span, int n)
{
    double raw = span / n, p = 1;
    while (p * 10 <= raw)
        p *= 10;
    while (p > raw)
        p /= 10;
    return raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
}

int sc_plot_write(const sc_plot_t *p, const char *path, const char *title, char *why, size_t why_len)
{
    if (!p || !path) {
        snprintf(why, why_len, "%s", strerror(EINVAL));
        errno = EINVAL;
        return -1;
    }
    /* not fopen(): a symbolic link or another user's file at the name is refused (sc_posix.h) */
    FILE *o = sc_posix_open_output(path, false, why, why_len);
    if (!o)
        return -1;
    /* Scales: time from the first frame; lengths over the group-addressed frames (the only
     * ones that can carry provisioning), all frames when there are none. */
    int any_group = 0;
    for (size_t i = 0; i < p->n; i++)
        any_group |= p->f[i].group;
    uint64_t t0 = p->n ? p->f[0].t_us : 0, t1 = t0;
    unsigned lmin = 65535, lmax = 0;
    for (size_t i = 0; i < p->n; i++) {
        const plot_frame_t *f = &p->f[i];
        if (f->t_us < t0)
            t0 = f->t_us;
        if (f->t_us > t1)
            t1 = f->t_us;
        if (any_group && !f->group)
            continue;
        if (f->len < lmin)
            lmin = f->len;
        if (f->len > lmax)
            lmax = f->len;
    }
    if (lmin > lmax)
        lmin = 0, lmax = 600;
    if (lmax - lmin < 20)
        lmin = lmin > 10 ? lmin - 10 : 0, lmax += 10;
    lmax += (lmax - lmin) / 20 + 1; /* headroom: the top frames stay clear of the lock labels */
    double span = (double)(t1 - t0) / 1e6;
    if (span <= 0)
        span = 1;
    const double pw = W - ML - MR, ph = H - MT - MB;
#define X(t) (ML + ((double)((t) - t0) / 1e6) / span * pw)
#define Y(l) (MT + ph - ((double)(l) - lmin) / (double)(lmax - lmin) * ph)
    uint16_t offs[8];
    size_t noff = 0;
    for (size_t i = 0; i < p->nm; i++) {
        if (p->m[i].kind != SC_PLOT_LOCK || noff == sizeof offs / sizeof offs[0])
            continue;
        size_t k;
        for (k = 0; k < noff && offs[k] != p->m[i].offset; k++)
            ;
        if (k == noff)
            offs[noff++] = p->m[i].offset;
    }
    const int locked = noff > 0;

    fprintf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n<title>",
            W, H, W, H);
    xml_text(o, title ? title : "smartcfg decode");
    fputs("</title>\n<style>.frame{stroke:none}.unicast{fill:#cccccc}.guide-frame{stroke:#000;stroke-width:.4}"
          ".phase.guide{fill:#fff3c4}.phase.data{fill:#e3efff}.lock{stroke:#d62728;stroke-width:2}"
          ".unlock{stroke:#ff7f0e;stroke-width:1.5;stroke-dasharray:4 3}.datum{stroke:#555;stroke-width:1}"
          ".done{fill:none;stroke:#d62728;stroke-width:3}.axis{stroke:#000}.grid{stroke:#eee}</style>\n",
          o);
    fprintf(o, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", W, H);

    /* Phases: runs of group-addressed frames that are all guide or all data (a gap over
     * 300 ms ends a run), shaded behind everything. Only known once a lock gave the overhead. */
    if (locked) {
        size_t start = 0;
        int cls = -1;
        uint64_t last = 0;
        for (size_t i = 0; i <= p->n; i++) {
            int c = -1;
            if (i < p->n) {
                if (!p->f[i].group)
                    continue;
                c = is_guide(p->f[i].len, offs, noff);
            }
            if (cls >= 0 && (i == p->n || c != cls || p->f[i].t_us - last > 300000u)) {
                double x0 = X(p->f[start].t_us), x1 = X(last);
                fprintf(o, "<rect class=\"phase %s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%.0f\"/>\n",
                        cls ? "guide" : "data", x0, MT, x1 - x0 < 1 ? 1 : x1 - x0, ph);
                cls = -1;
            }
            if (i == p->n)
                break;
            if (cls < 0)
                start = i, cls = c;
            last = p->f[i].t_us;
        }
    }
    /* axes with round ticks */
    double ts = nice_step(span, 10);
    for (double t = 0; t <= span + 1e-9; t += ts) {
        double x = ML + t / span * pw;
        fprintf(o, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.0f\"/>"
                   "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%g</text>\n",
                x, MT, x, MT + ph, x, MT + ph + 16, t);
    }
    double ls = nice_step(lmax - lmin, 8);
    for (double l = ls * (unsigned)(lmin / ls + 1); l <= lmax; l += ls)
        fprintf(o, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>"
                   "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                ML, Y(l), ML + pw, Y(l), ML - 6, Y(l) + 4, l);
    fprintf(o, "<line class=\"axis\" x1=\"%d\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>"
               "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.0f\"/>\n",
            ML, MT + ph, ML + pw, MT + ph, ML, MT, ML, MT + ph);
    fprintf(o, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">time since the first frame (s)</text>\n",
            ML + pw / 2, H - 10);
    fprintf(o, "<text transform=\"translate(16 %.0f) rotate(-90)\" text-anchor=\"middle\">frame length (bytes)</text>\n",
            MT + ph / 2);
    fputs("<text x=\"70\" y=\"20\" font-size=\"15\">", o);
    xml_text(o, title ? title : "smartcfg decode");
    fputs("</text>\n", o);

    /* frames: unicast grey underneath, group-addressed in their stream's colour; guide
     * frames outlined */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < p->n; i++) {
            const plot_frame_t *f = &p->f[i];
            if (f->group != pass || f->len < lmin || f->len > lmax)
                continue;
            if (!pass)
                fprintf(o, "<circle class=\"frame unicast\" cx=\"%.1f\" cy=\"%.1f\" r=\"1.5\"/>\n", X(f->t_us),
                        Y(f->len));
            else
                fprintf(o, "<circle class=\"frame%s\" data-stream=\"%u\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"%s\"/>\n",
                        is_guide(f->len, offs, noff) ? " guide-frame" : "", f->stream, X(f->t_us),
                        Y(f->len), colours[f->stream]);
        }
    /* milestones; lock labels step down so locks close together (uplink and relay) stay legible */
    unsigned nlock = 0;
    for (size_t i = 0; i < p->nm; i++) {
        const plot_mark_t *m = &p->m[i];
        double x = X(m->t_us);
        switch (m->kind) {
        case SC_PLOT_LOCK:
        case SC_PLOT_UNLOCK:
            fprintf(o, "<line class=\"%s\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.0f\"/>"
                       "<text x=\"%.1f\" y=\"%d\" fill=\"#d62728\">",
                    m->kind == SC_PLOT_LOCK ? "lock" : "unlock", x, MT, x, MT + ph, x + 3, MT + 12 + 14 * (int)(nlock++ % 4));
            xml_text(o, m->label);
            fputs("</text>\n", o);
            break;
        case SC_PLOT_DATUM:
            fprintf(o, "<g class=\"datum-mark\"><line class=\"datum\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                       "<title>",
                    x, MT - 10, x, MT);
            xml_text(o, m->label);
            fputs("</title></g>\n", o);
            break;
        case SC_PLOT_DONE: {
            const plot_frame_t *f = p->n ? &p->f[m->frame] : NULL;
            double y = f ? Y(f->len) : MT + ph / 2;
            fprintf(o, "<g class=\"done-mark\"><circle class=\"done\" cx=\"%.1f\" cy=\"%.1f\" r=\"9\"/>"
                       "<text x=\"%.1f\" y=\"%.1f\" fill=\"#d62728\" font-weight=\"bold\">",
                    x, y, x + 12, y - 10);
            xml_text(o, m->label);
            fputs("</text></g>\n", o);
            break;
        }
        default:
            break;
        }
    }
    /* legend */
    int ly = MT;
    const int lx = W - MR + 20;
    fprintf(o, "<g class=\"legend\"><text x=\"%d\" y=\"%d\" font-weight=\"bold\">senders (group-addressed)</text>\n",
            lx, ly);
    for (size_t s = 0; s < p->ns; s++) {
        ly += 18;
        const uint8_t *a = p->streams[s];
        fprintf(o, "<circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">"
                   "%02x:%02x:%02x:%02x:%02x:%02x%s</text>\n",
                lx + 5, ly - 4, colours[s], lx + 15, ly, a[0], a[1], a[2], a[3], a[4], a[5],
                s == PLOT_MAX_STREAMS - 1 ? " (and others)" : "");
    }
    static const char *const keys[][2] = {
        { "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"#fff3c4\"/>", "guide phase" },
        { "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"#e3efff\"/>", "data phase" },
        { "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"3\" fill=\"#d62728\"/>", "lock" },
        { "<rect x=\"%d\" y=\"%d\" width=\"1\" height=\"10\" fill=\"#555\"/>", "a datum byte completes" },
        { "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>",
          "the completing frame" },
        { "<rect x=\"%d\" y=\"%d\" width=\"6\" height=\"6\" fill=\"#ccc\"/>", "unicast frame" },
    };
    ly += 12;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        ly += 18;
        fprintf(o, keys[k][0], lx, ly - 10);
        fprintf(o, "<text x=\"%d\" y=\"%d\">%s</text>\n", lx + 15, ly, keys[k][1]);
    }
    ly += 30;
    fprintf(o, "<text x=\"%d\" y=\"%d\">%zu frames", lx, ly, p->n);
    if (p->dropped)
        fprintf(o, " (%lu more not drawn)", p->dropped);
    fputs("</text></g>\n</svg>\n", o);
#undef X
#undef Y
    int bad = ferror(o);
    if (fclose(o) != 0 || bad) {
        if (!errno)
            errno = EIO;
        snprintf(why, why_len, "%s", strerror(errno));
        return -1;
    }
    return 0;
}
