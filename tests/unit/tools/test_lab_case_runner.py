"""molecule/faults/library/lab_case_runner.py: every case in a forked process of its own, as AnsiballZ runs a module."""

import ast
import json
import os

import pytest

from ansible.module_utils import basic

from tool_modules import TOOLS, load_tool

RUNNER_PATH = TOOLS.parent / "molecule" / "faults" / "library" / "lab_case_runner.py"
runner = load_tool("lab_case_runner", "../molecule/faults/library/lab_case_runner.py")
MODULE_UTILS = TOOLS.parent / "plugins" / "module_utils"

# A module as the collection writes them: AnsibleModule, then exit_json or fail_json.
ECHO_MODULE = '''
from ansible.module_utils.basic import AnsibleModule
import os
def main():
    module = AnsibleModule(argument_spec=dict(value=dict(type="str", required=True), fail=dict(type="bool", default=False)),
                           supports_check_mode=True)
    if module.params["fail"]:
        module.fail_json(msg="value: %r refused" % module.params["value"])
    module.exit_json(changed=False, value=module.params["value"], pid=os.getpid(), check_mode=module.check_mode)
if __name__ == "__main__":
    main()
'''


def test_the_runner_imports_every_module_utils_of_the_collection():
    package = "ansible_collections.nvmeof.fleet.plugins.module_utils"
    tree = ast.parse(RUNNER_PATH.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(package + "."):
            imported.update(node.module[len(package) + 1:] + "." + alias.name for alias in node.names)
    assert imported == set(".".join(path.relative_to(MODULE_UTILS).with_suffix("").parts)
                           for path in MODULE_UTILS.rglob("*.py") if path.stem != "__init__")


def test_each_case_runs_in_a_child_with_its_own_arguments():
    code = compile(ECHO_MODULE, "echo", "exec")
    ok = runner.run_case(code, {"value": "a", "_ansible_check_mode": True})
    again = runner.run_case(code, {"value": "z"})
    refused = runner.run_case(code, {"value": "b\nc", "fail": True})
    assert ok["value"] == "a" and ok["check_mode"] is True and not ok.get("failed")
    assert again["value"] == "z" and again["check_mode"] is False
    assert refused["failed"] is True and refused["msg"] == "value: 'b\\nc' refused"
    assert len({ok["pid"], again["pid"], os.getpid()}) == 3


def test_a_bad_argument_fails_in_the_argument_spec_check():
    result = runner.run_case(compile(ECHO_MODULE, "echo", "exec"), {"value": "a", "bogus": 1})
    assert result["failed"] is True and "bogus" in result["msg"]


def test_a_module_that_crashes_or_prints_nothing_is_a_failure_without_a_result():
    crashed = runner.run_case(compile("raise RuntimeError('boom')", "crash", "exec"), {})
    silent = runner.run_case(compile("import os\nos._exit(3)", "silent", "exec"), {})
    assert crashed["failed"] is True and "RuntimeError: boom" in crashed["msg"]
    assert silent["failed"] is True and silent["lab_no_result"] is True and "exit status 3" in silent["msg"]


def test_main_runs_every_case_with_the_internal_arguments(capsys, monkeypatch):
    arguments = {"modules": {"x.y.echo": ECHO_MODULE},
                 "cases": [{"id": "one", "module": "x.y.echo", "args": {"value": "1"}},
                           {"id": "two", "module": "x.y.echo", "args": {"value": "2", "fail": True}}],
                 "_ansible_check_mode": True}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": arguments}).encode())
    with pytest.raises(SystemExit) as exited:
        runner.main()
    assert exited.value.code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {"changed": False, "runs": [{"id": "one", "failed": False, "msg": ""},
                                                  {"id": "two", "failed": True, "msg": "value: '2' refused"}]}
