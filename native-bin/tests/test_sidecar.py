"""The sidecar end to end on real data: real CPU trainings on rbc8 (tests/fixtures/rbc8, imgsz 64), stop, resume,
ONNX export, classified failures (a real checkpoint cut short here; a damaged file of another project from the
shared data), and a training with networking disabled."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NATIVE_BIN, REPO, child_env, shared_file, write_spec

from spotter_trainer.errors import classify
from spotter_trainer.protocol import PROTOCOL, validate_env, validate_event

TINY = {"model": "yolov8n.yaml", "imgsz": 64, "batch": 4, "device": "cpu", "workers": 0}


def spec_for(tmp_path: Path, data: Path, run: str = "run", **over) -> Path:
    fields = {"data": str(data), "run_dir": str(tmp_path / "runs" / run), "epochs": 1, **TINY, **over}
    return write_spec(tmp_path / f"{run}.json", **fields)


def zod_check(tmp_path: Path, lines: list[str], env: bool = False) -> None:
    """Validate with the real zod schema in trainer.ts when Node and esbuild are there."""
    node, esbuild = shutil.which("node"), REPO / "node_modules" / ".bin" / "esbuild"
    if not node or not esbuild.exists() or not (REPO / "node_modules" / "zod").exists():
        print("zod check skipped: node or node_modules missing")
        return
    bundle = tmp_path / "trainer-schema.mjs"
    if not bundle.exists():
        subprocess.run([str(esbuild), str(REPO / "electron/shared/trainer.ts"), "--bundle", "--format=esm",
                        "--platform=node", f"--outfile={bundle}", "--log-level=error"], check=True, cwd=REPO)
    f = tmp_path / ("env.json" if env else "events.ndjson")
    f.write_text("\n".join(lines) + "\n")
    r = subprocess.run([node, str(NATIVE_BIN / "tests" / "zod_check.mjs"), str(bundle), str(f),
                        *(["--env"] if env else [])], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def check_stream(res, tmp_path: Path) -> None:
    assert res.events and res.events[0]["type"] == "hello" and res.events[0]["protocol"] == PROTOCOL
    for ev in res.events:
        validate_event(ev)
    zod_check(tmp_path, [json.dumps(e) for e in res.events])


def load_ckpt(path: str):
    from spotter_trainer.offline import patch_ultralytics, prepare_environment

    patch_ultralytics(prepare_environment(Path(path).parent))
    from ultralytics.nn.tasks import torch_safe_load

    ckpt, _ = torch_safe_load(path)
    return ckpt


def test_train_one_epoch_val_and_export(sidecar, rbc8, tmp_path):
    res = sidecar(["train", "--spec", str(spec_for(tmp_path, rbc8))])
    assert res.rc == 0, res.log[-4000:]
    check_stream(res, tmp_path)
    order = [e["type"] for e in res.events if e["type"] != "setup" and e["type"] != "batch"]
    assert order == ["hello", "train_start", "epoch_start", "epoch_end", "val", "checkpoint", "done"], order
    start, end, done = res.one("train_start"), res.one("epoch_end"), res.one("done")
    assert (start["epochs"], start["start_epoch"], start["imgsz"], start["batch"]) == (1, 0, 64, 4)
    assert end["epoch"] == 1 and set(end["losses"]) == {"box_loss", "cls_loss", "dfl_loss"} and end["lr"]
    assert res.of("batch")[-1]["batch"] == start["batches"]
    assert "metrics/mAP50-95(B)" in res.one("val")["metrics"]
    assert done["epochs_completed"] == 1 and done["stopped"] is False
    assert "metrics/mAP50(B)" in done["metrics"]
    # rbc8 val: 4 images, 80 instances: rbc in all 4 with 76, wbc in all 4 with one each
    assert sum(c["instances"] for c in done["per_class"]) == 80
    assert [{k: c[k] for k in ("name", "images", "instances")} for c in done["per_class"]] == [
        {"name": "rbc", "images": 4, "instances": 76}, {"name": "wbc", "images": 4, "instances": 4}]
    run = Path(done["run_dir"])
    assert run == tmp_path / "runs" / "run"
    header = (run / "results.csv").read_text().splitlines()[0]
    assert "metrics/mAP50-95(B)" in header and (run / "args.yaml").exists()
    for w in (done["best"], done["last"]):
        assert "model" in load_ckpt(w)
    assert not list((run / "weights").glob(".*.tmp"))  # atomic writes leave no temporary files behind

    # val on the test split name Ultralytics resolves (rbc8 has no test split: val again via --split val)
    v = sidecar(["val", "--weights", done["best"], "--data", str(rbc8), "--imgsz", "64", "--device", "cpu"])
    assert v.rc == 0, v.log[-3000:]
    check_stream(v, tmp_path)
    assert v.one("done")["epochs_completed"] == 0 and [c["name"] for c in v.one("done")["per_class"]] == ["rbc", "wbc"]

    # this run's own best.pt cut short (as an interrupted copy leaves it): corrupt-weights, before any training
    cut = tmp_path / "best.cut.pt"
    whole = Path(done["best"]).read_bytes()
    cut.write_bytes(whole[: len(whole) // 2])
    c = sidecar(["train", "--spec", str(spec_for(tmp_path, rbc8, run="cut", model=str(cut)))])
    check_stream(c, tmp_path)
    assert c.rc == 1 and c.one("error")["code"] == "corrupt-weights", c.events
    assert not c.of("train_start")

    e = sidecar(["export", "--weights", done["best"], "--format", "onnx", "--imgsz", "64"])
    check_stream(e, tmp_path)
    have_onnx = all(importlib.util.find_spec(m) for m in ("onnx", "onnxruntime", "onnxslim"))
    if not have_onnx:  # the environment lacks the export packages: a clear missing-package, never an install
        assert e.rc == 1 and e.one("error")["code"] == "missing-package", e.events
        pytest.skip("onnx/onnxruntime/onnxslim not installed: export checked for its missing-package error only")
    assert e.rc == 0, e.log[-3000:]
    path = e.one("export_done")["path"]
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    assert sess.get_inputs()[0].shape == [1, 3, 64, 64]
    assert sess.get_outputs()[0].shape[:2] == [1, 6]  # 4 box + rbc8's 2 classes


def test_stop_then_resume(sidecar, rbc8, tmp_path):
    spec = spec_for(tmp_path, rbc8, run="stop", epochs=3, batch=2)
    sent = []

    def stop_after_first_epoch(ev, proc):
        if ev["type"] == "epoch_end" and not sent:
            proc.stdin.write(b'{"cmd":"stop"}\n')
            proc.stdin.flush()
            sent.append(ev["epoch"])

    res = sidecar(["train", "--spec", str(spec)], on_event=stop_after_first_epoch)
    assert res.rc == 0, res.log[-4000:]
    check_stream(res, tmp_path)
    done = res.one("done")
    assert sent == [1] and done["stopped"] is True and 1 <= done["epochs_completed"] < 3
    ckpt = load_ckpt(done["last"])
    assert ckpt["optimizer"] is not None and ckpt["epoch"] == done["epochs_completed"] - 1  # still resumable
    assert "model" in load_ckpt(done["best"])

    spec_data = json.loads(spec.read_text())
    write_spec(spec, **{**spec_data, "resume": True})
    again = sidecar(["train", "--spec", str(spec)])
    assert again.rc == 0, again.log[-4000:]
    check_stream(again, tmp_path)
    assert again.one("train_start")["start_epoch"] == done["epochs_completed"]
    assert again.one("done")["run_dir"] == done["run_dir"]
    assert [e["epoch"] for e in again.of("epoch_start")] == list(range(done["epochs_completed"] + 1, 4))
    assert again.one("done")["epochs_completed"] == 3 and again.one("done")["stopped"] is False
    assert load_ckpt(again.one("done")["last"])["epoch"] == -1  # final: nothing left to resume


def test_stop_in_the_last_epoch_completes_the_run(sidecar, rbc8, tmp_path):
    """A stop that lands in the last epoch (or the final validation) ends a complete run: not `stopped`,
    and last.pt is final, as after any completed training (a resume would find nothing to do)."""
    sent = []

    def stop_at_start(ev, proc):
        if ev["type"] == "train_start" and not sent:
            proc.stdin.write(b'{"cmd":"stop"}\n')
            proc.stdin.flush()
            sent.append(1)

    res = sidecar(["train", "--spec", str(spec_for(tmp_path, rbc8, run="last"))], on_event=stop_at_start)
    assert res.rc == 0, res.log[-4000:]
    check_stream(res, tmp_path)
    done = res.one("done")
    assert sent and done["epochs_completed"] == 1 and done["stopped"] is False, done
    assert load_ckpt(done["last"])["epoch"] == -1
    assert "stop requested (stdin)" in res.log


def test_sigterm_with_the_reader_gone_stops_gracefully(rbc8, tmp_path, config_dir):
    """The app quits mid-training: execa's cleanup sends SIGTERM and Node's ends of the pipes close. The
    sidecar must end the epoch, save a resumable last.pt and exit 0, its writes going nowhere."""
    spec = spec_for(tmp_path, rbc8, run="term", epochs=3, batch=2)
    # one pipe for events and log (closing it breaks both); log lines and tqdm's \r redraws mix in
    p = subprocess.Popen([sys.executable, "-m", "spotter_trainer", "train", "--spec", str(spec)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=child_env(config_dir), cwd=tmp_path)
    try:
        for line in p.stdout:
            if b'{"type":"epoch_start"' in line:  # the first epoch is under way
                break
        p.send_signal(signal.SIGTERM)
        p.stdout.close()
        rc = p.wait(timeout=240)
    finally:
        if p.poll() is None:
            p.kill()
    assert rc == 0
    last = tmp_path / "runs" / "term" / "weights" / "last.pt"
    ckpt = load_ckpt(str(last))
    assert ckpt["optimizer"] is not None and ckpt["epoch"] == 0  # one epoch, resumable
    assert not list(last.parent.glob(".*.tmp"))


def test_ctrl_c_during_startup_is_a_stop(sidecar, rbc8, tmp_path):
    """Ctrl-C in the first seconds (torch and Ultralytics still importing) stops before anything is
    trained: a `done` with stopped and 0 epochs, exit 0, never a KeyboardInterrupt failure."""

    def interrupt(ev, proc):
        if ev["type"] == "hello":
            proc.send_signal(signal.SIGINT)

    res = sidecar(["train", "--spec", str(spec_for(tmp_path, rbc8, run="early"))], on_event=interrupt)
    check_stream(res, tmp_path)
    assert res.rc == 0, res.log[-4000:]
    assert not res.of("error") and not res.of("train_start")
    done = res.one("done")
    assert done["stopped"] is True and done["epochs_completed"] == 0 and done["last"] is None
    assert not (tmp_path / "runs" / "early" / "weights").exists()


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    """A kill between writing and renaming leaves the previous checkpoint whole (the rename is the kill
    point simulated here), for Ultralytics' saves and for its strip_optimizer."""
    from spotter_trainer import train

    last = tmp_path / "last.pt"
    train.AtomicPath(last).write_bytes(b"epoch 1")
    assert last.read_bytes() == b"epoch 1"

    def killed(*_a):
        raise OSError("killed before the rename")

    monkeypatch.setattr(train.os, "replace", killed)
    with pytest.raises(OSError):
        train.AtomicPath(last).write_bytes(b"epoch 2, half written")
    assert last.read_bytes() == b"epoch 1" and sorted(os.listdir(tmp_path)) == ["last.pt"]

    def strip(f, s="", updates=None):  # torch.save of the stripped checkpoint, to s
        Path(s or f).write_bytes(b"stripped")
        return {"epoch": -1}

    with pytest.raises(OSError):
        train.atomic_strip_optimizer(strip)(last)
    assert last.read_bytes() == b"epoch 1" and sorted(os.listdir(tmp_path)) == ["last.pt"]
    monkeypatch.undo()
    assert train.atomic_strip_optimizer(strip)(last) == {"epoch": -1} and last.read_bytes() == b"stripped"


