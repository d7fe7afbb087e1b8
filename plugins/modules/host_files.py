#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: host_files
short_description: Install a set of whole text files, each with its mode, in one call
version_added: 0.1.0
description:
  - Writes every file of O(files) whose text, mode or owner differs from the declaration, in one module run
    however many files there are. The roles of this collection install their boot files with it (systemd
    units, C(modules-load.d) files, the target's restore program).
  - Each file is replaced at once (a temporary file in the same directory, created with its final mode, then
    renamed), so a reader sees the old or the new file, never half of one. A symlink at the path is replaced by
    the file, as M(ansible.builtin.copy) does.
  - Files are owned by the user the module runs as (root, with C(become)); a file owned by anyone else is
    written again.
  - Missing parent directories are created with O(parent_mode).
  - Every entry is checked before anything is written. An invalid path, mode or entry, a path declared twice
    or a path that is a directory on the host is refused with nothing changed, naming the entry and the value.
  - Atomic as a whole. If writing one file fails, the files this call already wrote get their old text and
    mode back, the files and directories it created are removed, and the error says what was taken back.
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
extends_documentation_fragment:
  - nvmeof.fleet.attributes
options:
  files:
    description:
      - The files, each a dictionary with C(path) (absolute and normalized), C(content) (the whole text, UTF-8)
        and C(mode) (octal, such as V('0644'); no setuid, setgid or sticky bits).
      - Files on the host that are not listed are left alone.
    type: list
    elements: dict
    required: true
  parent_mode:
    description: Mode of the parent directories the module creates; existing directories keep theirs.
    type: str
    default: "0755"
notes:
  - Meant for configuration and program files of up to a few hundred kilobytes; the text travels in the module's
    arguments. Do not pass secrets, the diff shows the text.
seealso:
  - module: ansible.builtin.copy
    description: One file per call, with owners, binary content and backups.
"""

EXAMPLES = r"""
- name: A systemd unit and its program, in one call
  nvmeof.fleet.host_files:
    files:
      - path: /etc/systemd/system/example-restore.service
        content: "{{ lookup('ansible.builtin.template', 'example-restore.service.j2') }}"
        mode: "0644"
      - path: /usr/local/sbin/example-restore
        content: "{{ lookup('ansible.builtin.file', 'example-restore') }}"
        mode: "0755"
  notify: Reload the systemd units
"""

RETURN = r"""
files:
  description: Every declared file, in order, with C(path), C(changed) and C(reason) (what differed, empty if nothing).
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /etc/modules-load.d/nvmeof-fleet-target.conf, changed: true, reason: absent}
    - {path: /etc/systemd/system/example.service, changed: true, reason: "mode 0600, not 0644"}
actions:
  description: What was done (or would be in check mode), in order.
  returned: always
  type: list
  elements: str
  sample:
    - write /etc/modules-load.d/nvmeof-fleet-target.conf (absent)
diff:
  description: One difference per file written, with its text before and after; the headers carry the modes.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.host_files import HostFilesError, apply
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.module_job import finish

ARGUMENT_SPEC = dict(
    files=dict(type="list", elements="dict", required=True),
    parent_mode=dict(type="str", default="0755"),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    fs = HostFS()
    finish(module, lambda: apply(fs, module.params, check_mode=module.check_mode), (HostFilesError,), lock_fs=fs)


if __name__ == "__main__":
    main()
