"""Start moto's server so that it can never outlive the process that started it.

Sets PR_SET_PDEATHSIG (Linux): when the parent (the test runner or local/moto/run.ts) dies
for any reason, SIGKILL included, the kernel sends SIGTERM to moto. Applies the patches that
make moto behave as AWS does where the project relies on it (PATCHES below; each module says
what it copies from AWS). `--stock` skips them: tests use it to show what stock moto does.

Usage: launch.py HOST PORT [--stock]
"""

import ctypes
import importlib
import os
import signal
import sys

PR_SET_PDEATHSIG = 1

# Imported in this order; each patches moto on import and stops the start if moto's
# internals it relies on are gone.
PATCHES = (
    "acm_local_ca",  # ACM issues from a local CA; exported chains verify
    "acm_renewal",  # RenewCertificate re-issues; ACM Certificate Available / RENEWAL
    "events_envelope",  # EventBridge targets receive `account` too
    "secretsmanager_deletion",  # a secret scheduled for deletion refuses reads and writes
    "dynamodb_atomic",  # a conditional write and its check are one step, as on AWS
)

USAGE = "usage: launch.py HOST PORT [--stock]"


def main() -> None:
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    positional = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(positional) != 2 or any(f != "--stock" for f in flags):
        sys.exit(USAGE)
    host, port = positional
    if not port.isdigit() or not 0 < int(port) < 65536:
        sys.exit(f"PORT must be a TCP port number, got {port!r}\n{USAGE}")
    parent = os.getppid()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux/glibc: the caller still stops moto by PID
    if os.getppid() != parent:  # parent died before prctl took effect
        sys.exit(0)
    if os.getpid() == 1:
        # PID 1 of a container: the kernel ignores signals it has no handler for, so without
        # this `docker compose down` would wait out its timeout and then SIGKILL moto.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # moto runs in this process (not exec'd) so that the patches apply; the death signal
    # set above stays with this process.
    if "--stock" not in flags:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        for patch in PATCHES:
            importlib.import_module(patch)
    from moto.server import main as moto_main

    moto_main(["-H", host, "-p", port])


if __name__ == "__main__":
    main()
