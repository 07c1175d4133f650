"""A test bed of real SSH hosts on this machine, as a deployment has them (admin-surface.md §10).

Each inventory host gets Debian's sshd (started here, no system service) on an address of its own
in 127.0.1.0/24, in a mount namespace of its own (``unshare --mount`` as root), so that each host
can have its own view of the disk where it matters: a folder of the bed is bind-mounted over the
host's ``node`` folder (the one lc_work_dir is in) inside that namespace only. What one host
writes there is not seen by a host with another view until something carries it over.

Who is who:
- ``lcadmin``: the administrator who connects, with a key only (no password login, root may not
  log in), and may use sudo without a password (as a site's administrators do);
- ``wasadmin``: the owner of the WebSphere profile (the simulated cell), who runs wsadmin; no one
  logs in as this user.

Both users are made on first use (``useradd``) and kept; the sudo rule is one file of
/etc/sudoers.d. ``close()`` stops every sshd and every SSH connection master of the bed and checks
that nothing of it is left running or listening. Everything is bounded in time.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ADMIN_USER = "lcadmin"
OWNER_USER = "wasadmin"
SUDOERS = Path("/etc/sudoers.d/lc-recover-tests")
SSHD = Path("/usr/sbin/sshd")
START_TIMEOUT = 10.0


def missing() -> str | None:
    """Why the bed cannot be made on this machine, or None."""
    if os.geteuid() != 0:
        return "the SSH bed needs root (users, mount namespaces)"
    for tool in (str(SSHD), "sudo", "setfacl", "unshare", "ssh", "ssh-keygen", "useradd"):
        if not shutil.which(tool):
            return f"{tool} is missing: `make deps` installs openssh-server, sudo and acl"
    return None


def ensure_user(name: str) -> pwd.struct_passwd:
    """The user ``name``, made if missing: a home, /bin/sh, no password (not locked either, so
    that sshd lets it in with a key)."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], check=True,
                       capture_output=True, timeout=30)
        subprocess.run(["usermod", "-p", "*", name], check=True, capture_output=True, timeout=30)
    return pwd.getpwnam(name)


def ensure_sudo_rule() -> None:
    rule = f"{ADMIN_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n"
    if not SUDOERS.exists() or SUDOERS.read_text() != rule:
        tmp = SUDOERS.with_suffix(".tmp")
        tmp.write_text(rule)
        tmp.chmod(0o440)
        subprocess.run(["visudo", "-cf", str(tmp)], check=True, capture_output=True, timeout=30)
        tmp.rename(SUDOERS)


