# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's NVMe identity: /etc/nvme/hostnqn and /etc/nvme/hostid.

Every connect carries both. Cloned images share them, and a kernel that sees
one host ID under two host NQNs refuses the second host, so the files must
exist, hold valid values and agree (the host ID is the UUID in a uuid-form
host NQN, as nvme-cli generates them).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import uuid

from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.nvme_host import (
    HOSTID_FILE, HOSTNQN_FILE, UUID_NQN_PREFIX, host_identity)
from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.names import (
    SpecError, validate_nqn)

# Stable host IDs for host NQNs without a UUID in them.
_HOSTID_NAMESPACE = uuid.UUID("0b0b6c1e-5b4a-4bd2-9f33-6f1d3e1f7a10")


def _valid_uuid(option, value):
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise SpecError("%s: %r is not a UUID" % (option, value))


def _nqn_uuid(hostnqn):
    if hostnqn and hostnqn.startswith(UUID_NQN_PREFIX):
        try:
            return str(uuid.UUID(hostnqn[len(UUID_NQN_PREFIX):]))
        except ValueError:
            return None
    return None


def _usable_nqn(hostnqn):
    """Whether a host NQN found on the host can be kept."""
    if not hostnqn:
        return False
    try:
        validate_nqn("hostnqn", hostnqn)
    except SpecError:
        return False
    return not hostnqn.startswith(UUID_NQN_PREFIX) or _nqn_uuid(hostnqn) is not None


def desired_identity(current, hostnqn=None, hostid=None, regenerate=False, new_uuid=None):
    """(hostnqn, hostid) this host should have, from what it has and what was asked."""
    if regenerate:
        if hostnqn or hostid:
            given = ", ".join("%s %r" % (name, value) for name, value in (("hostnqn", hostnqn), ("hostid", hostid))
                              if value)
            raise SpecError("regenerate_host_identity: true cannot be combined with %s: a regenerated identity is "
                            "a new random one" % given)
        fresh = str(new_uuid or uuid.uuid4())
        return UUID_NQN_PREFIX + fresh, fresh
    if hostnqn:
        hostnqn = validate_nqn("hostnqn", hostnqn)
    elif _usable_nqn(current["hostnqn"]):
        hostnqn = current["hostnqn"]
    else:
        fresh = str(new_uuid or uuid.uuid4())
        hostnqn = UUID_NQN_PREFIX + fresh
    in_nqn = _nqn_uuid(hostnqn)
    if hostid:
        hostid = _valid_uuid("hostid", hostid)
        if in_nqn and hostid != in_nqn:
            raise SpecError("hostid: %s differs from the UUID in hostnqn (%s); the two must agree"
                            % (hostid, in_nqn))
        return hostnqn, hostid
    if in_nqn:
        return hostnqn, in_nqn
    current_id = _nqn_uuid(UUID_NQN_PREFIX + (current["hostid"] or ""))
    if current_id and hostnqn == current["hostnqn"]:
        return hostnqn, current_id
    return hostnqn, str(uuid.uuid5(_HOSTID_NAMESPACE, hostnqn))


def ensure_identity(fs, hostnqn=None, hostid=None, regenerate=False, check_mode=False):
    """Makes the identity files exist and agree; returns hostnqn, hostid, changed, before."""
    facts = host_identity(fs)
    want_nqn, want_id = desired_identity(facts, hostnqn, hostid, regenerate)
    changed = (want_nqn, want_id) != (facts["hostnqn"], facts["hostid"])
    if changed and not check_mode:
        if not fs.is_dir("/etc/nvme"):
            fs.make_dir("/etc/nvme", mode=0o755)
        fs.write_file_atomic(HOSTNQN_FILE, want_nqn + "\n", mode=0o644)
        fs.write_file_atomic(HOSTID_FILE, want_id + "\n", mode=0o644)
    return {
        "hostnqn": want_nqn,
        "hostid": want_id,
        "changed": changed,
        "before": {"hostnqn": facts["hostnqn"], "hostid": facts["hostid"],
                   "problems": facts["problems"]},
    }