def test_corrupt_weights(sidecar, rbc8, tmp_path):
    """A truncated yolov8n.pt from another project (AGPL weights: shared data only)."""
    bad = shared_file("weights", "corrupt", "yolov8n.truncated.pt")
    res = sidecar(["train", "--spec", str(spec_for(tmp_path, rbc8, model=str(bad)))])
    check_stream(res, tmp_path)
    assert res.rc == 1 and res.one("error")["code"] == "corrupt-weights", res.events


def test_dataset_not_found(sidecar, tmp_path):
    res = sidecar(["train", "--spec", str(spec_for(tmp_path, tmp_path / "nowhere" / "data.yaml"))])
    check_stream(res, tmp_path)
    err = res.one("error")
    assert res.rc == 1 and err["code"] == "dataset-not-found" and "nowhere" in err["message"]


def test_missing_dataset_is_never_downloaded(sidecar, rbc8, tmp_path):
    """A data.yaml whose images are gone but that names a download URL (as Ultralytics' own yamls do):
    Ultralytics would fetch it; the sidecar refuses and reports the dataset as not found."""
    data = tmp_path / "gone" / "data.yaml"
    data.parent.mkdir()
    data.write_text(f"path: {tmp_path / 'gone'}\ntrain: images/train\nval: images/val\nnames:\n  0: cell\n"
                    "download: https://github.com/ultralytics/assets/releases/download/v0.0.0/coco8.zip\n")
    res = sidecar(["train", "--spec", str(spec_for(tmp_path, data))])
    check_stream(res, tmp_path)
    err = res.one("error")
    assert res.rc == 1 and err["code"] == "dataset-not-found", err
    assert not (tmp_path / "gone" / "images").exists()


