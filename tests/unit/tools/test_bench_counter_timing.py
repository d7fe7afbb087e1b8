"""The append mode of bench_counter (TEST_TIMING_LOG): one line per top-level run, none for nested runs."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tool_modules import TOOLS, load_tool

bench_counter = load_tool("bench_counter", "bench/callback_plugins/bench_counter.py")
Outcome = bench_counter.Outcome
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


def _task(action, duration, modules):
    return {"name": action.rsplit(".", 1)[-1], "action": action, "duration": duration, "modules": modules}


def test_timing_line_sums_module_tasks_and_reboots_apart():
    report = {"duration": 120.5, "tasks": [
        _task("ansible.builtin.gather_facts", 4.0, 3), _task("ansible.builtin.set_fact", 0.5, 0),
        _task("nvmeof.fleet.nvmet_subsystem", 10.25, 2), _task("ansible.builtin.reboot", 45.0, 2),
        _task("ansible.legacy.reboot", 30.0, 1), _task("ansible.builtin.command", None, 1)]}
    assert bench_counter.timing_line(report, "converge.yml", False) == {
        "playbook": "converge.yml", "check_mode": False, "seconds": 120.5, "module_calls": 6,
        "module_seconds": 14.25, "reboots": 3, "reboot_seconds": 75.0,
        "calls_by_action": {"gather_facts": 3, "nvmeof.fleet.nvmet_subsystem": 2, "command": 1}, "slowest": [
            {"name": "reboot", "seconds": 45.0, "module_calls": 2}, {"name": "reboot", "seconds": 30.0, "module_calls": 1},
            {"name": "nvmet_subsystem", "seconds": 10.25, "module_calls": 2},
            {"name": "gather_facts", "seconds": 4.0, "module_calls": 3}, {"name": "set_fact", "seconds": 0.5, "module_calls": 0}]}
    checked = bench_counter.timing_line(report, "converge.yml", None)
    assert checked["check_mode"] is False
    in_check_mode = bench_counter.timing_line(report, "converge.yml", True)
    assert in_check_mode["check_mode"] is True and in_check_mode["reboots"] == 0
    assert in_check_mode["reboot_seconds"] == 75.0 and in_check_mode["module_calls"] == 6


def test_timing_line_of_a_counted_run_with_loops_and_controller_tasks():
    now = [0.0]
    counter = bench_counter.BenchCounter(lambda: now[0])
    counter.task_start("loop", "Loop", "ansible.builtin.command")
    for item in range(3):  # each item ran the module on t1
        counter.result("loop", Outcome("t1", "ok", "ansible.builtin.command", item=True))
    now[0] = 2.0
    counter.result("loop", Outcome("t1", "ok", "ansible.builtin.command"))
    counter.task_start("local", "Local", "ansible.builtin.command")
    now[0] = 5.0
    counter.result("local", Outcome("t1", "ok", "ansible.builtin.command", delegate_to="localhost"))
    counter.task_start("boot", "Reboot", "ansible.builtin.reboot")
    now[0] = 35.0
    counter.result("boot", Outcome("t1", "ok", "ansible.builtin.reboot", changed=True))
    counter.result("boot", Outcome("i1", "ok", "ansible.builtin.reboot", changed=True))
    line = bench_counter.timing_line(counter.report(), "verify.yml", False)
    assert line == {"playbook": "verify.yml", "check_mode": False, "seconds": 35.0, "module_calls": 3,
                    "module_seconds": 2.0, "reboots": 2, "reboot_seconds": 30.0, "calls_by_action": {"command": 3},
                    "slowest": [
                        {"name": "Reboot", "seconds": 30.0, "module_calls": 2}, {"name": "Local", "seconds": 3.0, "module_calls": 0},
                        {"name": "Loop", "seconds": 2.0, "module_calls": 3}]}


def test_slowest_tasks_are_capped_longest_first():
    tasks = [_task("ansible.builtin.command", float(seconds), 1) for seconds in range(1, 12)]
    slowest = bench_counter.slowest_tasks(tasks)
    assert [task["seconds"] for task in slowest] == [11.0, 10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0]


def test_only_the_top_level_run_claims_the_timing_log():
    environ = {}
    assert bench_counter.claim_timing_log(None, environ) is None and environ == {}
    assert bench_counter.claim_timing_log("/t/x.calls.jsonl", environ) == "/t/x.calls.jsonl"
    assert environ == {bench_counter.TIMED_RUN_MARKER: "/t/x.calls.jsonl"}
    child = dict(environ)  # what a command task's ansible-playbook inherits
    assert bench_counter.claim_timing_log("/t/x.calls.jsonl", child) is None


def test_lines_appended_at_the_same_time_stay_whole(tmp_path):
    log = tmp_path / "x.calls.jsonl"
    log.write_text('{"playbook": "create.yml"}\n')

    def writer(number):
        for count in range(50):
            bench_counter.append_json_line(str(log), {"writer": number, "count": count, "pad": "x" * 3000})

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[0] == {"playbook": "create.yml"} and len(lines) == 201
    assert sorted((line["writer"], line["count"]) for line in lines[1:]) == [
        (number, count) for number in range(4) for count in range(50)]


OUTER = """\
- name: Outer run
  hosts: fake1
  gather_facts: false
  tasks:
    - name: Two module calls on the host
      ansible.builtin.command: "true"
      loop: [1, 2]
    - name: A controller-side action
      ansible.builtin.debug:
        msg: not a module call
    - name: A nested run, from the controller
      ansible.builtin.command: "{{ ansible_playbook_python | dirname }}/ansible-playbook -i inventory.ini inner.yml"
      delegate_to: localhost
"""
INNER = """\
- name: Inner run
  hosts: fake1
  gather_facts: false
  tasks:
    - name: One module call, which leaves a file behind
      ansible.builtin.command: mktemp -p runs.d
"""


@pytest.mark.skipif(not ANSIBLE_PLAYBOOK.exists(), reason="no ansible-playbook beside this Python")
def test_a_nested_run_appends_no_line_of_its_own(tmp_path):
    (tmp_path / "inventory.ini").write_text(f"fake1 ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    (tmp_path / "outer.yml").write_text(OUTER)
    (tmp_path / "inner.yml").write_text(INNER)
    log = tmp_path / "calls.jsonl"
    (tmp_path / "runs.d").mkdir()
    env = {name: value for name, value in os.environ.items()
           if name not in ("ANSIBLE_CONFIG", bench_counter.TIMED_RUN_MARKER)}
    env.update(ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_CALLBACKS_ENABLED="bench_counter",
               ANSIBLE_CALLBACK_PLUGINS=str(TOOLS / "bench" / "callback_plugins"), TEST_TIMING_LOG=str(log))
    for playbook in ("outer.yml", "inner.yml"):
        subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", "inventory.ini", playbook], cwd=tmp_path, env=env,
                       capture_output=True, check=True, timeout=300)
    outer, inner = [json.loads(line) for line in log.read_text().splitlines()]
    assert (outer["playbook"], outer["check_mode"], outer["module_calls"], outer["reboots"]) == (
        "outer.yml", False, 2, 0)
    # The inner playbook ran twice (nested, then alone) and appended one line: the nested run was silent.
    assert len(list((tmp_path / "runs.d").iterdir())) == 2
    nested = [task for task in outer["slowest"] if task["name"] == "A nested run, from the controller"]
    assert len(nested) == 1 and outer["seconds"] >= nested[0]["seconds"] > 0 and outer["module_seconds"] > 0
    assert (inner["playbook"], inner["module_calls"]) == ("inner.yml", 1)
