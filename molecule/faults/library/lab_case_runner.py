# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab only: runs many module calls on one host in one module run, each in a process of its own.

The bad-input table has more than a hundred module cases; one Ansible task each cost 2-8 s in a
TCG guest, most of it Python importing Ansible's module code again. This module is started once
per host by the action plugin lab_module_cases with the source of every collection module the
cases name and the cases themselves. It imports the module code once, then forks one child per
case: the child hands the case's arguments (with this run's internal _ansible_* arguments) to
AnsibleModule exactly as AnsiballZ does and runs the collection module's own source as __main__,
on this host's real kernel. The parent reads the child's JSON result from a pipe.

Its own arguments are read directly, not through AnsibleModule: they hold every case's secrets,
and AnsibleModule would log them to the journal (each case's own run logs its invocation with
its no_log options masked, as a task of its own would).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import atexit
import io
import json
import os
import select
import signal
import sys
import time

from ansible.module_utils import basic

# Every module_utils of the collection, so that AnsiballZ ships them all with this module
# (tests/unit/tools/test_lab_case_runner.py keeps this list whole).
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect import (  # noqa: F401 pylint: disable=unused-import
    nvme_connect_persist, nvme_connect_plan, nvme_connect_reconcile, nvme_connect_spec, nvme_fabrics, nvme_identity)
from ansible_collections.nvmeof.fleet.plugins.module_utils.host import (  # noqa: F401 pylint: disable=unused-import
    commands, host_files, host_lock, host_state, hostfs, kernel_features, module_job, undo)
from ansible_collections.nvmeof.fleet.plugins.module_utils.plans import (  # noqa: F401 pylint: disable=unused-import
    module_checks)
from ansible_collections.nvmeof.fleet.plugins.module_utils.memory import (  # noqa: F401 pylint: disable=unused-import
    cxl_tiering, cxl_tiering_files, cxl_tiering_steps, memory_tiers)
from ansible_collections.nvmeof.fleet.plugins.module_utils.multipath import (  # noqa: F401 pylint: disable=unused-import
    nvme_multipath)
from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme import (  # noqa: F401 pylint: disable=unused-import
    names, nvme_host)
from ansible_collections.nvmeof.fleet.plugins.module_utils.network import (  # noqa: F401 pylint: disable=unused-import
    fabric_preflight, ifupdown_config, interface_mtu, net_qdisc, sysctl_tuning)
from ansible_collections.nvmeof.fleet.plugins.module_utils.target import (  # noqa: F401 pylint: disable=unused-import
    nvmet_guards, nvmet_model, nvmet_persist, nvmet_plan, nvmet_reconcile, nvmet_spec, nvmet_target)

CASE_TIMEOUT = 300


def _child(code, arguments, write_end):
    """In the forked child: run one module as AnsiballZ would, its JSON result into the pipe."""
    atexit._clear()  # pylint: disable=protected-access  # the parent's exit handlers are not the case's
    sys.stdout = io.TextIOWrapper(os.fdopen(write_end, "wb"), encoding="utf-8")
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": arguments}).encode("utf-8")  # pylint: disable=protected-access
    if getattr(basic, "_ANSIBLE_PROFILE", "") is None:  # ansible-core 2.19+ outside AnsiballZ (unit tests)
        basic._ANSIBLE_PROFILE = "legacy"  # pylint: disable=protected-access
    status = 1
    try:
        exec(code, {"__name__": "__main__", "__builtins__": __builtins__})  # pylint: disable=exec-used
        status = 0
    except SystemExit as exit_request:
        status = exit_request.code if isinstance(exit_request.code, int) else 1
    except BaseException as error:  # pylint: disable=broad-except
        print(json.dumps({"failed": True, "msg": "the module raised %s: %s" % (type(error).__name__, error)}))
    finally:
        atexit._run_exitfuncs()  # pylint: disable=protected-access
        sys.stdout.flush()
        os._exit(status)  # pylint: disable=protected-access


def _collect(pid, read_end, deadline):
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_end)
            return None, "timed out after %d s" % CASE_TIMEOUT
        ready = select.select([read_end], [], [], left)[0]
        if ready:
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    os.close(read_end)
    status = os.waitpid(pid, 0)[1]
    return b"".join(chunks).decode("utf-8", "replace"), "exit status %d" % os.waitstatus_to_exitcode(status)


def _result(output, how):
    lines = [line for line in (output or "").splitlines() if line.startswith("{")]
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        return {"failed": True, "lab_no_result": True,
                "msg": "no JSON result (%s): %s" % (how, (output or "").strip()[-2000:])}


def run_case(code, arguments):
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(code, arguments, write_end)
    os.close(write_end)
    output, how = _collect(pid, read_end, time.monotonic() + CASE_TIMEOUT)
    return _result(output, how)


def main():
    raw = json.loads(basic._ANSIBLE_ARGS)["ANSIBLE_MODULE_ARGS"]  # pylint: disable=protected-access
    internal = dict((key, value) for key, value in raw.items() if key.startswith("_ansible_"))
    compiled = dict((name, compile(source, "%s (source from the controller)" % name, "exec"))
                    for name, source in raw["modules"].items())
    runs = []
    for case in raw["cases"]:
        arguments = dict(case["args"], **dict(internal, _ansible_module_name=case["module"]))
        result = run_case(compiled[case["module"]], arguments)
        runs.append({"id": case["id"], "failed": bool(result.get("failed")), "msg": str(result.get("msg", ""))})
    print(json.dumps({"changed": False, "runs": runs}))
    sys.exit(0)  # AnsiballZ reports a module that returns without exiting as failed


if __name__ == "__main__":
    main()
