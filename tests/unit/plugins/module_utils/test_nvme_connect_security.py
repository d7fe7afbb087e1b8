# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets and TLS only where the host's kernel honours them, refused before any change elsewhere."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.connect import nvme_connect_persist as persistence
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_connect_reconcile import NvmeConnectError

from test_nvme_connect_reconcile import (  # same directory, on sys.path
    NVME_VERSION_2, NVME_VERSION_3, FakeNvmeCli, Host, assert_hidden, connects, secret_params, two_paths)

RELEASE_6_1 = "6.1.0-56-amd64"
RELEASE_6_12 = "6.12.95+deb12-amd64"
TOKENS_6_12 = ("instance=-1,cntlid=-1,transport=%s,traddr=%s,trsvcid=%s,nqn=%s,queue_size=%d,nr_io_queues=%d,"
               "dhchap_secret=%s,dhchap_ctrl_secret=%s,tls\n")
TOKENS_6_1 = ("instance=-1,cntlid=-1,transport=%s,traddr=%s,trsvcid=%s,nqn=%s,queue_size=%d,nr_io_queues=%d,"
              "dhchap_secret=%s,dhchap_ctrl_secret=%s\n")
NVME_KEYRING = "1b2c3d4e I--Q---     1 perm 3f010000     0     0 keyring   .nvme: empty\n"


class FakeSystemctl(FakeNvmeCli):
    """nvme-cli plus `systemctl is-active tlshd.service`."""

    def __init__(self, tlshd, **options):
        super(FakeSystemctl, self).__init__(**options)
        self.tlshd = tlshd

    def __call__(self, args, check_rc=False, data=None, environ_update=None):
        if list(args) == ["systemctl", "is-active", "tlshd.service"]:
            self.calls.append(list(args))
            return (0 if self.tlshd == "active" else 3), self.tlshd + "\n", ""
        return super(FakeSystemctl, self).__call__(args, check_rc, data, environ_update)


def kernel(host, release, config, tokens, keys=NVME_KEYRING, tlshd="inactive", version=NVME_VERSION_2):
    host.sysfs.file("/proc/sys/kernel/osrelease", release + "\n")
    host.sysfs.file("/boot/config-" + release, config)
    host.sysfs.file("/dev/nvme-fabrics", tokens)
    host.sysfs.file("/proc/keys", keys)
    host.cli = FakeSystemctl(tlshd, version=version)
    host.runner = CommandRunner(host.cli)
    host.fabrics.tls = "tls" in tokens
    return host


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


@pytest.fixture
def debian_6_1(host):
    return kernel(host, RELEASE_6_1, "# CONFIG_NVME_AUTH is not set\n", TOKENS_6_1)


@pytest.fixture
def backports_6_12(host):
    return kernel(host, RELEASE_6_12, "CONFIG_NVME_AUTH=m\nCONFIG_NVME_HOST_AUTH=y\nCONFIG_NVME_TCP_TLS=y\n",
                  TOKENS_6_12)


def test_secrets_are_refused_on_a_kernel_without_host_authentication(debian_6_1):
    with pytest.raises(NvmeConnectError) as error:
        debian_6_1.run(persist=True, **secret_params())
    assert str(error.value).startswith(
        "dhchap_secret: given, but this kernel (%s) has no NVMe in-band authentication on the host "
        "(CONFIG_NVME_HOST_AUTH, CONFIG_NVME_AUTH before Linux 6.7): it would connect without authenticating"
        % RELEASE_6_1)
    assert_hidden(str(error.value))
    assert debian_6_1.controllers() == [] and connects(debian_6_1.fabrics) == []
    assert debian_6_1.file(persistence.SAVED_DIR + "/x") is None and debian_6_1.file("/etc/nvme/discovery.conf") is None


def test_check_mode_tells_the_same(debian_6_1):
    with pytest.raises(NvmeConnectError):
        debian_6_1.run(check_mode=True, **secret_params())


def test_taking_a_connection_away_needs_no_authentication(debian_6_1):
    assert debian_6_1.run(state="absent", **secret_params())["changed"] is False


def test_secrets_connect_where_the_kernel_authenticates(backports_6_12):
    result = backports_6_12.run(**secret_params())
    assert result["changed"] and len(connects(backports_6_12.fabrics)) == 2
    assert_hidden(result)


def test_tls_is_refused_on_a_kernel_without_it(debian_6_1):
    with pytest.raises(NvmeConnectError) as error:
        debian_6_1.run(**two_paths(tls=True))
    assert str(error.value) == (
        "tls: true, but this kernel (%s) has no NVMe/TCP TLS on the host (CONFIG_NVME_TCP_TLS, Linux 6.7 or "
        "later): Debian 12's 6.1 kernel has none, bookworm-backports 6.12 has it" % RELEASE_6_1)
    assert connects(debian_6_1.fabrics) == []


def test_tls_is_refused_without_the_handshake_daemon(backports_6_12):
    with pytest.raises(NvmeConnectError) as error:
        backports_6_12.run(**two_paths(tls=True))
    assert str(error.value).startswith("tls: true, but the TLS handshake daemon tlshd (ktls-utils) is not running "
                                       "(tlshd.service: inactive)")
    assert connects(backports_6_12.fabrics) == []


def test_tls_is_refused_without_the_nvme_keyring(host):
    kernel(host, RELEASE_6_12, "CONFIG_NVME_TCP_TLS=y\n", TOKENS_6_12, keys="", tlshd="active")
    with pytest.raises(NvmeConnectError) as error:
        host.run(**two_paths(tls=True))
    assert "the kernel's .nvme keyring does not exist" in str(error.value)


def test_tls_connects_with_the_bare_option_where_everything_is_there(host):
    kernel(host, RELEASE_6_12, "CONFIG_NVME_TCP_TLS=y\n", TOKENS_6_12, tlshd="active")
    result = host.run(**two_paths(tls=True))
    assert result["changed"] and [options.get("tls") for options in connects(host.fabrics)] == [True, True]


def test_tls_cannot_be_persisted_by_nvme_cli_2(host):
    kernel(host, RELEASE_6_12, "CONFIG_NVME_TCP_TLS=y\n", TOKENS_6_12, tlshd="active")
    with pytest.raises(persistence.PersistError) as error:
        host.run(persist=True, **two_paths(tls=True))
    assert "tls cannot be persisted with nvme-cli 2.x" in str(error.value)
    assert connects(host.fabrics) == []


def test_tls_is_persisted_for_nvme_cli_3(host):
    kernel(host, RELEASE_6_12, "CONFIG_NVME_TCP_TLS=y\n", TOKENS_6_12, tlshd="active", version=NVME_VERSION_3)
    host.run(persist=True, **two_paths(tls=True))
    assert "tls = true" in host.file("/etc/nvme/nvme-fabrics.conf.d/nvmeof-fleet.conf").splitlines()
