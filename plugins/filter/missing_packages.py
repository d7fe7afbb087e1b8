# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: missing_packages
short_description: The packages of a list that dpkg does not report as installed
version_added: 0.1.0
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
description:
  - The roles read which of their packages are installed with one C(dpkg-query) call and run the package manager
    only for the ones missing. Opening the package manager's cache costs more than the rest of a no-op role run
    on a small host; asking dpkg costs one short command.
  - A name with a version, an architecture or a wildcard (any of C(=), C(<), C(>), C(:), C(*), C(?)) is always
    returned, so that the package manager decides about it.
positional: _input, installed
options:
  _input:
    description: The package names as the role declares them.
    type: list
    elements: str
    required: true
  installed:
    description:
      - The C(packages) that M(nvmeof.fleet.host_state) returned (a package is installed when its status is
        V(installed)), or the lines that C(dpkg-query --show --showformat='${Package} ${db:Status-Status}\n' NAME...)
        printed (when its line says V(installed)).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Read which packages of the role are installed
  ansible.builtin.command:
    argv: "{{ ['dpkg-query', '--show', '--showformat=${Package} ${db:Status-Status}\\n']
              + my_packages | reject('search', '[=<>:*?]') | list }}"
  register: packages_probe
  changed_when: false
  failed_when: packages_probe.rc > 1  # 1: some package is unknown to dpkg
  check_mode: false

- name: Install the packages that are missing
  ansible.builtin.package:
    name: "{{ my_packages | nvmeof.fleet.missing_packages(packages_probe.stdout_lines) }}"
    state: present
  when: my_packages | nvmeof.fleet.missing_packages(packages_probe.stdout_lines) | length > 0
"""

RETURN = r"""
_value:
  description: The names of O(_input) that are not installed, in their order, each once.
  type: list
  elements: str
"""

import re

from ansible.errors import AnsibleFilterError

_NOT_A_PLAIN_NAME = re.compile(r"[=<>:*?]")


def missing_packages(names, installed):
    if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
        raise AnsibleFilterError("missing_packages: the input must be a list of package names, got %r" % (names,))
    if isinstance(installed, dict):
        installed = ["%s %s" % item for item in installed.items()]
    if not isinstance(installed, list):
        raise AnsibleFilterError("missing_packages: 'installed' must be host_state's packages or the lines "
                                 "dpkg-query printed, got %r" % (installed,))
    present = set()
    for line in installed:
        fields = str(line).split()
        if len(fields) == 2 and fields[1] == "installed":
            present.add(fields[0])
    missing = []
    for name in names:
        if name not in missing and (_NOT_A_PLAIN_NAME.search(name) or name not in present):
            missing.append(name)
    return missing


class FilterModule(object):
    def filters(self):
        return {"missing_packages": missing_packages}
