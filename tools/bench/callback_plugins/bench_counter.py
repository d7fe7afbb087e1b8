# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Counts module runs per host and times tasks for tools/bench/bench.py and, in its append mode,
sums each playbook run up for tools/timing/report.py."""

DOCUMENTATION = r"""
name: bench_counter
type: aggregate
short_description: Count module runs per host and time every task, for tools/bench/bench.py
description:
  - Counts, per host, every task result that ran a module on the host (ok, changed or failed; not
    skipped, not unreachable). A loop counts once per item.
  - Controller-side actions are not module runs and are counted apart (C(controller)), that is
    set_fact, assert, debug, fail, meta, the include and import actions, include_vars, add_host,
    group_by, pause, validate_argument_spec, set_stats, and every task delegated to localhost.
  - A task delegated to another host counts for the host it was delegated to, where the module ran.
  - Records the start and end of every task (and of every host's part of it) in seconds since the
    playbook started, from the controller's monotonic clock.
  - Writes everything as JSON to O(output) when the run ends.
  - With O(timing_log), appends one JSON line per run to it when the run ends (the append mode,
    for the timing report of C(make test)).
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
requirements:
  - enabled with C(ANSIBLE_CALLBACKS_ENABLED=bench_counter) and found through C(ANSIBLE_CALLBACK_PLUGINS)
options:
  output:
    description: Path of the JSON report. Nothing is written without it.
    type: path
    env:
      - name: BENCH_COUNTER_OUTPUT
  timing_log:
    description:
      - Path of a JSON-lines file to which each run appends one line, in one write so that runs at
        the same time never mix their lines; C(playbook) (the file name), C(check_mode),
        C(seconds) (the run's wall time), C(module_calls) (results counted as module runs, reboots
        not included), C(module_seconds) (wall time of the tasks that ran a module on a remote
        host, reboot tasks not included), C(reboots) (hosts that C(ansible.builtin.reboot) tasks
        rebooted or failed to, none in check mode), C(reboot_seconds) (wall time of those tasks),
        C(calls_by_action) (the module runs per action, ansible-core's own without their prefix) and
        C(slowest) (the longest tasks).
      - Only a top-level run appends. A run that a task of such a run starts (C(ansible-playbook)
        in a C(command) task) inherits the environment variable C(BENCH_COUNTER_TIMED_RUN) that
        the top-level run sets, and appends nothing, since its time is inside the task that started it.
    type: path
    env:
      - name: TEST_TIMING_LOG
"""

# The plugin's documentation comes first, as in every Ansible plugin.
# pylint: disable=wrong-import-position
import json
import os
import tempfile
import time
from dataclasses import dataclass

from ansible import context
from ansible.plugins.callback import CallbackBase

# pylint: enable=wrong-import-position

# Actions that run on the controller only, without their ansible.builtin. or ansible.legacy. prefix.
CONTROLLER_ACTIONS = frozenset((
    "set_fact", "assert", "debug", "fail", "meta",
    "include", "include_tasks", "import_tasks", "include_role", "import_role", "import_playbook",
    "include_vars", "add_host", "group_by", "pause", "validate_argument_spec", "set_stats",
))
LOCAL_NAMES = frozenset(("localhost", "127.0.0.1", "::1"))
BUILTIN_PREFIXES = ("ansible.builtin.", "ansible.legacy.")
HOST_FIELDS = ("modules", "ok", "changed", "failed", "skipped", "unreachable", "controller")
# Set by a run that appends to the timing log, for the runs its tasks start to see.
TIMED_RUN_MARKER = "BENCH_COUNTER_TIMED_RUN"


def short_action(action):
    """The action name without the prefix of ansible-core's own plugins."""
    action = action or ""
    for prefix in BUILTIN_PREFIXES:
        if action.startswith(prefix):
            return action[len(prefix):]
    return action


def module_host(host, action, delegate_to=None, delegated_connection=None):
    """The host on which a task result ran a module, or None for a controller-side result."""
    if short_action(action) in CONTROLLER_ACTIONS:
        return None
    if delegate_to:
        if delegate_to in LOCAL_NAMES or delegated_connection == "local":
            return None
        return delegate_to
    if host in LOCAL_NAMES:
        return None
    return host


@dataclass(frozen=True)
class Outcome:
    """One task result of one host: status is ok, failed, skipped or unreachable."""

    host: str
    status: str
    action: str
    changed: bool = False
    delegate_to: str = None
    delegated_connection: str = None
    item: bool = False

    def module_host(self):
        """The host this result ran a module on, None for a controller-side result."""
        return module_host(self.host, self.action, self.delegate_to, self.delegated_connection)


class BenchCounter:
    """The counting and timing, apart from Ansible's objects so that it can be tested alone.

    Per host and task, a looped task reports every item first and then one final result; the
    items are counted, the final result only ends the host's part of the task.
    """

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.started = clock()
        self.hosts = {}
        self.tasks = []
        self._tasks = {}
        self._looped = set()

    def _now(self):
        return round(self.clock() - self.started, 6)

    def _host(self, name):
        return self.hosts.setdefault(name, dict((field, 0) for field in HOST_FIELDS))

    def _task(self, uuid, name="", action=""):
        task = self._tasks.get(uuid)
        if task is None:
            task = {"name": name, "action": action, "start": self._now(), "end": None,
                    "duration": None, "modules": 0, "changed": 0, "hosts": {}}
            self._tasks[uuid] = task
            self.tasks.append(task)
        return task

    @staticmethod
    def _entry(task, host):
        return task["hosts"].setdefault(host, {"start": task["start"], "end": None, "duration": None,
                                               "status": None, "changed": False, "items": 0})

    def task_start(self, uuid, name, action):
        """A task (or handler) begins; a task seen again (in another play run) keeps its first start."""
        self._task(uuid, name, action)

    def host_start(self, uuid, host, name="", action=""):
        """A host's part of a task begins (again, for a handler that runs twice)."""
        entry = self._entry(self._task(uuid, name, action), host)
        entry.update(start=self._now(), end=None, duration=None)

    def result(self, uuid, outcome, name=""):
        """Records one result of the task uuid."""
        task = self._task(uuid, name, outcome.action)
        entry = self._entry(task, outcome.host)
        key = (uuid, outcome.host)
        if outcome.item:
            self._looped.add(key)
            entry["items"] += 1
            self._count(task, outcome)
            return
        if key not in self._looped:
            self._count(task, outcome)
        now = self._now()
        entry.update(status=outcome.status, changed=outcome.changed, end=now,
                     duration=round(now - entry["start"], 6))
        task["end"] = now if task["end"] is None else max(task["end"], now)
        task["duration"] = round(task["end"] - task["start"], 6)

    def _count(self, task, outcome):
        if outcome.status in ("skipped", "unreachable"):
            self._host(outcome.host)[outcome.status] += 1
            return
        target = outcome.module_host()
        if target is None:
            self._host(outcome.host)["controller"] += 1
            return
        counts = self._host(target)
        counts["modules"] += 1
        counts["failed" if outcome.status == "failed" else "ok"] += 1
        task["modules"] += 1
        if outcome.changed and outcome.status != "failed":
            counts["changed"] += 1
            task["changed"] += 1

    def report(self, recap=None):
        """Everything counted, with Ansible's own recap per host."""
        return {"duration": self._now(), "hosts": self.hosts, "tasks": self.tasks,
                "recap": recap or {}}


def write_json(path, data):
    """Writes data to path in one rename, so a reader never sees half a report."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".bench_counter.")
    with os.fdopen(handle, "w") as stream:
        json.dump(data, stream, indent=1, sort_keys=True)
        stream.write("\n")
    os.replace(temporary, path)


SLOWEST_TASKS = 8


def timing_line(report, playbook, check_mode):
    """The timing log's line of one run, from a BenchCounter report."""
    line = {"playbook": playbook, "check_mode": bool(check_mode), "seconds": report["duration"],
            "module_calls": 0, "module_seconds": 0.0, "reboots": 0, "reboot_seconds": 0.0,
            "calls_by_action": {}, "slowest": slowest_tasks(report["tasks"])}
    for task in report["tasks"]:
        seconds = task["duration"] or 0.0  # None: no host finished the task (the run was stopped)
        if short_action(task["action"]) == "reboot":
            # In check mode the reboot action only says it would reboot.
            line["reboots"] += 0 if check_mode else task["modules"]
            line["reboot_seconds"] += seconds
        elif task["modules"]:
            line["module_calls"] += task["modules"]
            line["module_seconds"] += seconds
            action = short_action(task["action"])
            line["calls_by_action"][action] = line["calls_by_action"].get(action, 0) + task["modules"]
    for key in ("module_seconds", "reboot_seconds"):
        line[key] = round(line[key], 6)
    return line


def slowest_tasks(tasks, count=SLOWEST_TASKS):
    """The run's longest tasks, longest first: name, seconds and module calls of each."""
    timed = sorted((task for task in tasks if task["duration"]), key=lambda task: -task["duration"])
    return [{"name": task["name"], "seconds": task["duration"], "module_calls": task["modules"]}
            for task in timed[:count]]


def claim_timing_log(path, environ):
    """The timing log this run appends to: None without one, or when a timed run started this one.

    Marks environ, so that the runs started by this run's tasks (which inherit it) stay silent.
    """
    if not path or environ.get(TIMED_RUN_MARKER):
        return None
    environ[TIMED_RUN_MARKER] = path
    return path


def append_json_line(path, data):
    """Appends data as one line in a single write: O_APPEND keeps concurrent writers' lines whole."""
    line = (json.dumps(data, sort_keys=True) + "\n").encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


class CallbackModule(CallbackBase):
    """Feeds BenchCounter from Ansible's callback events."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_counter"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.counter = BenchCounter()
        self.playbook = None
        self.timing_log = None

    @staticmethod
    def _action(task):
        return getattr(task, "resolved_action", None) or task.action

    @staticmethod
    def _uuid(task):
        return task._uuid  # pylint: disable=protected-access  # the id Ansible itself matches results by

    def _record(self, result, status, item=False):
        # ansible-core 2.19 made the parts of a TaskResult public; 2.16 has only the private names.
        task, host, data = (getattr(result, name if hasattr(result, name) else "_" + name) for name in ("task", "host", "result"))
        delegated = data.get("_ansible_delegated_vars") or {}
        if status == "failed" and data.get("unreachable"):
            status = "unreachable"
        outcome = Outcome(host=host.get_name(), status=status, action=self._action(task),
                          changed=bool(data.get("changed", False)), delegate_to=task.delegate_to,
                          delegated_connection=delegated.get("ansible_connection"), item=item)
        self.counter.result(self._uuid(task), outcome, name=task.get_name())

    def v2_playbook_on_start(self, playbook):
        self.playbook = os.path.basename(playbook._file_name)  # pylint: disable=protected-access
        self.timing_log = claim_timing_log(self.get_option("timing_log"), os.environ)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.counter.task_start(self._uuid(task), task.get_name(), self._action(task))

    def v2_playbook_on_handler_task_start(self, task):
        self.counter.task_start(self._uuid(task), task.get_name(), self._action(task))

    def v2_runner_on_start(self, host, task):
        self.counter.host_start(self._uuid(task), host.get_name(), task.get_name(), self._action(task))

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_runner_item_on_ok(self, result):
        self._record(result, "ok", item=True)

    def v2_runner_item_on_failed(self, result):
        self._record(result, "failed", item=True)

    def v2_runner_item_on_skipped(self, result):
        self._record(result, "skipped", item=True)

    def v2_playbook_on_stats(self, stats):
        output = self.get_option("output")
        if self.timing_log:
            report = self.counter.report()
            append_json_line(self.timing_log, timing_line(report, self.playbook, context.CLIARGS.get("check")))
        elif not output and not self.get_option("timing_log"):
            self._display.warning("bench_counter: no output path (BENCH_COUNTER_OUTPUT), nothing written")
        if output:
            recap = dict((host, stats.summarize(host)) for host in sorted(stats.processed))
            write_json(output, self.counter.report(recap))
