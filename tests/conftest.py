"""Shared helpers of the Ansible-level tests.

- ``built`` (session fixture): the release binaries installed in the collection (``make build``),
  unless ``LC_NO_BUILD=1`` says the caller built them already (``make test-ansible`` does).
- ``binary(name)``: the path of a release binary (``lc-sim``, a module).
- ``run_playbook(plays, tmp_path, ...)``: runs real ``ansible-playbook`` with the repository's
  ansible.cfg and returns a :class:`PlaybookRun` whose ``task(name)`` is the exact result dict
  (``changed``, ``failed``, ``msg``, module keys).
- ``lc_sim(*args)``: runs ``lc-sim`` (checked; output captured as text).
- ``free_port()``: a free TCP port on 127.0.0.1.
- :class:`TestCA`: a throwaway certificate authority made with openssl (``issue(...)`` signs a
  server certificate for loopback addresses); :class:`TlsRelay` puts TLS with such a certificate
  in front of a plain TCP service on loopback, for as long as a ``with`` block runs.
- :class:`Poller`: a ``with`` block during which a daemon thread calls ``poll()`` every few
  milliseconds (something watched, or time passing on the cell, while a run goes on).
- :class:`Cell` (``cell_factory``, ``cell``): a simulated cell; ``DIALECTS`` names the layouts
  ``lc-sim init --dialect`` lays out (``Cell.dialect``, and ``Cell.wsadmin()`` adds
  ``admin_scripts_dir`` for a cell whose admin scripts only that option finds).
- :class:`IhsServer` and the ``ihs`` / ``ihs_no_compat`` fixtures: a real Apache httpd IHS
  stand-in laid out with ``lc-sim ihs new`` in a temporary folder, started and stopped with
  ``lc-sim ihs start/stop``; ``get(path, source=...)`` and ``wait_for(...)`` make real HTTP requests
  from a chosen loopback address.
- :class:`SmtpServer` (``smtp_factory``): a real SMTP server (aiosmtpd) on a loopback port that
  keeps every message it accepts, optionally with STARTTLS (a certificate of ``test_ca``, the
  session's :class:`TestCA`), a required login, and recipients it refuses; stopped after the
  test, nothing left listening.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Where cargo puts the binaries: the explicit target of .cargo/config.toml (static builds).
RELEASE = REPO / "target" / "x86_64-unknown-linux-gnu" / "release"
MODULES_DIR = REPO / "ansible" / "plugins" / "modules"
COLLECTION_LINK = REPO / "build" / "collections" / "ansible_collections" / "connections" / "dr"
CALLBACKS = Path(__file__).resolve().parent / "plugins" / "callback"
VENV_BIN = Path(sys.executable).parent


class Poller:
    """While the ``with`` block runs, a daemon thread calls :meth:`poll` at once and then every
    ``interval`` seconds; leaving the block stops it and waits for it."""

    interval = 0.5

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def poll(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while True:
            self.poll()
            if self._stop.wait(self.interval):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def binary(name: str) -> Path:
    """A release binary: ``lc-sim`` or a module name."""
    path = RELEASE / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make build`")
    return path


def lc_sim(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess:
    """Runs the simulated cell's command line, e.g. ``lc_sim("ihs", "start", root)``."""
    return subprocess.run([str(binary("lc-sim")), *map(str, args)], check=check,
                          capture_output=True, text=True)


@pytest.fixture(scope="session")
def built() -> Path:
    """Makes sure the binaries are built and installed beside their docs; returns the collection."""
    if os.environ.get("LC_NO_BUILD") != "1":
        subprocess.run(["make", "--no-print-directory", "-s", "build"], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
    assert COLLECTION_LINK.exists(), f"{COLLECTION_LINK} missing: run `make build`"
    return COLLECTION_LINK


def free_port() -> int:
    """A TCP port nothing listens on at the moment (127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestCA:
    """A certificate authority of its own, made with openssl in ``folder``: ``cert`` is the PEM a
    client is told to trust (``ca_path``); ``issue`` signs a server certificate for the given IP
    addresses (subjectAltName), returning the certificate and key paths."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, folder: Path, name: str = "lc-recover test CA"):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.key = folder / "ca-key.pem"
        self.cert = folder / "ca.pem"
        self._openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                      "-subj", f"/CN={name}", "-keyout", self.key, "-out", self.cert,
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    @staticmethod
    def _openssl(*args: str | Path) -> None:
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)

    def issue(self, name: str, *ips: str) -> tuple[Path, Path]:
        key, csr, cert = (self.folder / f"{name}-{part}.pem" for part in ("key", "csr", "cert"))
        ext = self.folder / f"{name}.ext"
        ext.write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                       "extendedKeyUsage=serverAuth\n"
                       f"subjectAltName={','.join(f'IP:{ip}' for ip in ips)}\n")
        self._openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                      "-keyout", key, "-out", csr)
        self._openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                      "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", cert)
        return cert, key