def test_amp_check_offline_keeps_amp_on(tmp_path, monkeypatch):
    """On CUDA the AMP check loads yolo26n.pt; offline and uncached, the patched download raises a
    ConnectionError, which Ultralytics' check treats as 'AMP on, unchecked' instead of hanging."""
    monkeypatch.setenv("SPOTTER_YOLO_CONFIG_DIR", str(tmp_path / "cfg"))
    import torch

    from spotter_trainer import offline

    offline.patch_ultralytics(offline.prepare_environment())
    import ultralytics.engine.trainer as trainer_mod
    from ultralytics import YOLO
    from ultralytics.utils import WEIGHTS_DIR

    assert not (WEIGHTS_DIR / "yolo26n.pt").exists()
    with pytest.raises(ConnectionError):
        YOLO(WEIGHTS_DIR / "yolo26n.pt")
    not_cpu = torch.nn.Linear(1, 1, device="meta")  # any non-CPU/MPS device takes the weights path
    assert trainer_mod.check_amp(not_cpu) is True


def test_gpu_asked_without_cuda(sidecar, rbc8, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    res = sidecar(["train", "--spec", str(spec_for(tmp_path, rbc8, device="0"))])
    check_stream(res, tmp_path)
    assert res.rc == 1 and res.one("error")["code"] == "no-gpu"


def test_bad_usage_and_bad_spec(sidecar, rbc8, tmp_path):
    res = sidecar(["train"])
    assert res.rc == 2 and res.one("error")["code"] == "bad-spec"
    res = sidecar(["train", "--spec", str(spec_for(tmp_path, rbc8, extra={"mosiac": 0.5}))])
    check_stream(res, tmp_path)
    assert res.rc == 1 and res.one("error")["code"] == "bad-spec" and "mosiac" in res.one("error")["message"]


def test_trains_without_network(rbc8, tmp_path, config_dir):
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, text=True) if shutil.which("unshare") \
        else None
    if probe is None or probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {probe.stderr.strip() if probe else 'no unshare'}")
    fresh = tmp_path / "fresh-config"  # nothing cached: fonts and settings must come from Spotter itself
    spec = spec_for(tmp_path, rbc8, run="offline")
    p = subprocess.run(["unshare", "-rn", sys.executable, "-m", "spotter_trainer", "train", "--spec", str(spec)],
                       capture_output=True, env=child_env(fresh), cwd=tmp_path, timeout=300)
    log = p.stderr.decode(errors="replace")
    assert p.returncode == 0, log[-4000:]
    events = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert events[-1]["type"] == "done" and events[-1]["epochs_completed"] == 1
    assert (fresh / "Ultralytics" / "Arial.ttf").is_file()
    assert "Downloading" not in log and "download" not in log.lower().replace("never downloads", "")


