"""A real print system for the printing tests: cupsd started by the test with its own
configuration folder, spool and port, and queues made with `lpadmin` from the PPD of
printer-driver-cups-pdf (a PDF queue; a copy whose A4 printable area leaves 20 mm on every
side, like a laser printer with wide hardware margins).

The queues print to /dev/null (the cups-pdf backend would write into the job owner's home,
outside the test). The spool keeps every job's document and attributes (`PreserveJobFiles`),
so a test reads exactly what the app sent and under which job name. Skipped, with the
reason, where cupsd or lpadmin is missing.
"""

from __future__ import annotations

import getpass
import grp
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sync_support import free_port
from ui.print_queue import use_server

CUPS_PDF_PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
A4_AREA = '*ImageableArea A4/A4: "0 0 595 842"'
WIDE_A4_AREA = '*ImageableArea A4/A4: "57 57 538 785"'  # 20 mm on each side (in points)

CUPSD_CONF = """Listen 127.0.0.1:{port}
LogLevel info
WebInterface No
Browsing No
DefaultAuthType None
PreserveJobFiles Yes
DirtyCleanInterval 0
Printcap
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
    Allow all
  </Limit>
</Policy>
"""
CUPS_FILES_CONF = """ServerRoot {root}/etc
RequestRoot {root}/spool
TempDir {root}/spool/tmp
CacheDir {root}/cache
StateDir {root}/state
AccessLog {root}/log/access_log
ErrorLog {root}/log/error_log
PageLog {root}/log/page_log
ServerBin /usr/lib/cups
DataDir /usr/share/cups
FileDevice Yes
SystemGroup {group}
Sandboxing Relaxed
"""
# Not root (a developer's machine): cupsd cannot change users, so it runs everything as this
# user, as CUPS's own test suite does.
AS_THIS_USER = """User {user}
Group {group}
"""


@dataclass
class CupsServer:
    root: Path
    port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def run(self, *command: str) -> str:
        """A CUPS command-line tool against this server."""
        for _attempt in range(20):
            done = subprocess.run([command[0], "-h", self.address, *command[1:]],
                                  capture_output=True, text=True, timeout=30)
            # cupsd sometimes drops a connection in its first second ("Bad file descriptor")
            if "Unable to connect" not in done.stderr:
                break
            time.sleep(0.2)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
        return done.stdout

    def add_queue(self, name: str, *, wide_margins: bool = False, duplex: bool = False,
                  default: bool = False) -> None:
        ppd = CUPS_PDF_PPD.read_text(encoding="latin-1")
        if wide_margins:
            assert A4_AREA in ppd
            ppd = ppd.replace(A4_AREA, WIDE_A4_AREA)
        if not duplex:
            assert "*Duplex" not in ppd  # the PDF driver has no duplexer
        path = self.root / f"{name}.ppd"
        path.write_text(ppd, encoding="latin-1")
        self.run("lpadmin", "-p", name, "-E", "-v", "file:///dev/null", "-P", str(path))
        if default:
            self.run("lpadmin", "-d", name)

    def documents(self) -> list[Path]:
        """The spooled documents of all jobs so far, oldest first."""
        return sorted((self.root / "spool").glob("d*-001"))

    def jobs(self) -> list[tuple[str, str]]:
        """(queue, job name) of every job so far, oldest first: read from the spooled job
        files (IPP attributes: tag, name length, name, value length, value)."""
        found = []
        for control in sorted((self.root / "spool").glob("c[0-9]*")):
            data = control.read_bytes()
            found.append((_attribute(data, b"job-printer-uri").rsplit("/", 1)[-1],
                          _attribute(data, b"job-name")))
        return found


def _attribute(data: bytes, name: bytes) -> str:
    at = data.find(name)
    if at < 0:
        return ""
    start = at + len(name)
    length = int.from_bytes(data[start:start + 2], "big")
    return data[start + 2:start + 2 + length].decode("utf-8", "replace")


def _require(*programs: str) -> None:
    for program in programs:
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed (Debian: cups, cups-client)")
    if not CUPS_PDF_PPD.exists():
        pytest.skip(f"{CUPS_PDF_PPD} missing (Debian: printer-driver-cups-pdf)")


@contextmanager
def cups_server() -> Iterator[CupsServer]:
    """cupsd on a free port with its configuration and spool in a new folder; this process's
    libcups (and Qt's CUPS plugin) talks to it inside the block.

    The folder is not under pytest's temporary folder: that is private to its owner, and
    cupsd runs its filters as the CUPS user (lp), who must read the spooled documents."""
    _require("cupsd", "lpadmin", "lpstat", "cupsreject")
    root = Path(tempfile.mkdtemp(prefix="clerk-cups-"))
    os.chmod(root, 0o755)
    try:
        with _running(root) as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _running(root: Path) -> Iterator[CupsServer]:
    for sub in ("etc/ppd", "spool/tmp", "cache", "state/certs", "log"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    port = free_port()
    (root / "etc" / "cupsd.conf").write_text(CUPSD_CONF.format(port=port), encoding="utf-8")
    group = "root" if os.geteuid() == 0 else grp.getgrgid(os.getgid()).gr_name
    files_conf = CUPS_FILES_CONF.format(root=root, group=group)
    if os.geteuid() != 0:
        files_conf += AS_THIS_USER.format(user=getpass.getuser(), group=group)
    (root / "etc" / "cups-files.conf").write_text(files_conf, encoding="utf-8")
    daemon = subprocess.Popen(["cupsd", "-f", "-c", str(root / "etc" / "cupsd.conf"),
                               "-s", str(root / "etc" / "cups-files.conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = CupsServer(root, port)
    saved = os.environ.get("CUPS_SERVER")
    try:
        _wait_for(server, daemon)
        os.environ["CUPS_SERVER"] = server.address
        use_server(server.address)
        yield server
    finally:
        use_server(None)
        if saved is None:
            os.environ.pop("CUPS_SERVER", None)
        else:
            os.environ["CUPS_SERVER"] = saved
        daemon.terminate()
        try:
            daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait(10)
        if daemon.stderr:
            daemon.stderr.close()


def _wait_for(server: CupsServer, daemon: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while True:
        if daemon.poll() is not None:
            err = daemon.stderr.read() if daemon.stderr else b""
            raise RuntimeError(f"cupsd ended at start: {err!r}")
        try:
            server.run("lpstat", "-r")
            return
        except subprocess.CalledProcessError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
