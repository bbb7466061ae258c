"""A throwaway Dovecot IMAP server on loopback ports, for tests (no Django needed).

    with DovecotServer() as server:
        server.add_user("noc@example.com", "pw")
        server.append("noc@example.com", raw_bytes, internal_date=datetime(...))
        url = f"imap://{server.host}:{server.imaps_port}"   # ca_file=server.ca_file

Runs as root (Dovecot drops to the `dovecot` user for mail access). To cut a connection after N
bytes sent by the server, put `tests.servers.fault_proxy.FaultProxy` in front of the plaintext port.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import ipaddress
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from imapclient import IMAPClient

from tests.servers.ports import LOOPBACK, free_port, wait_for_port


class DovecotUnavailable(RuntimeError):
    """Dovecot is not installed and could not be installed."""


def _dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)), None
    )


def ensure_dovecot_installed() -> str:
    """Return the dovecot binary, installing Debian's dovecot-imapd with apt-get if needed."""
    binary = _dovecot_binary()
    if binary:
        return binary
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        result = subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "dovecot-imapd"],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise DovecotUnavailable(f"dovecot is missing and apt-get could not run: {exc}") from exc
    binary = _dovecot_binary()
    if result.returncode != 0 or not binary:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise DovecotUnavailable(f"dovecot is missing and `apt-get install dovecot-imapd` failed: {' | '.join(tail)}")
    return binary


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """Write a throwaway CA and a server certificate for 127.0.0.1/localhost; return (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA (throwaway)")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
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
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file


_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
listen = {host}
protocols = imap
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_uid = dovecot
mail_gid = dovecot
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {imaps_port}
    ssl = yes
  }}
}}
"""


