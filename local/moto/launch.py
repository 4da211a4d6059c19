"""Start moto's server so that it can never outlive the process that started it.

Sets PR_SET_PDEATHSIG (Linux): when the parent (the test runner or local/moto/run.ts) dies
for any reason, SIGKILL included, the kernel sends SIGTERM to moto. Patches moto's ACM to
issue from a local CA (acm_local_ca.py). Usage: launch.py HOST PORT
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main() -> None:
    host, port = sys.argv[1], sys.argv[2]
    parent = os.getppid()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux/glibc: the caller still stops moto by PID
    if os.getppid() != parent:  # parent died before prctl took effect
        sys.exit(0)
    # moto runs in this process (not exec'd) so that the ACM patch applies; the death signal
    # set above stays with this process.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import acm_local_ca  # noqa: F401  (patches moto's ACM on import)
    from moto.server import main as moto_main

    moto_main(["-H", host, "-p", port])


if __name__ == "__main__":
    main()
