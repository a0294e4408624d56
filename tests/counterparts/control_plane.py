"""A real Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager,
and, when asked for nodes, kube-scheduler and kwok.

Built by ``scripts/install-k8s-counterparts`` (Kubernetes 1.34, like the kind node image). The
API server runs as kind's does where it matters to the program: RBAC and Node authorization,
Pod Security admission (labels on the namespace decide), NodeRestriction, privileged containers
allowed by the server (so Pod Security, not a server flag, is what refuses them), and the
controller manager with per-controller service account credentials. Without nodes, Pods are
created and admitted but stay Pending. With nodes (:class:`FakeNode`), the real kube-scheduler
binds Pods to them and kwok plays their kubelets: Nodes turn Ready, Pods Running and Ready,
and kwok's StorageClass (the default) provisions and binds claims, so readiness waits finish.

Every process binds 127.0.0.1 on a port picked free, is started in its own session, and is
stopped by its process id (TERM, then KILL after a bound). Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

LOOPBACK: Final = "127.0.0.1"
START_TIMEOUT_SECONDS: Final = 90.0
STOP_TIMEOUT_SECONDS: Final = 15.0
SERVICE_CIDR: Final = "10.96.0.0/16"  # kind's default
ADMIN_USER: Final = "counterparts-admin"
KWOK_USER: Final = "kwok-controller"
KWOK_NODE_ANNOTATION: Final = "kwok.x-k8s.io/node"
_ALL: Final = ["create", "delete", "get", "list", "patch", "update", "watch"]
_READ: Final = ["get", "list", "watch"]
# What kwok changes as the kubelet and provisioner of its Nodes (kwok's own roles, with `patch`
# on persistentvolumes, which its volume role lacks and its provisioning uses).
KWOK_RBAC: Final = json.dumps(
    {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": KWOK_USER},
                "rules": [
                    {"apiGroups": [""], "resources": ["events", "pods", "persistentvolumes"],
                     "verbs": _ALL},
                    {"apiGroups": [""], "resources": ["nodes", "persistentvolumeclaims"],
                     "verbs": [*_READ, "patch", "update"]},
                    {"apiGroups": [""],
                     "resources": ["nodes/status", "pods/status", "persistentvolumes/status",
                                   "persistentvolumeclaims/status"],
                     "verbs": ["patch", "update"]},
                    {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"],
                     "verbs": _READ},
                    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": _ALL},
                ],
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": KWOK_USER},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                            "name": KWOK_USER},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                              "name": KWOK_USER}],
            },
        ],
    }
)  # fmt: skip
PR_SET_PDEATHSIG: Final = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class FakeNode:
    """A Node that kwok runs: schedulable, no taints, with the labels the scheduler spreads
    and selects on."""

    name: str
    zone: str
    labels: tuple[tuple[str, str], ...] = ()

    def manifest(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.name,
                "annotations": {KWOK_NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {
                    "kubernetes.io/arch": "amd64",
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/hostname": self.name,
                    "topology.kubernetes.io/zone": self.zone,
                    **dict(self.labels),
                },
            },
            # Room for every pod the stacks run; a status given on create is kept.
            "status": {
                "allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110"},
                "capacity": {"cpu": "16", "memory": "64Gi", "pods": "110"},
            },
        }


class ControlPlaneError(RuntimeError):
    """A process did not start or answer in time; the message holds the end of its log."""


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM if the test process dies without stopping it (killed,
    crashed), so no server outlives its session. Elsewhere, teardown alone stops them."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def wait_until(ready: Callable[[], bool], timeout: float, process: Process) -> None:
    """Poll ``ready`` until it holds; fail with the end of ``process``'s log when the process
    exits or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.check_alive()
        if ready():
            return
        time.sleep(0.2)
    raise ControlPlaneError(
        f"{process.name} was not ready within {timeout:.0f}s:\n{process.tail()}"
    )


