"""The two channels: NDJSON events on the original stdout, everything human on stderr; and the stop flag.

Ultralytics, tqdm and torch print freely to stdout, so the real stdout is duplicated to a private fd
first and fd 1 (and sys.stdout) is pointed at stderr. Only `emit` writes to the private fd.

When Node goes away (the app quits: execa's cleanup sends SIGTERM, which stops the training gracefully)
both pipes break. A write must then not raise inside Ultralytics' loop and abort the save it is heading
for: every output switches to the null device instead and the training ends cleanly on its own.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sys
import threading
from typing import Any, Callable

from .protocol import validate_event

_fd: int | None = None
_lock = threading.Lock()
_detached = False


class StopFlag:
    """Set by the control thread or a signal handler (a plain attribute: nothing a handler could block on);
    the training callbacks read it on the main thread."""

    def __init__(self) -> None:
        self.requested = False
        self.source = ""

    def request(self, source: str) -> None:
        if not self.requested:
            self.source = source
        self.requested = True


STOP = StopFlag()


def _on_sigint(signum: int, frame: Any) -> None:
    # Set a flag only (no I/O in a handler). A second Ctrl-C aborts: KeyboardInterrupt as usual.
    STOP.request("SIGINT")
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _on_sigterm(signum: int, frame: Any) -> None:
    STOP.request("SIGTERM")
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM terminates


def install_stop_signals() -> None:
    """SIGINT (Ctrl-C reaches the whole process group) and SIGTERM (execa's cleanup when the app or the
    CLI quits) request a graceful stop, like {"cmd":"stop"}. Installed first thing, before the heavy
    imports, so an early Ctrl-C is a stop and not a KeyboardInterrupt traceback."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _on_sigint)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _on_sigterm)


def _is_broken_pipe(e: BaseException) -> bool:
    return isinstance(e, BrokenPipeError) or (isinstance(e, OSError) and e.errno in (errno.EPIPE, errno.EINVAL))


def _detach() -> None:
    """The reader of our pipes is gone: send events and the human log to the null device from now on."""
    global _fd, _detached
    if _detached:
        return
    _detached = True
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)  # stderr (and fd 1, which points at it) now discard
    except OSError:
        pass
    _fd = null


class _SafeStream:
    """sys.stderr (and sys.stdout, which is the same stream) that survives the reader going away."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def write(self, s: str) -> int:
        try:
            return self._inner.write(s)
        except OSError as e:
            if not _is_broken_pipe(e):
                raise
            _detach()
            return len(s)

    def flush(self) -> None:
        try:
            self._inner.flush()
        except OSError as e:
            if not _is_broken_pipe(e):
                raise
            _detach()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


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
    sys.stderr = _SafeStream(sys.stderr)
    sys.stdout = sys.stderr


def emit(ev: dict[str, Any]) -> None:
    validate_event(ev)  # a malformed event is a bug here, not something for Node to discover
    emit_raw(json.dumps(ev, separators=(",", ":"), allow_nan=False))


def emit_raw(text: str) -> None:
    line = (text + "\n").encode()
    with _lock:
        fd = _fd if _fd is not None else 1
        view = memoryview(line)
        try:
            while view:
                n = os.write(fd, view)
                view = view[n:]
        except OSError as e:
            if not _is_broken_pipe(e):
                raise
            _detach()  # Node is gone: the training goes on to a clean end without a listener


def log(msg: str) -> None:
    print(f"spotter: {msg}", file=sys.stderr, flush=True)


def read_commands(on_stop: Callable[[], None] = lambda: STOP.request("stdin")) -> threading.Thread:
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
