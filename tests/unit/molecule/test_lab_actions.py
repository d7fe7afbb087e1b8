"""The scenarios' action plugins lab_shell and lab_slurp (molecule/shared/action_plugins): what a
task registers is what ansible.builtin.shell, command and slurp return, without Python on the VM."""

import base64
import importlib.util
import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleActionFail

PLUGINS = Path(__file__).resolve().parents[3] / "molecule" / "shared" / "action_plugins"


def load(name):
    spec = importlib.util.spec_from_file_location("lab_action_" + name, PLUGINS / (name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ActionModule


class Host:
    """Stands in for the SSH connection: records each command line and answers from a table."""

    def __init__(self, rc=0, stdout="", stderr=""):
        self.answer = {"rc": rc, "stdout": stdout, "stderr": stderr}
        self.calls = []

    def __call__(self, cmd, sudoable=True, in_data=None, **_kwargs):
        self.calls.append({"cmd": cmd, "sudoable": sudoable, "in_data": in_data})
        return dict(self.answer, stdout_lines=self.answer["stdout"].splitlines(),
                    stderr_lines=self.answer["stderr"].splitlines())


def action(name, args, host, check_mode=False, environment=""):
    plugin = load(name).__new__(load(name))
    plugin._task = SimpleNamespace(action=name, args=args, check_mode=check_mode, async_val=0)
    plugin._connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir="/tmp/lab"))
    plugin._low_level_execute_command = host
    plugin._compute_environment_string = lambda *_args: environment
    return plugin


def test_shell_runs_cmd_through_the_shell_without_a_tty_and_strips_newlines():
    host = Host(stdout="hello\nbar\n", stderr="err\n")
    result = action("lab_shell", {"cmd": "echo hello; echo $FOO", "executable": "/bin/bash"}, host,
                    environment="FOO=bar").run(task_vars={})
    assert host.calls == [{"cmd": "FOO=bar /bin/bash -c 'echo hello; echo $FOO'", "sudoable": False, "in_data": None}]
    assert (result["rc"], result["stdout"], result["stderr"]) == (0, "hello\nbar", "err")
    assert result["stdout_lines"] == ["hello", "bar"] and result["stderr_lines"] == ["err"]
    assert result["changed"] is True and "failed" not in result
    assert result["cmd"] == "echo hello; echo $FOO"


def test_shell_quotes_argv_words_and_passes_stdin_with_a_newline():
    host = Host()
    action("lab_shell", {"argv": ["printf", "%s\n", "a b", "c'd"], "stdin": "secret"}, host).run(task_vars={})
    shell, flag, command_line = shlex.split(host.calls[0]["cmd"])
    assert (shell, flag) == ("/bin/sh", "-c")
    assert shlex.split(command_line) == ["printf", "%s\n", "a b", "c'd"]
    assert host.calls[0]["in_data"] == b"secret\n"


def test_shell_fails_on_a_non_zero_exit_as_command_does():
    result = action("lab_shell", {"cmd": "false"}, Host(rc=1)).run(task_vars={})
    assert result["failed"] is True and result["rc"] == 1 and result["msg"] == "non-zero return code"


def test_shell_is_skipped_in_check_mode_and_runs_nothing():
    host = Host()
    result = action("lab_shell", {"cmd": "rm -rf /data"}, host, check_mode=True).run(task_vars={})
    assert result["skipped"] is True and host.calls == []


@pytest.mark.parametrize("args, message", [
    ({}, "exactly one of cmd and argv"),
    ({"cmd": "true", "argv": ["true"]}, "exactly one of cmd and argv"),
    ({"argv": "true"}, "argv must be a list"),
    ({"cmd": "true", "chdir": "/tmp"}, "chdir"),
])
def test_shell_refuses_arguments_it_does_not_take(args, message):
    with pytest.raises(AnsibleActionFail, match=message):
        action("lab_shell", args, Host()).run(task_vars={})


def test_slurp_returns_base64_content_as_slurp_does_and_runs_in_check_mode():
    content = base64.b64encode(b"6.1.0\n").decode()
    host = Host(stdout=content + "\n")
    result = action("lab_slurp", {"src": "/proc/sys/kernel/osrelease"}, host, check_mode=True).run(task_vars={})
    assert host.calls[0]["cmd"] == "base64 -w 0 -- /proc/sys/kernel/osrelease"
    assert base64.b64decode(result["content"]) == b"6.1.0\n"
    assert (result["encoding"], result["source"], result["changed"]) == ("base64", "/proc/sys/kernel/osrelease", False)


def test_slurp_fails_naming_the_file_it_cannot_read():
    host = Host(rc=1, stderr="base64: /nonexist: No such file or directory\n")
    result = action("lab_slurp", {"path": "/nonexist"}, host).run(task_vars={})
    assert result["failed"] is True
    assert result["msg"] == "cannot read /nonexist: base64: /nonexist: No such file or directory"
