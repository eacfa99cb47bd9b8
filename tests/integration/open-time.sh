#!/bin/bash
# SPDX-License-Identifier: MIT
# Opening a 4 TiB image costs about what a 4 GiB one does (bench/open-time.sh).
. "$(dirname "$0")/lib.sh"
require_env
"$E4_SRCDIR/bench/open-time.sh" --check "$TREE_COMPARE"
rc=$?
[ $rc = 99 ] && exit 99
record "open 4 TiB ~ open 4 GiB" $rc
summary
