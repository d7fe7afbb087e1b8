from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.modules import nvme_info

HOSTID = "3a1f6e2c-8d0b-4f47-9e52-0c6f1b2a7d11"
HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:" + HOSTID
SECRET = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:"


@contextlib.contextmanager
def module_args(args):
    """Hands ``args`` to the next AnsibleModule: ansible-core 2.19+ and the 2.16 way."""
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.19
        serialized = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = serialized
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved
    else:
        with patch_module_args(args):
            yield


def write(root, path, text):
    real = os.path.join(str(root), path.lstrip("/"))
    if not os.path.isdir(os.path.dirname(real)):
        os.makedirs(os.path.dirname(real))
    with open(real, "w") as handle:
        handle.write(text + "\n")


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A small host tree: kernel, identity, one nvmet host with a key, no connections."""
    write(tmp_path, "/proc/sys/kernel/osrelease", "6.12.9-amd64")
    write(tmp_path, "/lib/modules/6.12.9-amd64/modules.builtin", "kernel/drivers/nvme/host/nvme-core.ko")
    write(tmp_path, "/lib/modules/6.12.9-amd64/modules.dep",
          "kernel/drivers/nvme/host/nvme-tcp.ko.xz: kernel/drivers/nvme/host/nvme-fabrics.ko.xz")
    write(tmp_path, "/sys/module/nvme_core/parameters/multipath", "Y")
    write(tmp_path, "/sys/module/nvme_core/parameters/iopolicy", "round-robin")
    write(tmp_path, "/etc/nvme/hostnqn", HOSTNQN)
    write(tmp_path, "/etc/nvme/hostid", HOSTID)
    write(tmp_path, "/sys/kernel/config/nvmet/hosts/%s/dhchap_key" % HOSTNQN, SECRET)
    os.makedirs(str(tmp_path / "sys/kernel/config/nvmet/subsystems"))
    os.makedirs(str(tmp_path / "sys/kernel/config/nvmet/ports"))
    monkeypatch.setattr(nvme_info, "HostFS", lambda: HostFS(str(tmp_path)))
    return tmp_path


def run_module(capsys, args, main=None):
    """Runs a module's main() with ``args``; its JSON result with the exit code as ``rc``."""
    with module_args(args):
        with pytest.raises(SystemExit) as info:
            (main or nvme_info.main)()
    result = json.loads(capsys.readouterr().out)
    result["rc"] = info.value.code
    return result


def test_gathers_every_part_by_default(host, capsys):
    result = run_module(capsys, {})
    assert result["rc"] == 0
    assert result["changed"] is False
    assert result["kernel"]["release"] == "6.12.9-amd64"
    assert result["kernel"]["modules"]["nvme_tcp"]["available"] is True
    assert result["kernel"]["modules"]["nvme_core"]["builtin"] is True
    assert result["host"]["ids_agree"] is True
    assert result["initiator"]["multipath"] is True
    assert result["initiator"]["default_iopolicy"] == "round-robin"
    assert result["initiator"]["controllers"] == [] and result["initiator"]["subsystems"] == []
    assert result["target"]["available"] is True
    assert result["target"]["hosts"] == [{"nqn": HOSTNQN, "dhchap": True}]


def test_secrets_never_reach_the_result(host, capsys):
    out = json.dumps(run_module(capsys, {"gather": ["target"]}))
    assert SECRET not in out


def test_gathers_only_what_is_asked(host, capsys):
    result = run_module(capsys, {"gather": ["host"]})
    assert "host" in result
    for part in ("kernel", "target", "initiator"):
        assert part not in result


def test_check_mode_reads_the_same(host, capsys):
    normal = run_module(capsys, {"gather": ["kernel", "host"]})
    checked = run_module(capsys, {"gather": ["kernel", "host"], "_ansible_check_mode": True})
    assert checked["changed"] is False
    assert checked["kernel"] == normal["kernel"] and checked["host"] == normal["host"]


def test_unknown_part_is_refused(host, capsys):
    result = run_module(capsys, {"gather": ["fabric"]})
    assert result["rc"] == 1 and result["failed"] is True
    assert "fabric" in result["msg"]


def test_read_errors_fail_with_the_path(host, capsys):
    os.unlink(str(host / "etc/nvme/hostnqn"))
    os.makedirs(str(host / "etc/nvme/hostnqn"))  # reading a directory: EISDIR
    result = run_module(capsys, {"gather": ["host"]})
    assert result["failed"] is True
    assert result["msg"] == "reading /etc/nvme/hostnqn failed: Is a directory (EISDIR)"
