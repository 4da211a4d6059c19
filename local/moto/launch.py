"""Start moto_server so that it can never outlive the process that started it.

Sets PR_SET_PDEATHSIG (Linux) before exec: when the parent (the test runner or
local/moto/run.ts) dies for any reason, SIGKILL included, the kernel sends
SIGTERM to moto. Usage: launch.py HOST PORT
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
    moto = os.path.join(os.path.dirname(sys.executable), "moto_server")
    os.execv(moto, [moto, "-H", host, "-p", port])


if __name__ == "__main__":
    main()
