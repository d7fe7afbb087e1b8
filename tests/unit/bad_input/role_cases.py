# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role cases of the bad-input table, run the way a play runs them, on hosts that cannot be reached.

One ansible-playbook run (of this Python's ansible-core) with one play per role case: the play
includes the case's role with the case's variables, as the Molecule scenario faults does on the lab.
The role's argument spec is validated by Ansible itself (the validate_argument_spec task it puts in
front of the role), and the role's own assert tasks run as in any play; both run on the controller.
Every inventory host is one case, connected through an ssh program that does not exist: a role that
gets past its checks to a task that would run on the host fails there, unreachable, so nothing can
run anywhere. The callback plugin bad_input_events records every task result; ``outcome()`` says
where each case stopped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest
import yaml

from bad_input_table import load_cases

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
# The tasks that check and do not touch the host: Ansible's argument spec validation and assert.
CHECKS = ("validate_argument_spec", "assert")
# What Ansible itself runs on the controller around them.
CONTROLLER = CHECKS + ("include_role", "set_fact")
GROUPS = {"target1": "nvme_targets", "initiator1": "nvme_initiators", "initiator2": "nvme_initiators"}


def _short(action):
    return (action or "").rsplit(".", 1)[-1]


def playbook(cases):
    """One play per case: include the role with the case's variables; a failure is rescued so that the
    next play runs, an unreachable host ignored for the same reason."""
    return [{
        "name": case["id"],
        "hosts": case["id"],
        "gather_facts": False,
        "tasks": [{
            "name": "Run the role of the case",
            "ignore_unreachable": True,
            "block": [{"name": "Include the role", "ansible.builtin.include_role": {"name": case["role"]},
                       "vars": case.get("vars") or {}}],
            "rescue": [{"name": "Go on with the next case", "ansible.builtin.set_fact": {"bad_input_done": True}}],
        }],
    } for case in cases]


def inventory(cases):
    groups = {}
    for case in cases:
        groups.setdefault(GROUPS[case["host"]], {"hosts": {}})["hosts"][case["id"]] = {}
    return {"all": {
        "children": groups,
        "vars": {"ansible_connection": "ssh", "ansible_host": "bad-input.invalid",
                 "ansible_ssh_executable": "/nonexistent/nvmeof-fleet-bad-input/ssh",
                 "ansible_python_interpreter": "/usr/bin/python3"},
    }}


def run(cases, workdir):
    """Runs the role cases; returns {case id: [events in order]} and the run's output."""
    paths = dict((name, os.path.join(workdir, name)) for name in
                 ("inventory.yml", "playbook.yml", "events.jsonl", "ansible.cfg", "tmp"))
    with open(paths["inventory.yml"], "w") as handle:
        yaml.safe_dump(inventory(cases), handle)
    with open(paths["playbook.yml"], "w") as handle:
        yaml.safe_dump(playbook(cases), handle, sort_keys=False)
    with open(paths["ansible.cfg"], "w") as handle:
        handle.write("[defaults]\n")
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": paths["ansible.cfg"],
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "bad_input_events",
        "NVMEOF_FLEET_BAD_INPUT_EVENTS": paths["events.jsonl"],
        "ANSIBLE_LOCAL_TEMP": paths["tmp"],
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    })
    process = subprocess.run(
        [sys.executable, "-m", "ansible.cli.playbook", "-i", paths["inventory.yml"], paths["playbook.yml"]],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env, cwd=workdir,
        check=False)
    events = dict((case["id"], []) for case in cases)
    if os.path.exists(paths["events.jsonl"]):
        with open(paths["events.jsonl"]) as handle:
            for line in handle:
                event = json.loads(line)
                events.setdefault(event["host"], []).append(event)
    return events, process.stdout


def outcome(events):
    """(stage, message) of one case: where it stopped and what the failing task said.

    stage is "argument_spec" or "assert" when a check of the role refused it before anything else
    ran; otherwise it says what happened instead.
    """
    for event in events:
        action = _short(event["action"])
        if event["status"] in ("ok", "skipped") and action in CONTROLLER:
            continue
        if event["status"] == "failed" and action in CHECKS:
            return ("argument_spec" if action == "validate_argument_spec" else "assert"), event["msg"]
        return ("got past the role's checks: task %r (%s) %s" % (event["task"], event["action"], event["status"]),
                event["msg"])
    return "passed every check and task of the role", ""


@pytest.fixture(scope="session")
def role_results(tmp_path_factory):
    """{case id: (stage, message)} of every role case of the table, from one ansible-playbook run."""
    cases = [case for case in load_cases() if "role" in case]
    events, output = run(cases, str(tmp_path_factory.mktemp("role-cases")))
    results = dict((case["id"], outcome(events[case["id"]])) for case in cases)
    return {"results": results, "output": output}
