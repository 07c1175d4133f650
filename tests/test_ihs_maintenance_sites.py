"""connections.dr.ihs_maintenance on confs like the real ones, against real Apache httpd: two
Listens, an SSL VirtualHost on its own Listen (Debian's mod_ssl with a throwaway self-signed
certificate, standing in for mod_ibm_ssl), VirtualHosts with their own ``<Location />`` allowing
all, their own ``ErrorDocument 403``, a more specific ``<Location /files>`` allowing all, an
Included file holding a VirtualHost, and RewriteRules that redirect ``/``. For each listener,
host and path: a user outside the allow list gets the maintenance page, the allowed address gets
the site, and after disabling every file is back byte for byte and the site answers as before."""
from __future__ import annotations

import http.client
import ssl
import subprocess
from pathlib import Path

import pytest

from conftest import IhsServer, free_port, play, run_playbook

PAGE = "<html><body><h1>Connections is down for maintenance</h1></body></html>\n"
USER = "127.0.0.1"
ADMIN = "127.0.0.2"
MODULES = "/usr/lib/apache2/modules"
PATHS = ["/", "/homepage", "/communities", "/files", "/activities", "/blogs", "/forums", "/wikis"]


def request(scheme: str, port: int, host: str, path: str, source: str) -> tuple[int, str]:
    """One real request from ``source`` with ``Host: host``: (status, body)."""
    if scheme == "https":
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, source_address=(source, 0),
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source, 0))
    try:
        conn.request("GET", path, headers={"Host": host, "Connection": "close"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


class Site:
    """The stand-in's conf turned into a conf like a real Connections IHS one."""

    def __init__(self, ihs: IhsServer, tmp_path: Path):
        self.ihs = ihs
        root = ihs.root
        self.extra = ihs.conf_path.parent / "extra" / "vhost-included.conf"
        self.extra.parent.mkdir(exist_ok=True)
        ssl_dir = root / "ssl"
        ssl_dir.mkdir(exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=secure.example.com", "-keyout", str(ssl_dir / "key.pem"),
                        "-out", str(ssl_dir / "cert.pem")], check=True, capture_output=True)
        self.plain2 = free_port()
        self.tls = free_port()
        self.extra.write_text(
            f"# A VirtualHost kept in an Included file\n"
            f"<VirtualHost 127.0.0.1:{self.plain2}>\n"
            f"    ServerName included.example.com\n"
            f"    <Location />\n"
            f"        Require all granted\n"
            f"    </Location>\n"
            f"    RewriteEngine on\n"
            f"    RewriteRule ^/$ /communities/ [R=302,L]\n"
            f"</VirtualHost>\n")
        conf = ihs.conf_bytes().decode()
        conf += (
            "\n# --- like a Connections IHS: more Listens, SSL, virtual hosts, rewrites ---\n"
            f"LoadModule rewrite_module {MODULES}/mod_rewrite.so\n"
            f"LoadModule socache_shmcb_module {MODULES}/mod_socache_shmcb.so\n"
            f"LoadModule ssl_module {MODULES}/mod_ssl.so\n"
            "RewriteEngine on\n"
            "RewriteRule ^/$ /homepage/ [R,L]\n"
            f"Listen 127.0.0.1:{self.plain2}\n"
            "<IfModule ssl_module>\n"
            f"Listen 127.0.0.1:{self.tls} https\n"
            "SSLSessionCache shmcb:logs/ssl_scache(512000)\n"
            "</IfModule>\n"
            f"<VirtualHost 127.0.0.1:{self.plain2}>\n"
            "    ServerName own-location.example.com\n"
            "    <Location />\n"
            "        Order allow,deny\n"
            "        Allow from all\n"
            "    </Location>\n"
            "</VirtualHost>\n"
            f"<VirtualHost 127.0.0.1:{self.plain2}>\n"
            "    ServerName errordoc.example.com\n"
            "    ServerAlias www.errordoc.example.com\n"
            '    ErrorDocument 403 "Forbidden, says the virtual host"\n'
            "</VirtualHost>\n"
            f"<VirtualHost 127.0.0.1:{self.plain2}>\n"
            "    ServerName files.example.com\n"
            "    <Location /files>\n"
            "        Order Allow,Deny\n"
            "        Allow from all\n"
            "    </Location>\n"
            "</VirtualHost>\n"
            "Include conf/extra/*.conf\n"
            "<IfModule ssl_module>\n"
            f"<VirtualHost 127.0.0.1:{self.tls}>\n"
            "    ServerName secure.example.com\n"
            "    SSLEngine on\n"
            f"    SSLCertificateFile {ssl_dir}/cert.pem\n"
            f"    SSLCertificateKeyFile {ssl_dir}/key.pem\n"
            "    RewriteEngine on\n"
            "    RewriteRule ^/$ /homepage/ [R,L]\n"
            "    <Location /files>\n"
            "        Require all granted\n"
            "    </Location>\n"
            "</VirtualHost>\n"
            "</IfModule>\n")
        ihs.conf_path.write_text(conf)
        subprocess.run([str(ihs.apachectl), "-k", "graceful"], check=True)
        # (scheme, port, host) of every listener and name; the main server on the first Listen.
        self.endpoints = [("http", ihs.port, f"127.0.0.1:{ihs.port}")]
        for host in ["own-location.example.com", "errordoc.example.com",
                     "www.errordoc.example.com", "files.example.com", "included.example.com"]:
            self.endpoints.append(("http", self.plain2, host))
        self.endpoints.append(("https", self.tls, "secure.example.com"))
        self.wait(lambda: request("https", self.tls, "secure.example.com", "/files/", ADMIN)[0] == 200)

    def files(self) -> dict[Path, bytes]:
        return {p: p.read_bytes() for p in (self.ihs.conf_path, self.extra)}

    def answers(self, source: str) -> dict[tuple, int]:
        return {(s, p, h, path): request(s, p, h, path, source)[0]
                for s, p, h in self.endpoints for path in PATHS}

    @staticmethod
    def wait(ok, timeout: float = 10.0) -> None:
        import time
        deadline = time.monotonic() + timeout
        while True:
            try:
                if ok():
                    return
            except OSError:  # a graceful restart binds the new Listens a moment later
                pass
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.1)