class TlsRelay:
    """TLS on ``host``:<free port> with ``cert``/``key``, each connection relayed as plain TCP to
    127.0.0.1:``backend``. ``url`` is its https:// address. Stops, and closes every connection,
    when the ``with`` block ends."""

    def __init__(self, cert: Path, key: Path, backend: int, host: str = "127.0.0.1"):
        import ssl

        self.backend = backend
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.listener = socket.create_server((host, 0))
        self.listener.settimeout(0.2)
        self.url = f"https://{host}:{self.listener.getsockname()[1]}"
        self.handshakes_failed = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []

    def __enter__(self) -> "TlsRelay":
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for s in list(self._socks):
            try:
                s.close()
            except OSError:
                pass
        for t in self._threads:
            t.join(timeout=5)
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self.listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(raw,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, raw: socket.socket) -> None:
        import select
        import ssl

        self._socks.append(raw)
        raw.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshakes_failed += 1
            raw.close()
            return
        back = socket.create_connection(("127.0.0.1", self.backend), timeout=10)
        self._socks.append(back)
        try:
            while not self._stop.is_set():
                ready = [tls] if tls.pending() else select.select([tls, back], [], [], 0.2)[0]
                for src, dst in ((tls, back), (back, tls)):
                    if src in ready:
                        data = src.recv(65536)
                        if not data:
                            return
                        dst.sendall(data)
        except (ssl.SSLError, OSError):
            return
        finally:
            tls.close()
            back.close()


@dataclass
class PlaybookRun:
    """One ``ansible-playbook`` run: exit status, output and every task result."""

    rc: int
    stdout: str
    stderr: str
    results: list[dict] = field(default_factory=list)

    def tasks(self, name: str) -> list[dict]:
        """The results of the tasks called ``name`` (several hosts, or a task run more than once)."""
        return [r["result"] for r in self.results if r["task"] == name]

    def task(self, name: str) -> dict:
        """The result of the one task called ``name``."""
        found = self.tasks(name)
        assert len(found) == 1, f"task {name!r}: {len(found)} results\n{self.stdout}\n{self.stderr}"
        return found[0]

    def status(self, name: str) -> str:
        return next(r["status"] for r in self.results if r["task"] == name)


def ansible_env(extra: dict | None = None) -> dict:
    """The environment of an Ansible command run by a test: the repository's ansible.cfg, the
    test callback, no colour."""
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
        "ANSIBLE_CALLBACKS_ENABLED": "lc_results",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "PATH": f"{VENV_BIN}{os.pathsep}{RELEASE}{os.pathsep}{env.get('PATH', '')}",
    })
    env.update(extra or {})
    return env


