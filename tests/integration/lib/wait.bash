# SPDX-License-Identifier: Apache-2.0
# wait_line PID FILE PATTERN SECONDS: polls every 0.1 s until FILE holds a line grep finds
# PATTERN in, the process PID has ended (it will write nothing more), or SECONDS (whole) have
# passed. 0 when the line came, 1 otherwise; the caller asserts what it needs afterwards.
wait_line() {
    local i
    for ((i = 0; i < $4 * 10; i++)); do
        grep -q -- "$3" "$2" 2>/dev/null && return 0
        # ended: one last look, as the line may have come between the grep and now
        kill -0 "$1" 2>/dev/null || { grep -q -- "$3" "$2" 2>/dev/null; return; }
        sleep 0.1
    done
    return 1
}