@dataclass
class Process:
    """One server process, its log, and how to stop it (by pid)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, name: str, argv: Sequence[str], log: Path) -> Process:
        with log.open("wb") as output:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 (no threads start servers)
            )
        return cls(name, process, log)

    def tail(self, lines: int = 25) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise ControlPlaneError(
                f"{self.name} exited with {self.process.returncode}:\n{self.tail()}"
            )

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)


@dataclass
class Etcd:
    process: Process
    url: str

    @classmethod
    def start(cls, bin_dir: Path, work: Path) -> Etcd:
        client, peer = free_port(), free_port()
        url = f"http://{LOOPBACK}:{client}"
        peer_url = f"http://{LOOPBACK}:{peer}"
        work.mkdir(parents=True, exist_ok=True)
        process = Process.start(
            "etcd",
            [
                str(bin_dir / "etcd"),
                "--name=counterparts",
                f"--data-dir={work / 'data'}",
                f"--listen-client-urls={url}",
                f"--advertise-client-urls={url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=counterparts={peer_url}",
                "--unsafe-no-fsync",  # throw-away data: no need to wait for the disk
                "--log-level=warn",
            ],
            work / "etcd.log",
        )
        etcd = cls(process, url)
        try:
            wait_until(etcd.healthy, START_TIMEOUT_SECONDS, process)
        except BaseException:
            process.stop()
            raise
        return etcd

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:  # noqa: S310
                return bool(json.load(response).get("health") == "true")
        except (OSError, ValueError):
            return False


def _write_service_account_key(path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _kubeconfig(server: str, ca_file: Path, token: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "counterparts",
                    "cluster": {"server": server, "certificate-authority": str(ca_file)},
                }
            ],
            "users": [{"name": "user", "user": {"token": token}}],
            "contexts": [
                {"name": "counterparts", "context": {"cluster": "counterparts", "user": "user"}}
            ],
            "current-context": "counterparts",
        }
    )


@dataclass
class Kubectl:
    """The kubectl built with the API server (same pinned version), on one kubeconfig."""

    binary: Path
    kubeconfig: Path
    cache_dir: Path
    """kubectl's discovery cache: the session's, never the user's ~/.kube/cache."""

    def run(
        self,
        *args: str,
        stdin: str | None = None,
        timeout: float = 60,
        check: bool = True,
        merge_output: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            [
                str(self.binary),
                f"--kubeconfig={self.kubeconfig}",
                f"--cache-dir={self.cache_dir}",
                *args,
            ],
            input=stdin,
            capture_output=not merge_output,
            stdout=subprocess.PIPE if merge_output else None,
            stderr=subprocess.STDOUT if merge_output else None,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and completed.returncode != 0:
            raise ControlPlaneError(
                f"kubectl {' '.join(args)} exited {completed.returncode}:\n"
                f"{completed.stdout}{completed.stderr or ''}"
            )
        return completed

    def json(self, *args: str, stdin: str | None = None, timeout: float = 60) -> Any:
        return json.loads(self.run(*args, "-o", "json", stdin=stdin, timeout=timeout).stdout)


@dataclass
class ControlPlane:
    """kube-apiserver and kube-controller-manager for one cluster, on a shared etcd under a
    key prefix of its own: one control plane per stack, as each stack gets its own cluster.
    Started in phases (:func:`control_planes` runs each phase for every cluster at once)."""

    name: str
    bin_dir: Path
    work: Path
    server: str
    kubectl: Kubectl
    processes: list[Process] = field(default_factory=list)

    @property
    def ca_file(self) -> Path:
        return self.work / "certs" / "apiserver.crt"

    @property
    def service_account_key(self) -> Path:
        return self.work / "service-account.key"

    @classmethod
    def launch(cls, name: str, bin_dir: Path, work: Path, etcd: Etcd) -> ControlPlane:
        """Start kube-apiserver (without waiting for it)."""
        work.mkdir(parents=True, exist_ok=True)
        port = free_port()
        plane = cls(
            name,
            bin_dir,
            work,
            f"https://{LOOPBACK}:{port}",
            Kubectl(bin_dir / "kubectl", work / "admin.kubeconfig", work / "kubectl-cache"),
        )
        _write_service_account_key(plane.service_account_key)
        users = {
            "admin": (ADMIN_USER, "uid-admin", ',"system:masters"'),
            "controller-manager": ("system:kube-controller-manager", "uid-kcm", ""),
            # The default RBAC already grants the scheduler what it does; kwok gets KWOK_RBAC.
            "scheduler": ("system:kube-scheduler", "uid-scheduler", ""),
            "kwok": (KWOK_USER, "uid-kwok", ""),
        }
        tokens = {name: secrets.token_hex(16) for name in users}
        token_file = work / "tokens.csv"
        token_file.write_text(
            "".join(
                f"{tokens[name]},{user},{uid}{groups}\n"
                for name, (user, uid, groups) in users.items()
            )
        )
        token_file.chmod(0o600)
        plane.kubectl.kubeconfig.write_text(
            _kubeconfig(plane.server, plane.ca_file, tokens["admin"])
        )
        for component in ("controller-manager", "scheduler", "kwok"):
            (work / f"{component}.kubeconfig").write_text(
                _kubeconfig(plane.server, plane.ca_file, tokens[component])
            )
        plane.processes.append(
            Process.start(
                f"kube-apiserver ({name})",
                [
                    str(bin_dir / "kube-apiserver"),
                    f"--etcd-servers={etcd.url}",
                    f"--etcd-prefix=/registry-{name}",
                    f"--bind-address={LOOPBACK}",
                    f"--advertise-address={LOOPBACK}",
                    f"--secure-port={port}",
                    f"--cert-dir={work / 'certs'}",
                    "--authorization-mode=Node,RBAC",
                    f"--token-auth-file={token_file}",
                    "--enable-admission-plugins=NodeRestriction,PodSecurity",
                    "--allow-privileged=true",
                    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                    f"--service-account-key-file={plane.service_account_key}",
                    f"--service-account-signing-key-file={plane.service_account_key}",
                    f"--service-cluster-ip-range={SERVICE_CIDR}",
                    # The advertised address is loopback, which the `kubernetes` Service's
                    # endpoints may not hold: nothing here needs them.
                    "--endpoint-reconciler-type=none",
                    "--profiling=false",
                ],
                work / "kube-apiserver.log",
            )
        )
        return plane

    def wait_for_api_server(self) -> None:
        wait_until(self._ready, START_TIMEOUT_SECONDS, self.processes[0])

    def launch_controller_manager(self) -> None:
        self.processes.append(
            Process.start(
                f"kube-controller-manager ({self.name})",
                [
                    str(self.bin_dir / "kube-controller-manager"),
                    f"--kubeconfig={self.work / 'controller-manager.kubeconfig'}",
                    f"--bind-address={LOOPBACK}",
                    "--secure-port=0",  # no serving endpoint: nothing here scrapes it
                    "--leader-elect=false",
                    "--use-service-account-credentials=true",
                    f"--service-account-private-key-file={self.service_account_key}",
                    f"--root-ca-file={self.ca_file}",
                    f"--service-cluster-ip-range={SERVICE_CIDR}",
                    # Autoscalers enforce minReplicas at once instead of every 15 s.
                    "--horizontal-pod-autoscaler-sync-period=1s",
                ],
                self.work / "kube-controller-manager.log",
            )
        )

    def wait_for_controllers(self) -> None:
        wait_until(self._controllers_running, START_TIMEOUT_SECONDS, self.processes[1])

    def launch_nodes(self, nodes: Sequence[FakeNode]) -> None:
        """The real scheduler, and kwok as the kubelet of ``nodes`` and as a provisioner (its
        StorageClass is the default); returns once every Node is Ready. One kwok for the
        plane's whole life: a restarted kwok manages nothing until its old node leases expire
        (up to 40 s) and may hand out pod addresses already in use."""
        self.kubectl.run("apply", "-f", "-", stdin=KWOK_RBAC)
        self.kubectl.run("apply", "-f", str(self.bin_dir / "kwok-storage-class.yaml"))
        self.processes.append(
            Process.start(
                f"kube-scheduler ({self.name})",
                [
                    str(self.bin_dir / "kube-scheduler"),
                    f"--kubeconfig={self.work / 'scheduler.kubeconfig'}",
                    "--leader-elect=false",
                    "--secure-port=0",  # no serving endpoint: nothing here scrapes it
                ],
                self.work / "kube-scheduler.log",
            )
        )
        self.processes.append(
            Process.start(
                f"kwok ({self.name})",
                [
                    str(self.bin_dir / "kwok"),
                    f"--kubeconfig={self.work / 'kwok.kubeconfig'}",
                    f"--config={self.bin_dir / 'kwok-stages.yaml'}",
                    "--manage-all-nodes=false",
                    f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
                    "--node-lease-duration-seconds=40",
                    # Pod addresses; no --node-port or --server-address: kwok listens nowhere.
                    "--cidr=10.244.0.0/16",
                ],
                self.work / "kwok.log",
            )
        )
        self.kubectl.run(
            "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                  "items": [n.manifest() for n in nodes]}),
        )  # fmt: skip
        wait_until(lambda: self._nodes_ready(len(nodes)), START_TIMEOUT_SECONDS, self.processes[-1])

    def _nodes_ready(self, count: int) -> bool:
        listed = self.kubectl.run("get", "nodes", "-o", "json", check=False, timeout=10)
        if listed.returncode != 0:
            return False
        ready = [
            node
            for node in json.loads(listed.stdout)["items"]
            for condition in node.get("status", {}).get("conditions", [])
            if condition["type"] == "Ready" and condition["status"] == "True"
        ]
        return len(ready) == count

    def _ready(self) -> bool:
        if not self.ca_file.exists():
            return False
        return self.kubectl.run("get", "--raw=/readyz", check=False, timeout=10).returncode == 0

    def _controllers_running(self) -> bool:
        # The service account controller gives every namespace its `default` account.
        completed = self.kubectl.run(
            "get", "serviceaccount", "default", "--namespace=default", check=False, timeout=10
        )
        return completed.returncode == 0

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@contextlib.contextmanager
def control_planes(
    bin_dir: Path, work: Path, names: Sequence[str], nodes: Sequence[FakeNode] = ()
) -> Iterator[dict[str, ControlPlane]]:
    """One etcd and a control plane per name, started side by side, each with ``nodes`` (a
    scheduler and kwok) when given; all stopped on exit."""
    etcd = Etcd.start(bin_dir, work / "etcd")
    planes: dict[str, ControlPlane] = {}
    try:
        for name in names:
            planes[name] = ControlPlane.launch(name, bin_dir, work / name, etcd)
        for plane in planes.values():
            plane.wait_for_api_server()
        for plane in planes.values():
            plane.launch_controller_manager()
        for plane in planes.values():
            plane.wait_for_controllers()
        if nodes:
            for plane in planes.values():
                plane.launch_nodes(nodes)
        yield planes
    finally:
        for plane in planes.values():
            plane.stop()
        etcd.process.stop()