def free_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def listening(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Host:
    """One SSH host of the bed: its address and port, and the bind mounts of its view."""

    name: str
    address: str
    port: int
    binds: list[tuple[Path, Path]] = field(default_factory=list)
    proc: subprocess.Popen | None = None

    def inventory_vars(self, bed: "SshBed") -> dict:
        return {
            "ansible_host": self.address,
            "ansible_port": self.port,
        }


class SshBed:
    """The hosts ``views`` names, each ``{name: [(source, target), ...]}``: ``source`` is bind-
    mounted over ``target`` in that host's namespace (``target`` must exist)."""

    def __init__(self, base: Path, views: dict[str, list[tuple[Path, Path]]]):
        self.base = base
        self.dir = Path(tempfile.mkdtemp(prefix="ssh-", dir=base))
        self.dir.chmod(0o700)
        self.admin = ensure_user(ADMIN_USER)
        self.owner = ensure_user(OWNER_USER)
        ensure_sudo_rule()
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.key = self.dir / "id_ed25519"
        self.host_key = self.dir / "host_ed25519"
        for path in (self.key, self.host_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lc-recover-tests", "-f", str(path)],
                           check=True, capture_output=True, timeout=30)
        # sshd reads authorized keys as the user, through folders none but root may write
        # (StrictModes): not under /tmp.
        self.keys = Path(tempfile.mkdtemp(prefix="lc-recover-ssh-", dir="/run"))
        self.keys.chmod(0o755)
        keys = self.keys
        (keys / ADMIN_USER).write_text(Path(f"{self.key}.pub").read_text())
        (keys / ADMIN_USER).chmod(0o644)
        self.known_hosts = self.dir / "known_hosts"
        self.hosts: dict[str, Host] = {}
        host_pub = Path(f"{self.host_key}.pub").read_text().split()[:2]
        lines = []
        for i, (name, binds) in enumerate(views.items()):
            address = f"127.0.1.{10 + i}"
            host = Host(name, address, free_port(address), list(binds))
            self.hosts[name] = host
            lines.append(f"[{address}]:{host.port} {' '.join(host_pub)}\n")
        self.known_hosts.write_text("".join(lines))
        self.control_dir = self.dir / "cp"
        self.control_dir.mkdir(mode=0o700)
        try:
            for host in self.hosts.values():
                self._start(host)
        except BaseException:
            self.close()
            raise

    def _config(self, host: Host) -> Path:
        conf = self.dir / f"sshd-{host.name}.conf"
        conf.write_text(
            f"ListenAddress {host.address}:{host.port}\n"
            f"HostKey {self.host_key}\n"
            f"PidFile {self.dir}/sshd-{host.name}.pid\n"
            f"AuthorizedKeysFile {self.keys}/%u\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin no\n"
            f"AllowUsers {ADMIN_USER}\n"
            "UsePAM no\n"
            "StrictModes yes\n"
            "MaxStartups 100\n"
            "MaxSessions 100\n"
            "LogLevel ERROR\n"
            "Subsystem sftp internal-sftp\n"
        )
        return conf

    def _start(self, host: Host) -> None:
        conf = self._config(host)
        subprocess.run([str(SSHD), "-t", "-f", str(conf)], check=True, capture_output=True, timeout=30)
        steps = [f"mount --bind {src} {dst}" for src, dst in host.binds]
        steps.append(f"exec {SSHD} -D -e -f {conf}")
        log = open(self.dir / f"sshd-{host.name}.log", "wb")
        host.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", " && ".join(steps)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not listening(host.address, host.port):
            if host.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sshd of {host.name} did not start: "
                                   + (self.dir / f"sshd-{host.name}.log").read_text(errors="replace"))
            time.sleep(0.05)

    def inventory_vars(self) -> dict:
        """The connection variables every host of the bed shares (group ``all``)."""
        return {
            "ansible_connection": "ssh",
            "ansible_user": ADMIN_USER,
            "ansible_ssh_private_key_file": str(self.key),
            "ansible_ssh_common_args": (f"-o UserKnownHostsFile={self.known_hosts} -o StrictHostKeyChecking=yes "
                                        "-o PasswordAuthentication=no -o BatchMode=yes"),
            "ansible_ssh_args": f"-o ControlMaster=auto -o ControlPersist=60s -o ControlPath={self.control_dir}/%C",
            "ansible_python_interpreter": "/usr/bin/python3",
        }

    def ssh(self, name: str, command: str, *, timeout: float = 30) -> subprocess.CompletedProcess:
        """Runs ``command`` on host ``name`` as the administrator (through sshd, in its view)."""
        host = self.hosts[name]
        return subprocess.run(
            ["ssh", "-i", str(self.key), "-p", str(host.port), "-o", f"UserKnownHostsFile={self.known_hosts}",
             "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ControlMaster=no",
             f"{ADMIN_USER}@{host.address}", command],
            capture_output=True, text=True, timeout=timeout)

    def namespaces(self) -> set[str]:
        """The mount namespaces of the hosts (``mnt:[...]``): a process in one of them runs "on"
        that host (its sessions, sudo, the modules, wsadmin)."""
        found = set()
        for host in self.hosts.values():
            if host.proc and host.proc.poll() is None:
                found.add(os.readlink(f"/proc/{host.proc.pid}/ns/mnt"))
        return found

    def pids(self) -> list[int]:
        """Every process of the bed: those whose command line names its folder (sshd, SSH
        masters) and those of its two users (sessions, modules, wsadmin)."""
        found = []
        marker = str(self.dir).encode()
        uids = {self.admin.pw_uid, self.owner.pw_uid}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if marker in (entry / "cmdline").read_bytes() or entry.stat().st_uid in uids:
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def close(self) -> None:
        """Stops the connection masters and every sshd, waits for them (bounded), and checks that
        nothing of the bed runs or listens any more."""
        for master in self.control_dir.glob("*") if self.control_dir.exists() else []:
            subprocess.run(["ssh", "-o", f"ControlPath={master}", "-O", "exit", "bed"], capture_output=True, timeout=10)
        for host in self.hosts.values():
            if host.proc and host.proc.poll() is None:
                try:
                    os.killpg(host.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for host in self.hosts.values():
            if host.proc:
                try:
                    host.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(host.proc.pid, signal.SIGKILL)
                    host.proc.wait(timeout=5)
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        left = self.pids()
        still = [h.name for h in self.hosts.values() if listening(h.address, h.port)]
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.keys, ignore_errors=True)
        assert not left, f"processes of the SSH bed left running: {left}"
        assert not still, f"the SSH bed still listens for: {still}"
