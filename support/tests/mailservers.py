"""Real mail servers for the tests, started and stopped by the fixtures themselves.

- :func:`make_tls_files` — a throw-away CA and a server certificate for 127.0.0.1 and
  ``localhost`` (``cryptography``), written as PEM files.
- :class:`Dovecot` — Debian's ``dovecot`` (``dovecot-imapd``, installed by
  ``scripts/system-deps.sh``) in the foreground with its own configuration in a temp
  folder: IMAPS only, on 127.0.0.1, one passwd-file user, Maildir; no system service and
  nothing of ``/etc/dovecot`` is read. As root (CI) the mail user is ``nobody`` (Dovecot
  refuses UID 0 for mail) and the logins run as Debian's ``dovenull``/``dovecot``; as
  another user everything runs as that user.
- :func:`silent_server` — a TCP port that accepts and never says a word.
- :class:`Smtp` — aiosmtpd with STARTTLS or implicit TLS and AUTH, keeping what it received.

Ports come from this area's range, 57300–57319 (the first free one), so these tests
do not meet other servers of the machine.
"""

from __future__ import annotations

import datetime as dt
import grp
import ipaddress
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PORTS = range(57300, 57320)


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 57300-57319 for the mail server tests")


def wait_for_port(port: int, *, timeout: float = 10, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    detail = log.read_text(errors="replace") if log and log.exists() else ""
    raise RuntimeError(f"server on 127.0.0.1:{port} did not start\n{detail}")


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


def make_tls_files(folder: Path) -> TlsFiles:
    """A CA and a server certificate signed by it, valid for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test-CA Support-Postfach")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign, cRLSign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(ca=folder / "ca.pem", cert=folder / "server.pem", key=folder / "server.key")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    os.chmod(files.key, 0o600)
    return files


# --- Dovecot --------------------------------------------------------------------------------

DOVECOT_CONF = """\
# Written by support/tests/mailservers.py for one test run; nothing else is read.
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
instance_name = vendorportal-test-{port}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
# No auth penalty: anvil would delay every login from 127.0.0.1 after a failed one (2 s,
# doubling up to 15 s, longer than the tests' timeout); the tests fail logins on purpose.
# The auth process cannot open this socket, and without it no penalty is looked up.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@dataclass
class Dovecot:
    """One Dovecot instance with the user ``user``/``password`` and its Maildir."""

    base: Path
    port: int
    tls: TlsFiles
    user: str = "support@vendor.example"
    password: str = "Postfach-geheim"
    # A second user whose password is not ASCII (imaplib's LOGIN cannot send it).
    user_with_umlauts: str = "helpdesk@vendor.example"
    password_with_umlauts: str = "Schlüssel-Größe"
    proc: subprocess.Popen | None = None
    mail_uid: int = field(default_factory=os.geteuid)
    mail_gid: int = field(default_factory=os.getegid)

    @property
    def maildir(self) -> Path:
        return self.base / "home" / self.user / "Maildir"

    def url(
        self, *, user: str | None = None, password: str | None = None, folder: str = "INBOX", port: int | None = None
    ) -> str:
        from urllib.parse import quote

        login = self.user if user is None else user
        secret = self.password if password is None else password
        return f"imaps://{quote(login, safe='')}:{quote(secret, safe='')}@127.0.0.1:{port or self.port}/{folder}"

    def deliver(self, raw: bytes) -> None:
        """Put a message into the INBOX as the local delivery agent would (Maildir ``new``)."""
        for sub in ("new", "cur", "tmp"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}.test.{os.getpid()}"
        path = self.maildir / "tmp" / name
        path.write_bytes(raw)
        os.replace(path, self.maildir / "new" / name)
        self._own(self.base / "home")

    def _own(self, top: Path) -> None:
        if os.geteuid() == 0:
            for root, dirs, files in os.walk(top):
                for entry in [root, *(os.path.join(root, n) for n in dirs + files)]:
                    os.chown(entry, self.mail_uid, self.mail_gid)

    def start(self) -> None:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not os.path.exists(binary):
            raise RuntimeError("dovecot is not installed: apt-get install dovecot-imapd (scripts/system-deps.sh)")
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self.mail_uid, self.mail_gid = nobody.pw_uid, nobody.pw_gid
            internal_user, internal_group, login_user = "dovecot", "dovecot", "dovenull"
        else:
            me = pwd.getpwuid(os.geteuid())
            internal_user = login_user = me.pw_name
            internal_group = grp.getgrgid(me.pw_gid).gr_name
        for sub in ("run", "state", "home"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        (self.base / "passwd").write_text(
            f"{self.user}:{{PLAIN}}{self.password}::::::\n"
            f"{self.user_with_umlauts}:{{PLAIN}}{self.password_with_umlauts}::::::\n",
            encoding="utf-8",
        )
        conf = self.base / "dovecot.conf"
        conf.write_text(
            DOVECOT_CONF.format(
                base=self.base,
                port=self.port,
                cert=self.tls.cert,
                key=self.tls.key,
                uid=self.mail_uid,
                gid=self.mail_gid,
                internal_user=internal_user,
                internal_group=internal_group,
                login_user=login_user,
            )
        )
        if os.geteuid() == 0:
            # The auth process (user dovecot) reads passwd; the mail process (nobody) its home.
            os.chmod(self.base, 0o755)
            os.chmod(self.base / "passwd", 0o644)
            self._own(self.base / "home")
        self.deliver_folder_ready()
        self.proc = subprocess.Popen(
            [binary, "-F", "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.base / "dovecot.stderr", "wb"),  # noqa: SIM115 - closed with the process
        )
        try:
            wait_for_port(self.port, proc=self.proc, log=self.base / "dovecot.log")
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n{(self.base / 'dovecot.stderr').read_text(errors='replace')}") from None

    def deliver_folder_ready(self) -> None:
        for sub in ("new", "cur", "tmp"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        self._own(self.base / "home")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


def _start_on_a_free_port(start, attempts: int = 5):
    """``start(port)`` on the first free port; again on another one when a concurrent test
    process took it between the probe and the server's bind."""
    for attempt in range(attempts):
        try:
            return start(free_port())
        except (RuntimeError, OSError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2)


@contextmanager
def dovecot_server():
    base = Path(tempfile.mkdtemp(prefix="vendorportal-dovecot-"))
    try:
        tls = make_tls_files(base)

        def start(port):
            candidate = Dovecot(base=base, port=port, tls=tls)
            candidate.start()
            return candidate

        server = _start_on_a_free_port(start)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def silent_server():
    """A port that accepts TCP connections and never sends or reads a byte."""

    def start(port):
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            raise
        return sock

    listener = _start_on_a_free_port(start)
    listener.listen(8)  # the kernel completes the handshake; nobody ever answers
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


# --- SMTP -----------------------------------------------------------------------------------


@dataclass
class Smtp:
    """aiosmtpd on 127.0.0.1: ``mode`` "starttls" (submission, port 587 style) or "tls"
    (implicit TLS, port 465 style); AUTH required; received messages in ``messages``."""

    tls: TlsFiles
    mode: str
    user: str = "portal@vendor.example"
    password: str = "smtp-geheim"
    messages: list = field(default_factory=list)
    port: int = 0
    controller: object = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.tls.cert, self.tls.key)
        received = self.messages

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                received.append(envelope)
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
                self.user.encode(),
                self.password.encode(),
            )
            return AuthResult(success=ok)

        kwargs = dict(
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticator,
            auth_required=True,
            ready_timeout=10,
        )
        if self.mode == "tls":
            # The whole session is TLS; aiosmtpd's auth_require_tls means STARTTLS only (and
            # warns about it on each connection: filtered in the test module).
            kwargs.update(ssl_context=context, auth_require_tls=False)
        else:
            kwargs.update(tls_context=context, require_starttls=True, auth_require_tls=True)
        self.controller = Controller(Handler(), **kwargs)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()


@contextmanager
def smtp_server(tls: TlsFiles, mode: str):
    def start(port):
        candidate = Smtp(tls=tls, mode=mode, port=port)
        candidate.start()
        return candidate

    server = _start_on_a_free_port(start)
    try:
        yield server
    finally:
        server.stop()
