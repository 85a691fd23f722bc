# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who and where this run is, for the deployment lease: the clock, this host, the pid of the
ansible-playbook that runs it and whether a pid on this host is still a live play."""

from __future__ import annotations

import getpass
import os
import re
import socket
import time

from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import Here

# The process of a play: ansible-playbook, or a versioned script such as ansible-playbook-3.11.
_PLAYBOOK = re.compile(r"^ansible-playbook(-[0-9.]+)?$")
PROC = "/proc"


def clock():
    """Now, in epoch seconds (tests replace it)."""
    return time.time()


def _proc_file(proc, pid, name):
    try:
        with open(os.path.join(proc, str(pid), name), "rb") as handle:
            return handle.read()
    except OSError:
        return None


def cmdline(pid, proc=None):
    """The arguments of process pid; None when there is no such process."""
    raw = _proc_file(proc or PROC, pid, "cmdline")
    return None if raw is None else [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]


def parent_pid(pid, proc=None):
    """The parent of process pid; None when there is no such process."""
    raw = _proc_file(proc or PROC, pid, "stat")
    if raw is None:
        return None
    # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    fields = raw.decode(errors="replace").rsplit(")", 1)[-1].split()
    return int(fields[1]) if len(fields) > 1 else None


def is_playbook(argv):
    """Whether these are the arguments of an ansible-playbook process."""
    return any(_PLAYBOOK.match(os.path.basename(arg)) for arg in argv or ())


def playbook_pid(start=None, proc=None):
    """The pid of the ansible-playbook running this process, or None (not found, or no /proc).

    Walks the ancestors from start (this process) to the nearest whose command line is
    ansible-playbook's. Its workers are forks of it with the same command line and last one task,
    so the walk goes on up while the parent is ansible-playbook too: the pid is the play's.
    """
    proc = proc or PROC
    pid = os.getpid() if start is None else start
    found = None
    while pid and pid > 1:
        argv = cmdline(pid, proc)
        if argv is None:
            break
        if is_playbook(argv):
            found = pid
        elif found is not None:
            break
        pid = parent_pid(pid, proc)
    return found


def playbook_alive(pid, proc=None):
    """Whether pid is a running ansible-playbook; True when this machine cannot tell (no /proc)."""
    proc = proc or PROC
    if not os.path.isdir(proc):
        return True
    return is_playbook(cmdline(pid, proc))


def default_actor():
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return "unknown"


def local_here():
    """What this machine knows now: the time, its name, and which pids are live plays."""
    return Here(now=round(clock(), 3), host=socket.gethostname(), alive=playbook_alive)


def local_holder(actor=None, run_id=None, host=None):
    """The holder of this run: actor and host default to this machine's, pid is the play's."""
    return {
        "actor": actor or default_actor(),
        "run_id": run_id,
        "host": host or socket.gethostname(),
        "pid": playbook_pid(),
    }
