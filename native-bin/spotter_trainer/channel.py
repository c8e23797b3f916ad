"""The two channels: NDJSON events on the original stdout, everything human on stderr.

Ultralytics, tqdm and torch print freely to stdout, so the real stdout is duplicated to a private fd
first and fd 1 (and sys.stdout) is pointed at stderr. Only `emit` writes to the private fd.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any, Callable

from .protocol import validate_event

_fd: int | None = None
_lock = threading.Lock()


def take_stdout() -> None:
    """Reserve the original stdout for events; call before anything else prints."""
    global _fd
    if _fd is not None:
        return
    sys.stdout.flush()
    try:  # Ultralytics logs emojis; a cp1252 console on Windows must not turn that into a crash
        sys.stderr.reconfigure(encoding="utf-8", errors="replace")
    except (AttributeError, ValueError):
        pass
    _fd = os.dup(1)
    os.dup2(2, 1)  # C-level and subprocess writes to fd 1 now reach the human log
    sys.stdout = sys.stderr


def emit(ev: dict[str, Any]) -> None:
    validate_event(ev)  # a malformed event is a bug here, not something for Node to discover
    emit_raw(json.dumps(ev, separators=(",", ":"), allow_nan=False))


def emit_raw(text: str) -> None:
    line = (text + "\n").encode()
    with _lock:
        fd = _fd if _fd is not None else 1
        view = memoryview(line)
        while view:
            n = os.write(fd, view)
            view = view[n:]


def log(msg: str) -> None:
    print(f"spotter: {msg}", file=sys.stderr, flush=True)


def read_commands(on_stop: Callable[[], None]) -> threading.Thread:
    """Read {"cmd": ...} lines from stdin in a daemon thread. EOF is not a stop: Node may close stdin."""

    def loop() -> None:
        try:
            for raw in sys.stdin:
                line = raw.strip()
                if not line:
                    continue
                try:
                    cmd = json.loads(line)
                except json.JSONDecodeError:
                    log(f"ignored a control line that is not JSON: {line[:200]!r}")
                    continue
                if isinstance(cmd, dict) and cmd.get("cmd") == "stop":
                    log("stop requested: the current epoch ends, is validated and saved, then training stops")
                    on_stop()
                else:
                    log(f"ignored an unknown control command: {line[:200]!r}")
        except (OSError, ValueError):
            pass  # stdin closed or not readable: nothing more to control

    t = threading.Thread(target=loop, name="spotter-control", daemon=True)
    t.start()
    return t
