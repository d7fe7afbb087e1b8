# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the running kernel and host can do for NVMe security, asked before anything changes.

A feature the kernel lacks shows up too late otherwise: 6.1 takes a
``dhchap_secret=`` connect option without host authentication built in and
connects unauthenticated wherever the target does not insist; a TLS request
fails deep in the handshake. Each answer is True, False, or None when the
host gives no way to tell (then the kernel's own refusal is the answer).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError

FABRICS_DEVICE = "/dev/nvme-fabrics"


def kernel_release_and_config(fs):
    release = fs.read("/proc/sys/kernel/osrelease")
    return release, (fs.read("/boot/config-%s" % release) if release else None)


def _config_value(config, name):
    for line in config.splitlines():
        if line.startswith(name + "="):
            return line.split("=", 1)[1]
    return None


def host_auth_supported(fs):
    """DH-HMAC-CHAP on the host: CONFIG_NVME_HOST_AUTH (6.7+), CONFIG_NVME_AUTH before that."""
    _release, config = kernel_release_and_config(fs)
    if config is None:
        return None
    host_auth = _config_value(config, "CONFIG_NVME_HOST_AUTH")
    if host_auth is not None or "# CONFIG_NVME_HOST_AUTH is not set" in config.splitlines():
        return host_auth == "y"
    return _config_value(config, "CONFIG_NVME_AUTH") == "y"


def host_tls_supported(fs):
    """NVMe/TCP TLS on the host: the kernel lists a ``tls`` connect option (CONFIG_NVME_TCP_TLS, 6.7+)."""
    try:
        tokens = fs.read(FABRICS_DEVICE)
    except HostFSError:  # unreadable: the connect itself will tell
        return None
    if tokens:
        return "tls" in [token.split("=", 1)[0] for token in tokens.strip().split(",")]
    _release, config = kernel_release_and_config(fs)
    if config is None:
        return None
    return _config_value(config, "CONFIG_NVME_TCP_TLS") == "y"


def tls_handshake_problem(fs, runner):
    """Why this host could not complete an NVMe/TCP TLS handshake, or None.

    The kernel hands each handshake to the tlshd daemon (ktls-utils) through
    netlink, with the pre-shared key from its .nvme keyring (module nvme_keyring).
    """
    keys = fs.read("/proc/keys")
    if keys is not None and not any(".nvme:" in line.split() for line in keys.splitlines()):
        return ("the kernel's .nvme keyring does not exist (module nvme_keyring is not loaded), so there is no "
                "pre-shared key to hand to the handshake")
    _rc, out, _err = runner.run(["systemctl", "is-active", "tlshd.service"], check=False)
    if out.strip() != "active":
        return ("the TLS handshake daemon tlshd (ktls-utils) is not running (tlshd.service: %s); the kernel hands "
                "every NVMe/TCP TLS handshake to it. Install ktls-utils (Debian 12 has no package of it) and "
                "start tlshd.service" % (out.strip() or "unknown"))
    return None