def task(ihs: IhsServer, name: str, **overrides) -> dict:
    args = {"state": "enabled", "conf_path": str(ihs.conf_path), "allow_from": [ADMIN],
            "assets_path": "/assets/", "page_content": PAGE}
    args.update(overrides)
    return {"name": name, "connections.dr.ihs_maintenance": {k: v for k, v in args.items() if v is not None}}


def off(ihs: IhsServer, name: str = "Take IHS out of maintenance mode", **overrides) -> dict:
    return task(ihs, name, state="disabled", allow_from=None, assets_path=None, page_content=None,
                **overrides)


@pytest.fixture
def site(ihs, tmp_path) -> Site:
    return Site(ihs, tmp_path)


def test_every_listener_host_and_path_gets_the_page(site, tmp_path):
    ihs = site.ihs
    before_files = site.files()
    before_user = site.answers(USER)
    # The site as it is: the redirects, the applications, the TLS virtual host.
    assert before_user[("http", ihs.port, f"127.0.0.1:{ihs.port}", "/")] == 302
    assert before_user[("http", site.plain2, "included.example.com", "/")] == 302
    assert before_user[("https", site.tls, "secure.example.com", "/files")] == 301
    assert all(s in (200, 301, 302) for s in before_user.values()), before_user

    run = run_playbook(play(task(ihs, "Put IHS in maintenance mode")), tmp_path)
    assert run.rc == 0, run.stdout + run.stderr
    r = run.task("Put IHS in maintenance mode")
    assert (r["changed"], r["failed"], r["verified"]) == (True, False, True), r
    assert r["probe_source"] == USER
    assert sorted(r["files"]) == sorted(str(p) for p in before_files)
    listeners = {(p["listener"], p["host"]) for p in r["probes"]}
    assert listeners == {(f"{s}://127.0.0.1:{p}", h) for s, p, h in site.endpoints}
    assert len(r["probes"]) == len(site.endpoints) * len(PATHS)
    assert all(p["maintenance"] and p["status"] == 403 for p in r["probes"]), r["probes"]

    # Checked here too, from outside the module: every listener, host and path.
    for (scheme, port, host, path) in before_user:
        assert request(scheme, port, host, path, USER) == (403, PAGE), (scheme, port, host, path)
        status, body = request(scheme, port, host, "/assets/site.css", USER)
        assert status == 200 and body.startswith("/* Connections stand-in site */")
    admin = site.answers(ADMIN)
    assert admin == before_user, "the allowed address must get the site as users did before"
    # Each file holds its own blocks, between markers; the included VirtualHost's block is in it.
    text = site.extra.read_text()
    assert text.count("# BEGIN connections.dr maintenance mode") == 2
    assert "RewriteCond expr \"!(-R '127.0.0.2')\"" in text

    run = run_playbook(play(off(ihs)), tmp_path)
    assert run.rc == 0, run.stdout + run.stderr
    r = run.task("Take IHS out of maintenance mode")
    assert (r["changed"], r["failed"], r["verified"]) == (True, False, True), r
    assert r["msg"] == f"all {len(site.endpoints) * len(PATHS)} probes answer as before maintenance"
    assert all(p["status"] == p["before"] and not p["maintenance"] for p in r["probes"])
    assert site.files() == before_files
    assert site.answers(USER) == before_user


