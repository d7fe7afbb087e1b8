"""Small shared helpers for the lab tool: progress output and long commands."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path


class LabError(Exception):
    """A lab step failed; the message says what to look at."""


def say(message):
    print(f"[lab] {message}", flush=True)


def cache_root():
    """The directory that outlives checkouts: VM images are built once per recipe."""
    configured = os.environ.get("NVMEOF_LAB_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "nvmeof-fleet"


def tail(path, lines=40):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


class Heartbeat:
    """Prints how long a step has been running, so a watcher never wonders if it hung."""

    def __init__(self, label, every=20):
        self.label = label
        self.every = every
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def elapsed(self):
        return time.monotonic() - self.started

    def _run(self):
        while not self._stop.wait(self.every):
            say(f"{self.label}: still running after {self.elapsed():.0f}s")

    def __enter__(self):
        say(f"{self.label}...")
        self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._stop.set()
        outcome = "done" if exc_type is None else "FAILED"
        say(f"{self.label}: {outcome} in {self.elapsed():.0f}s")
        return False


def run_logged(cmd, label, log_path, cwd=None, env=None):
    """Runs a long command with its output in a log file and a heartbeat on stdout."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with Heartbeat(label), open(log_path, "ab") as log:
        log.write(f"\n$ {' '.join(map(str, cmd))}\n".encode())
        log.flush()
        result = subprocess.run(
            [str(c) for c in cmd], stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=cwd, env=env, check=False)
    if result.returncode != 0:
        print(tail(log_path), file=sys.stderr)
        raise LabError(f"{label} failed (exit {result.returncode}); full log: {log_path}")
