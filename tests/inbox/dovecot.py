"""A real IMAP server for the tests: Debian's dovecot (`make test` installs dovecot-imapd), started
on a free port with a temporary configuration and a passwd-file user, as the current user (as root,
dovecot's own unprivileged users serve the logins and the mail)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "inbox", "inbox-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="aftersales-dovecot-"))
        os.chmod(self.dir, 0o755)  # the login processes run as dovecot's own user when we are root
        self.port = _free_port()
        me = pwd.getpwuid(os.getuid())
        if os.getuid() == 0:
            internal, login = "dovecot", "dovenull"
            owner = pwd.getpwnam("dovecot")
        else:
            internal = login = me.pw_name
            owner = me
        for sub in ("run", "state", "mail", "home"):
            (self.dir / sub).mkdir()
        for sub in ("mail", "home"):
            os.chown(self.dir / sub, owner.pw_uid, owner.pw_gid)
        (self.dir / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        d = self.dir
        (d / "dovecot.conf").write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal if os.getuid() == 0 else _group(me.pw_gid)}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={d}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""")
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(d / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("dovecot did not start: " + (d / "dovecot.log").read_text(errors="replace"))

    def append(self, raw: bytes) -> None:
        import imaplib

        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(USER, PASSWORD)
        typ, _data = client.append("INBOX", None, None, raw)
        assert typ == "OK"
        client.logout()

    def unseen(self) -> int:
        import imaplib

        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(USER, PASSWORD)
        client.select("INBOX")
        _typ, data = client.search(None, "UNSEEN")
        client.logout()
        return len(data[0].split())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _group(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name
