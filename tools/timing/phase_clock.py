#!/usr/bin/env python
"""Passes Molecule's output through unchanged and times each of its actions (for tools/run-tests).

    molecule test -s NAME 2>&1 | phase_clock.py --scenario NAME --out build/timing/NAME.phases.json

Every byte read goes to standard output at once, as it came. Molecule 26 logs the start and the
end of each action (destroy, syntax, create, prepare, converge, idempotence, check, verify, ...):

    INFO     default ➜ converge: Executing
    INFO     default ➜ converge: Executed: Successful

(with ANSI colours, or "INFO     [default > converge] Executing" without markup). An action's time
runs from its Executing line to its Executed line, on the monotonic clock. A destroy before the
first create is "destroy-before", the other ones "destroy". At end of input the JSON file is
written in one rename: {"scenario", "total_seconds" (first line to last), "phases": [{"action",
"seconds", "result"}, ...]}; an action whose Executed line never came is "unfinished", timed up
to the end of input (and so is the total then). The exit status is 0: the pipeline's status
is Molecule's (set -o pipefail). Ctrl-C is ignored, as by tee -i, so that Molecule's clean-up
output still gets through; SIGTERM writes the record and stops.
"""

import argparse
import json
import os
import re
import signal
import sys
import time
from pathlib import Path

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# The level in front matters: Molecule's closing DETAILS block repeats every "Executed" line
# without one, and those are a summary, not the end of an action.
ACTION_LINE = re.compile(
    r"^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+"
    r"(?:\S+ \u279c (?P<action>[\w-]+):|\[\S+ > (?P<plain_action>[\w-]+)\])"
    r" (?:(?P<executing>Executing)|Executed: (?P<result>.*?))\s*$")
# A completion may carry a note in brackets ("Executed: Skipped (no playbook)"): the result is
# the words before it.
RESULT_NOTE = re.compile(r"\s+\(.*\)$")
READ_SIZE = 65536


def parse_action_line(line):
    """(action, None) for an Executing line, (action, result) for an Executed one, else None."""
    match = ACTION_LINE.match(ANSI_ESCAPE.sub("", line).strip())
    if match is None:
        return None
    action = match.group("action") or match.group("plain_action")
    if match.group("executing"):
        return action, None
    return action, RESULT_NOTE.sub("", match.group("result")) or "unknown"


class PhaseClock:
    """Times Molecule's actions from the lines given to it, in the order they came."""

    def __init__(self, scenario, clock=time.monotonic):
        self.scenario = scenario
        self.clock = clock
        self.first_line = None
        self.last_line = None
        self.phases = []
        self.running = None  # (action, phase name, start) of the action under way
        self.created = False

    def line(self, text):
        """Takes one line of output (str, without its newline)."""
        now = self.clock()
        if self.first_line is None:
            self.first_line = now
        self.last_line = now
        parsed = parse_action_line(text)
        if parsed is None:
            return
        action, result = parsed
        if result is None:
            # Molecule runs one action at a time: a new start means the last one never ended.
            self._close("unfinished", now)
            self.created = self.created or action == "create"
            name = "destroy-before" if action == "destroy" and not self.created else action
            self.running = (action, name, now)
        elif self.running is not None and self.running[0] == action:
            self._close(result, now)

    def _close(self, result, now):
        if self.running is None:
            return
        name, started = self.running[1:]
        self.phases.append({"action": name, "seconds": round(now - started, 2), "result": result})
        self.running = None

    def finish(self):
        """The record of the run, an action still under way counted as unfinished up to now."""
        if self.running is not None:
            # The run was cut short: its time goes on to the end of input, as the action's does.
            self.last_line = self.clock()
            self._close("unfinished", self.last_line)
        total = 0.0 if self.first_line is None else self.last_line - self.first_line
        return {"scenario": self.scenario, "total_seconds": round(total, 2), "phases": self.phases}


def write_all(descriptor, data):
    """Writes every byte: a pipe may take fewer than asked."""
    while data:
        data = data[os.write(descriptor, data):]


def pump(read, write, phase_clock):
    """Copies chunks from read() to write() as they come and feeds the complete lines to the clock.

    write is None once the reader behind us has gone: the timing goes on, so that Molecule is
    not killed by a broken pipe and the record is still written.
    """
    pending = b""
    while True:
        chunk = read()
        if not chunk:
            break
        if write is not None:
            try:
                write(chunk)
            except BrokenPipeError:
                write = None
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            phase_clock.line(line.decode("utf-8", "surrogateescape"))
    if pending:
        phase_clock.line(pending.decode("utf-8", "surrogateescape"))


def write_record(path, record):
    """Writes the JSON record in one rename, so that a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", required=True, help="the Molecule scenario, recorded as is")
    parser.add_argument("--out", required=True, type=Path, help="the JSON file written at end of input")
    args = parser.parse_args(argv)
    # Ctrl-C reaches Molecule too, and its clean-up output must still get through.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate)
    phase_clock = PhaseClock(args.scenario)
    try:
        pump(lambda: os.read(sys.stdin.fileno(), READ_SIZE),
             lambda data: write_all(sys.stdout.fileno(), data), phase_clock)
    finally:
        write_record(args.out, phase_clock.finish())
    return 0


if __name__ == "__main__":
    sys.exit(main())
