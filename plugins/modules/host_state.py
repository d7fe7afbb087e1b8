#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: host_state
short_description: Read in one call what the collection's roles manage on a host
version_added: 0.1.0
description:
  - Reads, without changing anything, the state the roles of C(nvmeof.fleet) plan from, so that a role reads
    a host once and calls a changing module only for what differs. A run that finds nothing to do then costs
    one module run per host.
  - Packages (their dpkg status), kernel modules (loaded or built in), systemd units, files (checksum, mode,
    owner), the files of directories, and the kernel NVMe target (nvmet) in the form the planner of
    M(nvmeof.fleet.nvmet_target) takes.
  - DH-HMAC-CHAP keys of the nvmet hosts come back as their SHA-256 digests, never as the keys.
  - The changing modules stay the authority. They read the host again under the host lock before they
    write, so a host that changed between this read and their call is still handled right.
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
extends_documentation_fragment:
  - nvmeof.fleet.attributes.info_module
options:
  packages:
    description: Debian package names (no version, architecture or wildcard) whose dpkg status to read.
    type: list
    elements: str
    default: []
  kernel_modules:
    description: Kernel modules to look for, loaded or built into the running kernel (C(-) and C(_) alike).
    type: list
    elements: str
    default: []
  units:
    description: Systemd units (with their type, C(name.service)) whose state to read, in one C(systemctl show).
    type: list
    elements: str
    default: []
  files:
    description: Absolute paths of files to read the checksum, mode and owner of.
    type: list
    elements: path
    default: []
  directories:
    description: Absolute paths of directories whose regular files to read (not recursive).
    type: list
    elements: path
    default: []
  cpus:
    description: Read how many CPUs are online and their cpufreq policies.
    type: bool
    default: false
  addresses:
    description: Read the links with their MTUs and addresses (C(ip -json address show)).
    type: bool
    default: false
  nvmet:
    description: Read the kernel NVMe target's configfs tree (C(/sys/kernel/config/nvmet)).
    type: bool
    default: false
  checks:
    description:
      - Options of changing modules of this collection, by module name (V(cxl_tiering), V(interface_mtu),
        V(nvme_multipath), V(sysctl_tuning)). Each module's own code runs in check mode with them, in this call,
        and RV(checks) says whether the module would change anything, so that a role calls only the modules
        that would.
      - No secret may be among them, since they are reported back as module arguments.
    type: dict
    default: {}
  nvme:
    description:
      - NVMe facts to read, as M(nvmeof.fleet.nvme_info) returns them for the same O(nvmeof.fleet.nvme_info#module:gather),
        each under its own key (RV(kernel), RV(host), RV(target), RV(initiator)).
    type: list
    elements: str
    choices: [kernel, host, target, initiator]
    default: []
seealso:
  - module: nvmeof.fleet.nvmet_target
  - module: nvmeof.fleet.host_files
  - module: nvmeof.fleet.nvme_info
"""

EXAMPLES = r"""
- name: Read what the target role plans from
  nvmeof.fleet.host_state:
    packages: [kmod, iproute2]
    kernel_modules: [nvmet, nvmet-tcp]
    units: [nftables.service, firewalld.service]
    files: [/etc/modules-load.d/nvmeof-fleet-target.conf]
    directories: [/etc/nvmeof-fleet/nvmet/subsystems]
    nvmet: true
  register: target_state

- name: Install nvme-cli only where it is missing
  ansible.builtin.package:
    name: nvme-cli
  when: target_state.packages['nvme-cli'] | default('') != 'installed'
"""

RETURN = r"""
packages:
  description: The dpkg status of each package asked for (C(installed), C(config-files), ...; C(not-installed) when dpkg has none).
  returned: always
  type: dict
  sample: {kmod: installed, nvme-cli: not-installed}
kernel_modules:
  description: Whether each kernel module asked for is loaded or built into the running kernel.
  returned: always
  type: dict
  sample: {nvmet: true, nvmet-tcp: false}
units:
  description: Per unit asked for, its C(Id), C(LoadState) (C(not-found) when there is none), C(ActiveState) and C(UnitFileState).
  returned: always
  type: dict
  sample: {nftables.service: {Id: nftables.service, LoadState: loaded, ActiveState: active, UnitFileState: enabled}}
files:
  description: Per file asked for, null when there is no regular file, else its C(checksum) (SHA-1), C(mode) (C(0644)), C(uid) and C(gid).
  returned: always
  type: dict
  sample: {/etc/modules-load.d/nvmeof-fleet-target.conf: {checksum: 0a4d55a8d778e5022fab701977c5d840bbc486d0, mode: "0644", uid: 0, gid: 0}}
directories:
  description: Per directory asked for, null when there is none, else the regular files in it as in RV(files), by name.
  returned: always
  type: dict
cpus:
  description:
    - With O(cpus=true), C(online) (how many CPUs are online) and C(policies), per cpufreq policy (C(policy0), ...)
      its C(governor) and the C(available) governors; no policies without cpufreq (most virtual machines). Else null.
  returned: always
  type: dict
  sample: {online: 2, policies: {policy0: {governor: schedutil, available: [performance, schedutil]}}}
addresses:
  description: With O(addresses=true), what C(ip -json address show) prints, parsed. Else null.
  returned: always
  type: list
  elements: dict
checks:
  description:
    - Per module of O(checks), its result in check mode without the diff (C(changed), C(actions) and the rest of
      its return values); where the module would refuse the options, C(changed=true) and C(refused), the reason.
  returned: always
  type: dict
  sample: {sysctl_tuning: {changed: false, actions: []}}
kernel:
  description: As RV(nvmeof.fleet.nvme_info#module:kernel).
  returned: when O(nvme) contains V(kernel)
  type: dict
host:
  description: As RV(nvmeof.fleet.nvme_info#module:host), the host's NVMe identity.
  returned: when O(nvme) contains V(host)
  type: dict
target:
  description: As RV(nvmeof.fleet.nvme_info#module:target).
  returned: when O(nvme) contains V(target)
  type: dict
initiator:
  description: As RV(nvmeof.fleet.nvme_info#module:initiator).
  returned: when O(nvme) contains V(initiator)
  type: dict
nvmet:
  description:
    - The kernel target, when O(nvmet=true). C(loaded) tells whether configfs has it; C(world) holds its subsystems,
      ports and hosts with their configfs attributes as the kernel shows them, keys as C(sha256:) digests.
  returned: when O(nvmet=true)
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.host_state import HostStateError, read_host
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.module_job import finish
from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.nvme_host import PARTS, gather, modules_present
from ansible_collections.nvmeof.fleet.plugins.module_utils.plans.module_checks import ModuleCheckError, check_modules
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_model import NVMET, export_world, read_world

ARGUMENT_SPEC = dict(
    packages=dict(type="list", elements="str", default=[]),
    kernel_modules=dict(type="list", elements="str", default=[]),
    units=dict(type="list", elements="str", default=[]),
    files=dict(type="list", elements="path", default=[]),
    directories=dict(type="list", elements="path", default=[]),
    cpus=dict(type="bool", default=False),
    addresses=dict(type="bool", default=False),
    nvmet=dict(type="bool", default=False),
    checks=dict(type="dict", default={}),
    nvme=dict(type="list", elements="str", choices=list(PARTS), default=[]),
)


def run(params, fs, runner, fs_for=None):
    """``fs_for(module)``: the HostFS each checked module gets (``fs`` unless told otherwise)."""
    result = read_host(fs, runner, params)
    result["kernel_modules"] = modules_present(fs, params["kernel_modules"])
    result["checks"] = check_modules(fs_for or (lambda name: fs), runner, params.get("checks") or {})
    if params["nvmet"]:
        result["nvmet"] = {"loaded": fs.is_dir(NVMET), "world": export_world(read_world(fs))}
    result.update(gather(fs, params.get("nvme") or []))
    result["changed"] = False
    return result


def module_fs(name):
    """The HostFS the check of module ``name`` reads through (the unit tests' fake hosts differ per module)."""
    return HostFS()


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    finish(module, lambda: run(module.params, HostFS(), CommandRunner(module.run_command), fs_for=module_fs),
           errors=(HostStateError, ModuleCheckError))


if __name__ == "__main__":
    main()
