/* SPDX-License-Identifier: Apache-2.0 */
/* The picture behind `smartcfg decode --plot`: frame lengths over time, one colour per sending
 * station, with the receiver's milestones (lock, each datum byte as it completes, the
 * completing frame) drawn on top. The SVG is plain text written here: nothing to install. */
#ifndef SC_PLOT_SVG_H
#define SC_PLOT_SVG_H

#include <stdint.h>

typedef struct sc_plot sc_plot_t;

enum sc_plot_mark { SC_PLOT_LOCK, SC_PLOT_DATUM, SC_PLOT_DONE, SC_PLOT_UNLOCK };

/* NULL when out of memory. */
sc_plot_t *sc_plot_new(void);
/* One captured frame: capture time, length as the receiver saw it, the sending station, and
 * whether it was group-addressed (only those can carry ESP-TOUCH / AirKiss). */
void sc_plot_frame(sc_plot_t *p, uint64_t t_us, uint16_t len, const uint8_t sender[6], int group);
/* A milestone at time t_us. For SC_PLOT_LOCK, offset is the stream's overhead (frame length
 * minus UDP payload length): it tells the guide's lengths (512..515 + offset) from data.
 * label is copied (escaped on output). */
void sc_plot_mark(sc_plot_t *p, uint64_t t_us, enum sc_plot_mark kind, uint16_t offset, const char *label);
/* Milestones since the last commit are pending: a decode keeps them when its result is new
 * (commit) and drops them when the result repeats one already drawn (discard), so a sender
 * repeating the same session for a minute does not bury the first decode in lock lines. */
void sc_plot_commit(sc_plot_t *p);
void sc_plot_discard(sc_plot_t *p);
/* Writes the SVG to path (not through a symbolic link, not into another user's file:
 * sc_posix_open_output); 0 on success, -1 with errno set and why the reason for a message. */
int sc_plot_write(const sc_plot_t *p, const char *path, const char *title, char *why, size_t why_len);
void sc_plot_free(sc_plot_t *p);

#endif
