/* SPDX-License-Identifier: Apache-2.0 */
/* SC_OUTLINE marks a static helper that GCC -Os copies into each of its callers although one
 * out-of-line copy is smaller: measured one by one with `make cross` (docs/m4.md, the sixth
 * size round), kept where the object shrank. Only in a size build: a speed build (-O2, the
 * host's benches) inlines as it sees fit. */
#ifndef SC_COMMON_OUTLINE_H
#define SC_COMMON_OUTLINE_H

#if defined(__GNUC__) && defined(__OPTIMIZE_SIZE__)
#define SC_OUTLINE __attribute__((noinline))
#else
#define SC_OUTLINE
#endif

/* SC_INLINE marks the opposite: a small static helper GCC -Os keeps out of line although its
 * copies are smaller, because at each call site its constant arguments fold into the caller's
 * own tests (the AT parameter checks: docs/m4.md, the eighth size round). Measured like
 * SC_OUTLINE, and like it only in a size build. */
#if defined(__GNUC__) && defined(__OPTIMIZE_SIZE__)
#define SC_INLINE inline __attribute__((always_inline))
#else
#define SC_INLINE
#endif

/* SC_NOINLINE keeps a rarely run helper out of its hot caller in every build: inlined, its
 * registers and spills would be paid by every call of the caller (docs/m4.md). */
#if defined(__GNUC__)
#define SC_NOINLINE __attribute__((noinline))
#else
#define SC_NOINLINE
#endif

/* SC_HOT_LAYOUT: a per-frame function whose blocks GCC -Os lays out with the "simple"
 * algorithm (its default for size) is laid out with "stc" (software trace cache, -O2's), which
 * puts the common paths in a line: fewer taken branches and jumps between them, and smaller
 * here (the receiver front: 4 instructions fewer a frame at the median, 48 bytes less;
 * docs/m4.md, branch pf16). GCC only: clang has no such attribute. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE_SIZE__)
#define SC_HOT_LAYOUT __attribute__((optimize("reorder-blocks-algorithm=stc")))
#else
#define SC_HOT_LAYOUT
#endif

#endif
