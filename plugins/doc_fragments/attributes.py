# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``attributes`` every nvmeof.fleet module declares.

Each module extends exactly one of these fragments:

- ``nvmeof.fleet.attributes``: modules that change the host; full check mode,
  diff mode and idempotency, which is the collection's promise.
- ``nvmeof.fleet.attributes.info_module``: read-only modules (``*_info``).

A module that falls short of one of them says so in its own ``attributes``,
which take precedence over the fragment's (for example ``diff_mode:
{support: partial, details: [...]}``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Modules that change state.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: full
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: linux
notes:
  - Changes are made under the host's nvmeof.fleet lock (an flock on C(/run/lock/nvmeof-fleet.lock)), held from the
    first read to the last write. Concurrent runs against one host (two AWX jobs, a play during the target's boot
    restore) take turns instead of interleaving, so the saved configuration is always one run's whole result. A call
    waits up to 600 seconds, then fails naming the process that holds the lock. The lock goes with its holder, even a
    killed one. Check mode takes no lock.
"""

    # Read-only modules: used instead of DOCUMENTATION, not with it.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
    support: full
    details:
      - This action does not modify state.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: linux
"""