class DovecotServer:
    """A real Dovecot in a temporary folder, listening on free loopback ports."""

    host = LOOPBACK

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="test-dovecot-"))
        self.root.chmod(0o755)  # the dovecot user must reach the mail folders below
        self.imap_port = free_port()
        self.imaps_port = free_port()
        self._users: dict[str, str] = {}
        self._passwd_stamp = 0
        self._process: subprocess.Popen | None = None
        self._dovecot = pwd.getpwnam("dovecot") if self._has_user("dovecot") else None
        self.ca_file: str = ""
        atexit.register(self.stop)

    @staticmethod
    def _has_user(name: str) -> bool:
        try:
            pwd.getpwnam(name)
        except KeyError:
            return False
        return True

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> DovecotServer:
        """Write the configuration and start Dovecot in the foreground; wait until it listens."""
        if self._process is not None:
            return self
        binary = ensure_dovecot_installed()
        self._dovecot = pwd.getpwnam("dovecot")
        ca_file, cert, key = make_certificates(self.root)
        self.ca_file = str(ca_file)
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(exist_ok=True)
        os.chown(self.root / "mail", self._dovecot.pw_uid, self._dovecot.pw_gid)
        for email in self._users:
            self._make_maildir(email)
        self._write_passwd()
        config = self.root / "dovecot.conf"
        config.write_text(
            _CONFIG.format(
                root=self.root,
                host=self.host,
                cert=cert,
                key=key,
                imap_port=self.imap_port,
                imaps_port=self.imaps_port,
            )
        )
        self._process = subprocess.Popen(
            [binary, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            wait_for_port(self.imap_port)
            wait_for_port(self.imaps_port)
        except OSError:
            err = self._process.stderr.read().decode(errors="replace") if self._process.poll() is not None else ""
            log = self.log()
            self.stop()
            raise RuntimeError(f"dovecot did not start: {err.strip()} {log[-2000:]}") from None
        return self

    def stop(self) -> None:
        """Stop Dovecot and delete the temporary folder (safe to call twice)."""
        process, self._process = self._process, None
        if process is not None:
            pid_file = self.root / "run" / "master.pid"
            pid = process.pid
            with contextlib.suppress(OSError, ValueError):
                pid = int(pid_file.read_text().strip())
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            if process.stderr:
                process.stderr.close()
        if self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def log(self) -> str:
        """Dovecot's log so far (for failing tests)."""
        try:
            return (self.root / "dovecot.log").read_text(errors="replace")
        except OSError:
            return ""

    # -- users and mail ---------------------------------------------------------------------

    def maildir_path(self, user: str) -> Path:
        """The user's Maildir on disk (owned by the dovecot user)."""
        return self.root / "mail" / user / "Maildir"

    def _make_maildir(self, user: str) -> None:
        home = self.root / "mail" / user
        paths = [home, self.maildir_path(user)] + [self.maildir_path(user) / s for s in ("cur", "new", "tmp")]
        for path in paths:
            path.mkdir(parents=True, exist_ok=True)
            if self._dovecot:
                os.chown(path, self._dovecot.pw_uid, self._dovecot.pw_gid)

    def _write_passwd(self) -> None:
        lines = "".join(f"{email}:{{PLAIN}}{password}\n" for email, password in self._users.items())
        tmp = self.root / "passwd.tmp"
        tmp.write_text(lines)
        tmp.chmod(0o644)
        # Dovecot re-reads the file when its mtime (in whole seconds) changes: make every
        # version's mtime distinct even when users are added within the same second.
        self._passwd_stamp = max(int(time.time()), self._passwd_stamp + 1)
        os.utime(tmp, (self._passwd_stamp, self._passwd_stamp))
        tmp.replace(self.root / "passwd")
        if self._process is not None:
            # The auth process looks at the file at most once per second (per its clock's
            # whole second): wait for the next second so the next login sees the change.
            time.sleep(1.02 - time.time() % 1)

    def add_user(self, email: str, password: str) -> None:
        """Create (or change the password of) a mailbox user; works before or after start()."""
        if ":" in email or ":" in password or "\n" in password:
            raise ValueError("':' and newlines are not allowed in a passwd-file entry")
        self._users[email] = password
        if self._process is not None:
            self._make_maildir(email)
            self._write_passwd()

    def client(self, user: str) -> IMAPClient:
        """A logged-in IMAPClient for `user` on the plaintext port (the caller logs out)."""
        client = IMAPClient(self.host, port=self.imap_port, ssl=False, timeout=30)
        client.login(user, self._users[user])
        return client

    def append(
        self,
        user: str,
        raw: bytes,
        folder: str = "INBOX",
        internal_date: dt.datetime | None = None,
        flags: tuple = (),
    ) -> int | None:
        """APPEND one message as `user` (creating the folder if needed); return its UID if known."""
        client = self.client(user)
        try:
            if folder.upper() != "INBOX" and not client.folder_exists(folder):
                client.create_folder(folder)
            answer = client.append(folder, raw, flags=flags, msg_time=internal_date)
        finally:
            client.logout()
        match = re.search(rb"APPENDUID \d+ (\d+)", answer or b"")
        return int(match.group(1)) if match else None

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        """The folder's current UIDVALIDITY."""
        client = self.client(user)
        try:
            return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])
        finally:
            client.logout()

    def set_uidvalidity_change(self, user: str, folder: str = "INBOX") -> int:
        """Give `folder` a new UIDVALIDITY, keeping its messages (with their dates and flags).

        Other folders are deleted and recreated over IMAP; INBOX cannot be deleted, so its
        Dovecot index and UID list are removed on disk instead. Returns the new UIDVALIDITY.
        """
        old = self.uidvalidity(user, folder)
        if folder.upper() == "INBOX":
            for _ in range(30):
                for path in self.maildir_path(user).glob("dovecot*"):
                    if path.is_file() and (path.name == "dovecot-uidlist" or path.name.startswith("dovecot.index")):
                        path.unlink()
                new = self.uidvalidity(user, folder)
                if new != old:
                    return new
                time.sleep(0.2)  # Dovecot derives UIDVALIDITY from the clock
            raise RuntimeError("UIDVALIDITY of INBOX did not change")
        client = self.client(user)
        try:
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            saved = client.fetch(uids, [b"BODY.PEEK[]", b"INTERNALDATE", b"FLAGS"]) if uids else {}
            client.unselect_folder()
            client.delete_folder(folder)
            client.create_folder(folder)
            for uid in sorted(saved):
                data = saved[uid]
                flags = tuple(f for f in data[b"FLAGS"] if f != b"\\Recent")
                client.append(folder, data[b"BODY[]"], flags=flags, msg_time=data[b"INTERNALDATE"])
        finally:
            client.logout()
        new = self.uidvalidity(user, folder)
        if new == old:
            raise RuntimeError(f"UIDVALIDITY of {folder} did not change")
        return new