def run_playbook(plays: list[dict] | str | Path, tmp_path: Path, *, inventory: str | None = None,
                 extra_vars: dict | None = None, check: bool = False, diff: bool = False,
                 args: list[str] | None = None, env: dict | None = None,
                 timeout: int = 600) -> PlaybookRun:
    """Runs real ``ansible-playbook``. ``plays`` is a list of plays (written as YAML; JSON is YAML),
    the path of a playbook or the FQCN of a collection's playbook (``connections.dr.recover``).
    Without ``inventory``, the play runs on ``localhost`` over the local connection."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    if isinstance(plays, (str, Path)) and (Path(plays).exists() or re.fullmatch(r"\w+\.\w+\.\w+", str(plays))):
        playbook = plays
    else:
        playbook = Path(tempfile.mkstemp(prefix="playbook-", suffix=".yml", dir=tmp_path)[1])
        playbook.write_text(json.dumps(plays, indent=2))
    results_file = Path(tempfile.mkstemp(prefix="results-", suffix=".jsonl", dir=tmp_path)[1])
    cmd = [str(VENV_BIN / "ansible-playbook"), str(playbook)]
    if inventory is None:
        cmd += ["-i", "localhost,", "-c", "local"]
    else:
        cmd += ["-i", inventory]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    cmd += args or []
    proc = subprocess.run(cmd, cwd=REPO, env=ansible_env({"LC_RESULTS_FILE": str(results_file), **(env or {})}),
                          capture_output=True, text=True, timeout=timeout)
    results = [json.loads(line) for line in results_file.read_text().splitlines() if line.strip()]
    for r in results:
        # ansible-core drops `failed: false` from results it passes on; the status says it.
        r["result"].setdefault("failed", r["status"] == "failed")
        r["result"].setdefault("changed", False)
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, results)


def play(*tasks: dict, name: str = "Test play", hosts: str = "localhost") -> list[dict]:
    """A one-play playbook without fact gathering."""
    return [{"name": name, "hosts": hosts, "gather_facts": False, "tasks": list(tasks)}]


class IhsServer:
    """A running IHS stand-in (real Apache httpd) laid out by ``lc-sim ihs new``."""

    def __init__(self, info: dict):
        self.info = info
        self.name: str = info["name"]
        self.root = Path(info["root"])
        self.conf_path = Path(info["conf_path"])
        self.apachectl = Path(info["apachectl"])
        self.document_root = Path(info["document_root"])
        self.port: int = info["port"]

    @classmethod
    def new(cls, base: Path, name: str = "ihs1", access_compat: bool = True) -> "IhsServer":
        args = ["ihs", "new", base / name, "--name", name, "--port", str(free_port())]
        if not access_compat:
            args.append("--no-access-compat")
        return cls(json.loads(lc_sim(*args).stdout))

    def start(self) -> None:
        lc_sim("ihs", "start", self.root)

    def stop(self) -> None:
        lc_sim("ihs", "stop", self.root)

    def conf_bytes(self) -> bytes:
        return self.conf_path.read_bytes()

    def get(self, path: str, source: str = "127.0.0.1") -> tuple[int, str]:
        """One real HTTP request from the loopback address ``source``: (status, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5, source_address=(source, 0))
        try:
            conn.request("GET", path, headers={"Connection": "close"})
            resp = conn.getresponse()
            return resp.status, resp.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def wait_for(self, path: str, status: int, source: str = "127.0.0.1", timeout: float = 10.0) -> tuple[int, str]:
        """Polls until ``path`` answers ``status`` to ``source`` (a graceful restart takes up to a
        second); returns the last (status, body) either way."""
        deadline = time.monotonic() + timeout
        last = (0, "")
        while True:
            try:
                last = self.get(path, source)
            except OSError:
                last = (0, "")
            if last[0] == status or time.monotonic() > deadline:
                return last
            time.sleep(0.1)


@pytest.fixture
def ihs_factory(built):
    """Makes started IHS stand-ins in a folder others may enter (httpd's children run as
    www-data when the tests run as root); stops and removes them afterwards."""
    servers: list[IhsServer] = []
    base = Path(tempfile.mkdtemp(prefix="lc-ihs-"))
    base.chmod(0o755)

    def make(name: str = "ihs1", access_compat: bool = True) -> IhsServer:
        server = IhsServer.new(base, name, access_compat)
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        try:
            server.stop()
        except subprocess.CalledProcessError:
            pass
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def ihs(ihs_factory) -> IhsServer:
    """A started IHS stand-in whose conf loads mod_access_compat."""
    return ihs_factory("ihs1")


@pytest.fixture
def ihs_no_compat(ihs_factory) -> IhsServer:
    """A started IHS stand-in on Apache 2.4 without mod_access_compat."""
    return ihs_factory("ihs2", access_compat=False)


# The dialects of lc-sim (`lc-sim init --dialect`): the default first.
DIALECTS = ["lcsim", "classic", "modern", "compact"]


