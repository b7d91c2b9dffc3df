"""Processes that save jobs to a jobs file, one save per new job, for fault tests.

`python -m tests.store.jobs_writer run PATH PREFIX COUNT` adds jobs `PREFIX-0`,
`PREFIX-1`, ... one at a time and saves all of its jobs after each, as the app
does. It prints `ready` first, then `saved NAME` after each save returns, so the
parent can tell which jobs are on disk.

`python -m tests.store.jobs_writer fork PATH` starts writers quickly: for each
line `start PREFIX` on its input it forks a writer with no end and prints
`pid PREFIX PID`. The parent kills that writer, then sends `reap PREFIX PID`;
the reply `reaped PREFIX` comes after every line the writer printed.

The fork server and its writers share one pipe, so every line goes out in one
write call (see `emit`).
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from plexe_tui.store import Job, JobStore

SERVER = "http://127.0.0.1:8765"


def emit(line: str) -> None:
    """Write one line to standard output with a single write call.

    print() sends the text and the newline in two calls when Python runs
    unbuffered (PYTHONUNBUFFERED or -u). A writer killed between them, or the
    fork server writing in between, then joins two lines into one, and the
    test waits for a line that never comes. POSIX makes a pipe write of at
    most PIPE_BUF bytes (512 or more) atomic, and these lines are shorter.
    """
    os.write(sys.stdout.fileno(), f"{line}\n".encode())


def write(path: Path, prefix: str, numbers: Iterable[int]) -> None:
    store = JobStore(path)
    jobs: list[Job] = []
    for number in numbers:
        name = f"{prefix}-{number}"
        jobs.append(Job(model_name=name, model_version="1", server=SERVER, goal="g"))
        store.save(jobs)
        emit(f"saved {name}")


def serve_forks(path: Path) -> None:
    """Fork one endless writer per `start` line; reap it on `reap`."""
    emit("ready")
    for line in sys.stdin:
        command, prefix, *rest = line.split()
        if command == "start":
            pid = os.fork()
            if pid == 0:
                write(path, prefix, itertools.count())
                os._exit(0)
            emit(f"pid {prefix} {pid}")
        elif command == "reap":
            os.waitpid(int(rest[0]), 0)
            emit(f"reaped {prefix}")


def main(argv: list[str]) -> None:
    mode, path = argv[0], Path(argv[1])
    if mode == "fork":
        serve_forks(path)
        return
    emit("ready")
    write(path, argv[2], range(int(argv[3])))


if __name__ == "__main__":
    main(sys.argv[1:])
