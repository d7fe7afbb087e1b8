# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NVMe names and addresses, the rules that target and host sides share.

An NQN is checked as the kernel and nvme-cli expect it, an address is canonical; every error
names the option and the offending value (SpecError), secrets are named but never quoted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

NQN_MAX_BYTES = 223
DISCOVERY_NQN = "nqn.2014-08.org.nvmexpress.discovery"

# nqn.<yyyy-mm>.<reverse domain>:<identifier>; the identifier is restricted to
# characters that are safe in configfs names, file names and shell logs.
_NQN = re.compile(r"^nqn\.[0-9]{4}-(0[1-9]|1[0-2])"
                  r"\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+"
                  r":[A-Za-z0-9._:+-]+$")
_UUID_NQN = re.compile(r"^nqn\.2014-08\.org\.nvmexpress:uuid:"
                       r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DHCHAP_SECRET = re.compile(r"^DHHC-1:0[0-3]:[A-Za-z0-9+/]+={0,2}:$")


class SpecError(ValueError):
    """A declared value the kernel would refuse or that is unsafe; says which option."""


def fail(option, value, problem):
    raise SpecError("%s: %r %s" % (option, value, problem))


def validate_nqn(option, nqn):
    if not isinstance(nqn, str) or not nqn:
        fail(option, nqn, "is not an NQN")
    if len(nqn.encode("utf-8")) > NQN_MAX_BYTES:
        fail(option, nqn, "is %d bytes long; an NQN has at most %d"
             % (len(nqn.encode("utf-8")), NQN_MAX_BYTES))
    if nqn == DISCOVERY_NQN:
        fail(option, nqn, "is the well-known discovery NQN, not a subsystem or host")
    if not (_UUID_NQN.match(nqn) or _NQN.match(nqn)):
        fail(option, nqn, "is not a valid NQN: use nqn.yyyy-mm.reverse.domain:identifier "
             "(identifier of letters, digits and . _ : + -) or "
             "nqn.2014-08.org.nvmexpress:uuid:<uuid>")
    return nqn


def canonical_address(parsed):
    """The text of an ipaddress address, with IPv4-mapped and IPv4-compatible IPv6 addresses in
    dotted form (::ffff:10.0.0.1, ::10.0.0.1), as netaddr, which earlier releases used, wrote them:
    saved subsystems and live ports keep their form across Python versions."""
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return "::ffff:%s" % parsed.ipv4_mapped
        value = int(parsed)
        if value >> 32 == 0 and value > 0xffff:
            return "::%s" % ipaddress.IPv4Address(value)
    return str(parsed)


def ip_address(option, value):
    """A plain IPv4 or IPv6 address in canonical form, and its family (ipv4 or ipv6)."""
    text = str(value).strip()
    if "%" in text or "/" in text:
        fail(option, value, "must be a plain IPv4 or IPv6 address (no prefix length or zone)")
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        fail(option, value, "is not an IPv4 or IPv6 address")
    return canonical_address(parsed), "ipv%d" % parsed.version
