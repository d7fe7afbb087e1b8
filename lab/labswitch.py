"""A learning Ethernet switch between QEMU `dgram` netdevs on unix sockets.

Each lab storage fabric is one L2 segment shared by every VM. QEMU's own
socket netdevs connect two peers only (or need IP multicast); this switch
joins any number of VMs and keeps every frame on local unix sockets.

Usage: labswitch.py SOCKET_DIR FABRIC:VM[,VM...] [FABRIC:VM...]
A VM's QEMU binds SOCKET_DIR/FABRIC-VM.sock and sends to SOCKET_DIR/FABRIC.sock.
"""

import errno
import os
import selectors
import signal
import socket
import sys

SOCKET_BUFFER = 4 * 1024 * 1024
MAX_FRAME = 65536


def vm_socket(socket_dir, fabric, vm):
    return os.path.join(socket_dir, f"{fabric}-{vm}.sock")


def fabric_socket(socket_dir, fabric):
    return os.path.join(socket_dir, f"{fabric}.sock")


class Fabric:
    def __init__(self, socket_dir, name, vms):
        self.peers = [vm_socket(socket_dir, name, vm) for vm in vms]
        self.mac_to_peer = {}
        path = fabric_socket(socket_dir, name)
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
        self.sock.bind(path)
        self.sock.setblocking(False)

    def _send(self, frame, peer):
        try:
            self.sock.sendto(frame, peer)
        except OSError as exc:
            # A VM that is not running (yet) or is too busy to read loses the
            # frame, as a port on a real switch would.
            if exc.errno not in (errno.ENOENT, errno.ECONNREFUSED, errno.EAGAIN, errno.ENOBUFS):
                raise

    def forward(self):
        while True:
            try:
                frame, sender = self.sock.recvfrom(MAX_FRAME)
            except BlockingIOError:
                return
            if len(frame) < 14 or not sender:
                continue
            destination, source = frame[0:6], frame[6:12]
            self.mac_to_peer[source] = sender
            target = None if destination[0] & 1 else self.mac_to_peer.get(destination)
            if target is not None:
                if target != sender:
                    self._send(frame, target)
                continue
            for peer in self.peers:
                if peer != sender:
                    self._send(frame, peer)


def main(argv):
    socket_dir, specs = argv[0], argv[1:]
    selector = selectors.DefaultSelector()
    for spec in specs:
        name, vms = spec.split(":", 1)
        fabric = Fabric(socket_dir, name, vms.split(","))
        selector.register(fabric.sock, selectors.EVENT_READ, fabric)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"switching {len(specs)} fabric(s) in {socket_dir}", flush=True)
    while True:
        for key, _events in selector.select():
            key.data.forward()


if __name__ == "__main__":
    main(sys.argv[1:])
