# SPDX-License-Identifier: Apache-2.0
# A reader that stops reading: opens FIFO (before the writer does) with the smallest pipe
# (4 KiB), says READY (creates that file), reads nothing until RELEASE exists, then copies
# everything to OUT until the writer closes. What a stalled journal or log shipper is to the
# tool writing into it (cloud_supervise.sh, device_output_stall.sh).
# usage: stall_reader.py FIFO RELEASE OUT READY
import fcntl
import os
import sys
import time

F_SETPIPE_SZ = 1031

fifo, release, out_path, ready = sys.argv[1:5]
fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
fcntl.fcntl(fd, F_SETPIPE_SZ, 4096)
open(ready, "w").close()
while not os.path.exists(release):
    time.sleep(0.05)
os.set_blocking(fd, True)
with open(out_path, "wb") as out:
    while True:
        b = os.read(fd, 65536)
        if not b:
            break
        out.write(b)
