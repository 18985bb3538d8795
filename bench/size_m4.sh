#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Cortex-M4 -Os flash/RAM of the core per module (scripts/cross-build.sh, also `make cross`).
set -euo pipefail
exec sh "${SC_SRC:?}/scripts/cross-build.sh"