class Cell:
    """A simulated Connections cell laid out by ``lc-sim init``: its connection facts, its ground
    truth and counters, and its faults."""

    def __init__(self, root: Path):
        self.root = root
        self.info: dict = json.loads((root / "cell.json").read_text())
        self.wsadmin_path: str = self.info["wsadmin_path"]
        self.user: str = self.info["admin_user"]
        self.password: str = self.info["admin_password"]

    @classmethod
    def init(cls, root: Path, *args: str | int) -> "Cell":
        lc_sim("init", root, *map(str, args))
        return cls(root)

    @property
    def dialect(self) -> str:
        """The layouts the cell speaks (``lc-sim init --dialect``)."""
        return self.info.get("dialect", "lcsim")

    def admin_scripts_dir(self) -> str | None:
        """The ``admin_scripts_dir`` this cell needs: the folder of its admin scripts when it is
        neither the profile's ``bin`` nor its ``config/bin_lc_admin`` (where the modules look by
        themselves); else None."""
        profile = Path(self.info["profile_bin"]).parent
        folder = Path(self.info.get("admin_scripts_dir") or self.info["profile_bin"])
        if folder in (profile / "bin", profile / "config" / "bin_lc_admin"):
            return None
        return str(folder)

    def wsadmin(self, **extra) -> dict:
        """The wsadmin options of an lc_* task for this cell (credentials included, and
        ``admin_scripts_dir`` where the cell needs it)."""
        opts = {"wsadmin_path": self.wsadmin_path, "user": self.user, "password": self.password}
        scripts = self.admin_scripts_dir()
        if scripts:
            opts["admin_scripts_dir"] = scripts
        return {**opts, **extra}

    def damage(self, *restore: str, backup_age: int | None = None, trash: int | None = None) -> dict:
        args: list[str] = ["damage", str(self.root), "--restore", *restore]
        if backup_age is not None:
            args += ["--backup-age", str(backup_age)]
        if trash is not None:
            args += ["--trash", str(trash)]
        return json.loads(lc_sim(*args).stdout)

    def truth(self) -> dict:
        return json.loads(lc_sim("truth", self.root).stdout)

    def status(self) -> dict:
        return json.loads(lc_sim("status", self.root).stdout)

    def launches(self) -> int:
        return int(self.status()["launches"])

    def fault(self, *args: str) -> None:
        lc_sim("fault", self.root, *args)

    def state_bytes(self) -> dict[str, bytes]:
        """Every state file, byte for byte (to prove that nothing changed)."""
        return {p.name: p.read_bytes() for p in sorted((self.root / "state").glob("*.json"))
                if p.name != "meta.json"}


@pytest.fixture
def cell_factory(built, tmp_path):
    """Makes simulated cells under the test's temporary folder: ``cell_factory(name, *init_args)``."""
    def make(name: str = "cell", *args: str | int) -> Cell:
        return Cell.init(tmp_path / name, *args)
    return make


@pytest.fixture
def cell(cell_factory) -> Cell:
    """A cell of 200 communities (every application of HCL Connections 8)."""
    return cell_factory("cell", "--communities", 200)


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory) -> TestCA:
    """A :class:`TestCA` for the session; ``test_ca.server`` is the (cert, key) it issued for
    127.0.0.1."""
    ca = TestCA(tmp_path_factory.mktemp("ca"))
    ca.server = ca.issue("server", "127.0.0.1")
    return ca


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a free loopback port, in a thread of its own. It keeps
    each message it accepts as (envelope sender, recipients, bytes as received); ``refuse`` are
    recipients it answers 550; with ``tls`` (certificate, key) it offers STARTTLS and requires
    it; with ``login`` (user, password) it requires AUTH over TLS. Once ``close_after`` messages
    are accepted (an attribute; None: never), it answers the next DATA with 421, a server ending
    the session."""

    def __init__(self, tls: tuple[Path, Path] | None = None, login: tuple[str, str] | None = None,
                 refuse: tuple[str, ...] = ()):
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.received: list[tuple[str, list[str], bytes]] = []
        self.close_after: int | None = None
        self.port = free_port()
        self.host = "127.0.0.1"
        refused = {a.lower() for a in refuse}
        server = self

        class Handler:
            async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
                if address.lower() in refused:
                    return f"550 5.1.1 <{address}>: no such user here"
                envelope.rcpt_tos.append(address)
                return "250 2.1.5 OK"

            async def handle_DATA(self, smtp, session, envelope):
                if server.close_after is not None and len(server.received) >= server.close_after:
                    return "421 4.3.2 Service shutting down"
                server.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
                return "250 2.0.0 queued"

        def authenticator(smtp, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and login is not None
                  and (auth_data.login, auth_data.password) == (login[0].encode(), login[1].encode()))
            return AuthResult(success=ok, handled=False)

        params: dict = {}
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            params.update(tls_context=context, require_starttls=True)
        if login is not None:
            params.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)
        self.controller = Controller(Handler(), hostname=self.host, port=self.port, ready_timeout=10, **params)
        self.controller.start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        self.controller.stop()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            assert s.connect_ex((self.host, self.port)) != 0, f"something still listens on {self.address}"


@pytest.fixture
def smtp_factory():
    """Starts SMTP servers (``smtp_factory(ca=..., login=..., refuse=...)``); stops them all."""
    servers: list[SmtpServer] = []

    def make(**kwargs) -> SmtpServer:
        server = SmtpServer(**kwargs)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
