from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import (
    C_LOCALE, CommandError, CommandRunner)


class FakeRunCommand:
    def __init__(self, rc=0, out="", err=""):
        self.calls = []
        self.result = (rc, out, err)

    def __call__(self, args, check_rc=False, data=None, environ_update=None):
        self.calls.append((args, check_rc, data, environ_update))
        return self.result


def test_runs_argument_lists_in_the_c_locale():
    fake = FakeRunCommand(out="ok\n")
    rc, out, _err = CommandRunner(fake).run(["modprobe", "nvmet", 1])
    assert (rc, out) == (0, "ok\n")
    args, check_rc, _data, env = fake.calls[0]
    assert args == ["modprobe", "nvmet", "1"]
    assert check_rc is False
    assert env == C_LOCALE


def test_failure_raises_with_command_code_and_message():
    fake = FakeRunCommand(rc=1, err="modprobe: FATAL: Module nvmet-foo not found.\n")
    with pytest.raises(CommandError) as info:
        CommandRunner(fake).run(["modprobe", "nvmet-foo"])
    message = str(info.value)
    assert "modprobe nvmet-foo" in message and "exit code 1" in message
    assert "Module nvmet-foo not found" in message
    assert info.value.rc == 1


def test_unchecked_run_and_succeeds():
    runner = CommandRunner(FakeRunCommand(rc=3))
    assert runner.run(["false"], check=False)[0] == 3
    assert runner.succeeds(["false"]) is False


def test_default_runner_runs_real_processes():
    runner = CommandRunner()
    rc, out, _err = runner.run(["sh", "-c", "echo $LANG; cat"], data="input")
    assert rc == 0 and out == "C\ninput"
    with pytest.raises(CommandError):
        runner.run(["sh", "-c", "echo broken >&2; exit 4"])
