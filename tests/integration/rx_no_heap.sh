#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The receiver and the channel search must not touch the heap (or any libc beyond mem*):
# their objects in the core library may reference no allocator symbol.
set -euo pipefail
lib="$SC_BUILD/libsmartcfg.a"
[ -f "$lib" ] || { echo "rx_no_heap: $lib missing"; exit 1; }
undef=$(nm -u -A "$lib" 2>/dev/null | grep -E '(rx|chansearch)\.c\.o' || true)
echo "$undef" | sed 's/^/  /'
if echo "$undef" | grep -Eq ' U (malloc|calloc|realloc|free|aligned_alloc|posix_memalign|_Znwm|printf|fprintf|time|clock_gettime)$'; then
    echo "rx_no_heap: FAIL: the receiver references an allocator or an OS/libc service"
    exit 1
fi
n=$(nm -A "$lib" | grep -cE '(rx|chansearch)\.c\.o:' || true)
[ "$n" -gt 0 ] || { echo "rx_no_heap: receiver objects not found"; exit 1; }
echo "rx_no_heap: ok (no allocator in rx.c.o / chansearch.c.o)"