def test_env_report(sidecar, tmp_path, config_dir):
    p = subprocess.run([sys.executable, "-m", "spotter_trainer", "env"], capture_output=True, text=True,
                       env=child_env(config_dir), timeout=120)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    validate_env(report)
    zod_check(tmp_path, lines, env=True)
    import torch
    import ultralytics

    assert report["torch"] == torch.__version__ and report["ultralytics"] == ultralytics.__version__
    assert report["python"] == sys.executable and report["cuda_available"] == torch.cuda.is_available()
    missing = {m["package"] for m in report["missing"]}
    assert ("onnx" in missing) == (importlib.util.find_spec("onnx") is None)


def test_env_without_torch(tmp_path):
    """A bare Python (no torch, no ultralytics) still gets a report listing what is missing."""
    bare = shutil.which("python3")
    probe = subprocess.run([bare, "-c", "import torch"], capture_output=True) if bare else None
    if probe is None or probe.returncode == 0:
        pytest.skip("no Python without torch on PATH")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(NATIVE_BIN),
           "SPOTTER_YOLO_CONFIG_DIR": str(tmp_path / "cfg")}
    p = subprocess.run([bare, "-m", "spotter_trainer", "env"], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    validate_env(report)
    assert report["torch"] is None and {"torch", "ultralytics"} <= {m["package"] for m in report["missing"]}


@pytest.mark.parametrize(
    "exc,code",
    [
        (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), "cuda-oom"),
        (ImportError("numpy.core.multiarray failed to import"), "abi-mismatch"),
        (ValueError("numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header"),
         "abi-mismatch"),
        (ImportError("/venv/lib/libtorch_cuda.so: undefined symbol: ncclCommWindowRegister"), "abi-mismatch"),
        (ModuleNotFoundError("No module named 'onnx'"), "missing-package"),
        (ValueError("Invalid CUDA 'device=0' requested. Use 'device=cpu' or pass valid CUDA device(s)"), "no-gpu"),
        (RuntimeError("Dataset '/x/data.yaml' error ❌ images not found"), "dataset-not-found"),
        (ZeroDivisionError("division by zero"), "unknown"),
    ],
)
def test_classify(exc, code):
    ev = classify(exc, batch=16)
    validate_event(ev)
    assert ev["code"] == code
    if code == "cuda-oom":
        assert "batch=8" in ev["hint"]
