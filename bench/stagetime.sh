#!/bin/bash
# Stands in for astrotool in the chain bench's breakdown run (AT=bench/stagetime.sh): runs
# $STAGETIME_TOOL with the same arguments and appends one line to $STAGETIME_LOG:
# start and end (ns since the epoch), the child's user and system time (bash's `times`, which
# must run in this shell, not in a subshell), and the first two arguments.
start=$(date +%s%N)
"$STAGETIME_TOOL" "$@"
status=$?
end=$(date +%s%N)
times > "$STAGETIME_LOG.$$"
{ read -r _; read -r user sys; } < "$STAGETIME_LOG.$$"
rm -f "$STAGETIME_LOG.$$"
echo "$start $end $user $sys $1 $2" >> "$STAGETIME_LOG"
exit $status
