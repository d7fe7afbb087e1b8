#!/usr/bin/env bash
# Kills a run in the middle: starts COMMAND in a process group of its own (its output to OUTPUT)
# and WATCHER beside it, with WATCHER_STDIN on its standard input; when WATCHER returns (it waits
# for the moment to strike and may kill something itself, e.g. the module on the host), the
# whole group of COMMAND is killed with SIGKILL: a controller that dies in the middle of a run
# (OOM killer, a lost CI runner, kill -9). Prints WATCHER's output, then key=value lines:
#   killed=<ms from the start to the kill>, or finished_first=yes (COMMAND ended before: no test)
# usage: kill-during.sh OUTPUT TIMEOUT WATCHER_STDIN WATCHER... -- COMMAND...
set -u
output=$1 timeout=$2 watcher_stdin=$3
shift 3
watcher=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
    watcher+=("$1")
    shift
done
shift
start=$(date +%s%N)
PYTHONUNBUFFERED=1 setsid "$@" > "$output" 2>&1 < /dev/null &
pid=$!
timeout "$timeout" "${watcher[@]}" < "$watcher_stdin"
echo "watcher_rc=$?"
if ! kill -0 "$pid" 2>/dev/null; then
    echo "finished_first=yes"
    exit 0
fi
kill -KILL -- "-$pid"
echo "killed=$(( ($(date +%s%N) - start) / 1000000 ))"
wait "$pid" 2>/dev/null
echo "finished_first=no"
