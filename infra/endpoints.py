"""What components offer each other: an :class:`Endpoint` to reach them and a
:class:`SecretRef` to a key of a Kubernetes Secret they own.

Every component returns these and every consumer takes them, so dependencies travel as values
(Outputs where the cluster decides them), never as hard-coded DNS names or flat field lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi


@dataclass(frozen=True)
class Endpoint:
    """Where a component is reached: ``host`` (its Service's DNS name, an Output in the program,
    a plain string inside an ``apply``), ``port``, and the ``url`` they make."""

    host: pulumi.Input[str]
    port: int
    scheme: Literal["http", "https"] = "http"
    path: str = ""
    """Appended to the URL (``/mcp``); empty for the root."""

    @property
    def url(self) -> pulumi.Output[str]:
        return pulumi.Output.concat(f"{self.scheme}://", self.host, f":{self.port}{self.path}")

    def with_port(self, port: int) -> Endpoint:
        """The same host on another port (Qdrant's gRPC beside its HTTP)."""
        return Endpoint(self.host, port, self.scheme)

    def with_path(self, path: str) -> Endpoint:
        return Endpoint(self.host, self.port, self.scheme, path)


@dataclass(frozen=True)
class SecretRef:
    """One key of a Kubernetes Secret, and a checksum of its value so that pods reading it
    (as env, read once at start) can roll when it changes."""

    name: pulumi.Input[str]
    key: str
    checksum: pulumi.Input[str]