def test_a_virtual_host_in_a_readonly_file_is_refused_before_anything_changes(site, tmp_path):
    ihs = site.ihs
    before = site.files()
    run = run_playbook(play(task(ihs, "Put IHS in maintenance mode", readonly_files=[str(site.extra)])),
                       tmp_path)
    assert run.rc == 2
    r = run.task("Put IHS in maintenance mode")
    assert (r["changed"], r["failed"]) == (False, True)
    # The first place the maintenance lines would have to go in that file: before its rewrite.
    assert r["msg"] == (
        f"enabling maintenance mode: {site.extra}:8: RewriteRule ^/$ /communities/ [R=302,L] "
        f"answers before access control, and {site.extra} is not to be changed (readonly_files): "
        "maintenance mode cannot be put where Apache applies it")
    assert site.files() == before
    assert not (ihs.document_root / "upgrading.htm").exists()
    assert request("http", site.plain2, "included.example.com", "/communities/", USER)[0] == 200


def test_an_if_section_deciding_access_is_refused(site, tmp_path):
    ihs = site.ihs
    conf = ihs.conf_bytes().replace(b"Include conf/extra/*.conf\n",
                                    b"Include conf/extra/*.conf\n<If \"%{HTTP_HOST} == 'x'\">\n"
                                    b"    Require all granted\n</If>\n")
    ihs.conf_path.write_bytes(conf)
    before = site.files()
    line = conf[:conf.index(b"    Require all granted\n</If>")].count(b"\n") + 1
    run = run_playbook(play(task(ihs, "Put IHS in maintenance mode")), tmp_path)
    r = run.task("Put IHS in maintenance mode")
    assert (r["changed"], r["failed"]) == (False, True)
    assert r["msg"] == (
        f"enabling maintenance mode: {ihs.conf_path}:{line}: Require all granted inside "
        "<If %{HTTP_HOST} == 'x'> decides access after every <Location>: maintenance mode cannot "
        "outrank it; move it into a <Location> or take it out during maintenance")
    assert site.files() == before


def test_a_leak_the_editor_cannot_see_is_caught_and_undone(site, tmp_path):
    """A VirtualHost Included through a variable the editor cannot expand, first on its port and
    named like one the editor sees: its <Location /> lets everyone in. The probes get the site,
    the module fails and puts everything back."""
    ihs = site.ihs
    hidden = ihs.conf_path.parent / "hidden"
    hidden.mkdir()
    (hidden / "leak.conf").write_text(
        f"<VirtualHost 127.0.0.1:{site.plain2}>\n    ServerName own-location.example.com\n"
        "    <Location />\n        Order allow,deny\n        Allow from all\n    </Location>\n"
        "</VirtualHost>\n")
    first = f"<VirtualHost 127.0.0.1:{site.plain2}>\n".encode()
    conf = ihs.conf_bytes().replace(
        first, b"Define hidden_dir conf/hidden\nInclude ${hidden_dir}/leak.conf\n" + first, 1)
    ihs.conf_path.write_bytes(conf)
    subprocess.run([str(ihs.apachectl), "-k", "graceful"], check=True)
    site.wait(lambda: b"Allow from all" in conf and
              request("http", site.plain2, "own-location.example.com", "/", USER)[0] == 200)
    before = site.files()

    run = run_playbook(play(task(ihs, "Put IHS in maintenance mode", probe_timeout=3)), tmp_path)
    assert run.rc == 2
    r = run.task("Put IHS in maintenance mode")
    assert (r["changed"], r["failed"], r["verified"]) == (True, True, False)
    assert r["msg"] == (
        f"maintenance mode did not take effect: http://127.0.0.1:{site.plain2} Host "
        "own-location.example.com / answered 200 to 127.0.0.1 (not in allow_from); "
        f"{ihs.conf_path}, {site.extra} put back as before this run, and IHS restarted on them")
    leaked = [p for p in r["probes"] if not p["maintenance"]]
    assert {p["host"] for p in leaked} == {"own-location.example.com"}
    assert {p["status"] for p in leaked} == {200, 301}
    assert site.files() == before
    assert not (ihs.document_root / "upgrading.htm").exists()
    site.wait(lambda: request("http", ihs.port, f"127.0.0.1:{ihs.port}", "/homepage/", USER)[0] == 200)


def test_no_address_outside_the_allow_list_is_said_not_claimed(site, tmp_path):
    ihs = site.ihs
    run = run_playbook(play(task(ihs, "Put IHS in maintenance mode", allow_from=["127.0.0.0/8"])),
                       tmp_path)
    assert run.rc == 0, run.stdout + run.stderr
    r = run.task("Put IHS in maintenance mode")
    assert (r["changed"], r["failed"], r["verified"]) == (True, False, False)
    assert r["probes"] == []
    assert r["msg"] == (
        "maintenance mode is on, but it was not verified from outside: every loopback address "
        "this host could send from is in allow_from (set probe_from to a local address outside it)")
    run = run_playbook(play(off(ihs)), tmp_path)
    r = run.task("Take IHS out of maintenance mode")
    assert (r["changed"], r["failed"], r["verified"]) == (True, False, False)
    assert r["msg"] == ("no probes were recorded when maintenance mode was turned on: what users "
                        "get now was not compared")
