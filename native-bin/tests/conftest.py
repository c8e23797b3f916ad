"""Fixtures: the real rbc8 dataset (tests/fixtures/rbc8: 8 blood-cell images, classes rbc and wbc) copied with
an absolute-path data.yaml, a runner that starts the sidecar as a subprocess exactly as Node does (python -m
spotter_trainer, events on stdout, log on stderr), and `shared_file` for the data that may not be copied into
the repository (../shared/data or SPOTTER_SHARED_DATA): a test on it is skipped with its reason printed where
the folder is missing, and fails under CI=true (CI puts the folder beside the checkout)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NATIVE_BIN = Path(__file__).resolve().parents[1]
REPO = NATIVE_BIN.parent
SHARED = Path(os.environ.get("SPOTTER_SHARED_DATA") or REPO.parent / "shared" / "data").resolve()
IS_CI = str(os.environ.get("CI", "")).lower() in ("1", "true")
RBC8 = REPO / "tests" / "fixtures" / "rbc8"

sys.path.insert(0, str(NATIVE_BIN))


def child_env(config_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}  # Ultralytics changes behaviour under pytest
    env["PYTHONPATH"] = os.pathsep.join([str(NATIVE_BIN), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["SPOTTER_YOLO_CONFIG_DIR"] = str(config_dir)
    env.update(extra)
    return env


class Result:
    def __init__(self, rc: int, events: list[dict], log: str):
        self.rc, self.events, self.log = rc, events, log

    def of(self, t: str) -> list[dict]:
        return [e for e in self.events if e["type"] == t]

    def one(self, t: str) -> dict:
        found = self.of(t)
        assert len(found) == 1, f"expected one {t} event, got {len(found)}: {self.events}\n{self.log[-3000:]}"
        return found[0]


def pytest_configure(config):
    # print the reason of every skip in the summary (-rs): a skip for missing shared data says what is missing
    chars = config.option.reportchars or ""
    if "s" not in chars and "a" not in chars and "A" not in chars:
        config.option.reportchars = chars + "s"


def shared_file(*parts: str) -> Path:
    """A file of ../shared/data (data that may not be copied into the repository): skipped with the reason where
    it is missing, a failure under CI=true."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"[shared data] needs {path} (data that may not be copied into the repository; set SPOTTER_SHARED_DATA)"
        if IS_CI:
            pytest.fail(f"CI: the shared test data is missing: {reason}", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def config_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("yolo-config")


@pytest.fixture(scope="session")
def rbc8(tmp_path_factory) -> Path:
    """tests/fixtures/rbc8 copied, its data.yaml's `path:` made absolute (4 train, 4 val images; no test split)."""
    dst = tmp_path_factory.mktemp("data") / "rbc8"
    shutil.copytree(RBC8, dst)
    text = (dst / "data.yaml").read_text(encoding="utf-8")
    (dst / "data.yaml").write_text(re.sub(r"(?m)^path:.*$", f"path: {dst}", text), encoding="utf-8")
    return dst / "data.yaml"


@pytest.fixture
def sidecar(config_dir, tmp_path):
    """run(args, on_event=None, prefix=(), env=None) -> Result. on_event(event, proc) runs per event (proc:
    the Popen, for its stdin and send_signal)."""

    def run(args: list[str], *, on_event=None, prefix: tuple[str, ...] = (), env: dict | None = None,
            timeout: float = 240) -> Result:
        log_path = tmp_path / f"sidecar-{len(list(tmp_path.glob('sidecar-*.log')))}.log"
        with open(log_path, "w+b") as log:
            p = subprocess.Popen([*prefix, sys.executable, "-m", "spotter_trainer", *args],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                 env=env or child_env(config_dir), cwd=tmp_path)
            events = []
            try:
                for line in p.stdout:
                    ev = json.loads(line)  # every stdout line must be one JSON event
                    events.append(ev)
                    if on_event:
                        on_event(ev, p)
                rc = p.wait(timeout=timeout)
            finally:
                if p.poll() is None:
                    p.kill()
            log.seek(0)
            text = log.read().decode(errors="replace")
        dump = os.environ.get("SPOTTER_EVENTS_OUT")  # for the Node-side zod check
        if dump:
            Path(dump).mkdir(parents=True, exist_ok=True)
            with open(Path(dump) / f"{os.getpid()}-{log_path.stem}.ndjson", "w") as f:
                f.writelines(json.dumps(e) + "\n" for e in events)
        return Result(rc, events, text)

    return run


def write_spec(path: Path, **fields) -> Path:
    path.write_text(json.dumps(fields), encoding="utf-8")
    return path
