"""`train`: drive Ultralytics' trainer and translate its callbacks into protocol events."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from .channel import STOP, emit, log
from .errors import SidecarError, classify
from .protocol import metrics, num_or_none


class StoppedBeforeTraining(Exception):
    """A stop arrived while the trainer was still setting up: nothing is trained (not even one batch)."""


class AtomicPath(type(Path())):  # PosixPath / WindowsPath: subclassing Path itself needs Python 3.12
    """A checkpoint path whose write_bytes writes a temporary sibling and renames it into place, so a
    kill in the middle of Ultralytics' save leaves the previous last.pt/best.pt whole, never a torn file.
    (No fsync: a killed process loses nothing the page cache holds; only a power cut could.)"""

    def write_bytes(self, data: bytes) -> int:  # type: ignore[override]
        tmp = Path(self.parent) / f".{self.name}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, self)
        finally:
            if tmp.exists():
                tmp.unlink()
        return len(data)


def atomic_strip_optimizer(strip: Any) -> Any:
    """Ultralytics' strip_optimizer rewrites last.pt/best.pt in place with torch.save: write a temporary
    sibling and rename it instead (same reason as AtomicPath)."""
    if getattr(strip, "_spotter_atomic", False):
        return strip

    def strip_optimizer(f: Any = "best.pt", s: str = "", updates: dict | None = None) -> dict:
        target = Path(s or f)
        tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
        try:
            out = strip(f, str(tmp), updates)
            if tmp.exists():
                os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
        return out

    strip_optimizer._spotter_atomic = True  # type: ignore[attr-defined]
    return strip_optimizer


def gpu_mem_gb(trainer: Any) -> float | None:
    if getattr(trainer, "device", None) is None or trainer.device.type == "cpu":
        return None
    try:
        return round(float(trainer._get_memory()), 3)
    except Exception:
        return None


def per_class(validator: Any) -> list[dict[str, Any]]:
    """Per-class results of the validator's last run, as Ultralytics prints them: only classes that have
    instances in the split (ap_class_index); images/instances from nt_per_image/nt_per_class."""
    m = getattr(validator, "metrics", None)
    box = getattr(m, "box", None)
    if box is None or getattr(m, "nt_per_class", None) is None:
        return []
    names = getattr(validator, "names", None) or getattr(m, "names", {}) or {}
    out = []
    for i, c in enumerate(box.ap_class_index):
        c = int(c)
        p, r, ap50, ap = (num_or_none(x) or 0.0 for x in box.class_result(i)[:4])
        out.append({
            "name": str(names.get(c, c)),
            "images": int(m.nt_per_image[c]),
            "instances": int(m.nt_per_class[c]),
            "p": p, "r": r, "ap50": ap50, "ap50_95": ap,
        })
    return out


class Session:
    """One training: throttle, timing and progress shared by the callbacks. The stop flag is channel.STOP
    (set by the control thread, SIGINT or SIGTERM); the callbacks hand it on to Ultralytics' own flag."""

    def __init__(self, spec: dict[str, Any]):
        self.spec = spec
        self.trainer: Any = None
        self.interval = max(0.0, spec["batch_event_interval"])
        self.epoch_t0 = 0.0
        self.batch_i = 0
        self.last_batch_emit = 0.0
        self.completed = 0
        self.in_final_eval = False
        self.stop_logged = False
        self.t0 = time.time()

    # --- control -----------------------------------------------------------------------------------
    def _apply_stop(self, tr: Any) -> None:
        if STOP.requested:
            if not self.stop_logged:
                self.stop_logged = True
                log(f"stop requested ({STOP.source}): the current epoch ends here, is validated and saved, "
                    "then training stops (Ctrl-C again aborts)")
            tr.stop = True  # _setup_train resets the flag, so re-assert it at each step

    def _refuse_if_stopped(self) -> None:
        if STOP.requested:
            raise StoppedBeforeTraining()

    # --- callbacks ---------------------------------------------------------------------------------
    def on_pretrain_routine_start(self, tr: Any) -> None:
        self._refuse_if_stopped()
        self.trainer = tr
        self._wrap(tr)
        emit({"type": "setup", "stage": "dataset", "message": f"checking dataset {tr.args.data}"})

    def on_pretrain_routine_end(self, tr: Any) -> None:
        self._refuse_if_stopped()
        emit({"type": "setup", "stage": "ready", "message": f"model, data loaders and optimizer ready on {tr.device}"})

    def on_train_start(self, tr: Any) -> None:
        self._refuse_if_stopped()  # the last moment to stop without training a single batch
        self.t0 = time.time()
        emit({
            "type": "train_start",
            "run_dir": str(tr.save_dir),
            "epochs": int(tr.epochs),
            "start_epoch": int(tr.start_epoch),
            "batches": len(tr.train_loader),
            "device": str(tr.device),
            "imgsz": int(tr.args.imgsz),
            "batch": int(tr.batch_size),
        })

    def on_train_epoch_start(self, tr: Any) -> None:
        self._apply_stop(tr)
        self.epoch_t0 = time.time()
        self.batch_i = 0
        self.last_batch_emit = 0.0
        emit({"type": "epoch_start", "epoch": tr.epoch + 1, "epochs": int(tr.epochs)})

    def on_train_batch_end(self, tr: Any) -> None:
        self._apply_stop(tr)  # Ultralytics checks tr.stop right after this callback
        self.batch_i += 1
        nb = len(tr.train_loader)
        now = time.monotonic()
        if self.batch_i not in (1, nb) and now - self.last_batch_emit < self.interval:
            return
        self.last_batch_emit = now
        emit({
            "type": "batch",
            "epoch": tr.epoch + 1,
            "batch": self.batch_i,
            "batches": nb,
            "losses": metrics(tr.tloss),  # running mean of the epoch so far, keyed by loss name
            "gpu_mem_gb": gpu_mem_gb(tr),
        })

    def on_train_epoch_end(self, tr: Any) -> None:
        emit({
            "type": "epoch_end",
            "epoch": tr.epoch + 1,
            "epochs": int(tr.epochs),
            "losses": metrics(tr.tloss),
            "lr": metrics(tr.lr),
            "seconds": round(time.time() - self.epoch_t0, 3),
            "gpu_mem_gb": gpu_mem_gb(tr),
        })

    def on_model_save(self, tr: Any) -> None:
        best = Path(tr.best)
        emit({
            "type": "checkpoint",
            "epoch": tr.epoch + 1,
            "last": str(tr.last),
            "best": str(best) if best.exists() else None,
            "is_best": bool(tr.best_fitness is not None and tr.best_fitness == tr.fitness),
        })

    def on_fit_epoch_end(self, tr: Any) -> None:
        if not self.in_final_eval:
            self.completed = tr.epoch + 1
            self._apply_stop(tr)

    # --- wrapped trainer methods --------------------------------------------------------------------
    def _wrap(self, tr: Any) -> None:
        validate, final_eval = tr.validate, tr.final_eval
        # every checkpoint Ultralytics writes (last.pt, best.pt, epochN.pt) goes through a rename
        tr.wdir, tr.last, tr.best = AtomicPath(tr.wdir), AtomicPath(tr.last), AtomicPath(tr.best)

        def validate_and_report():
            m, fitness = validate()
            if m is not None:
                emit({"type": "val", "epoch": tr.epoch + 1, "metrics": metrics(m), "fitness": num_or_none(fitness)})
            return m, fitness

        def final_eval_keeping_resume():
            # Ultralytics strips the optimizer from last.pt here, which makes a run that ended before its
            # last epoch (stopped, or by patience) impossible to resume: keep the full last.pt then. The
            # strip writes a new file (atomic_strip_optimizer), so a hard link is a snapshot for free.
            last = Path(tr.last)
            keep = last.with_name(f".{last.name}.resume.tmp") if self.completed < int(tr.epochs) and last.exists() \
                else None
            if keep is not None:
                keep.unlink(missing_ok=True)
                try:
                    os.link(last, keep)
                except OSError:  # no hard links on this file system
                    shutil.copyfile(last, keep)
            self.in_final_eval = True
            try:
                final_eval()
            finally:
                self.in_final_eval = False
                if keep is not None:
                    os.replace(keep, last)

        tr.validate = validate_and_report
        tr.final_eval = final_eval_keeping_resume

    def callbacks(self) -> dict[str, Any]:
        names = ("on_pretrain_routine_start", "on_pretrain_routine_end", "on_train_start", "on_train_epoch_start",
                 "on_train_batch_end", "on_train_epoch_end", "on_model_save", "on_fit_epoch_end")
        return {n: getattr(self, n) for n in names}


def check_device(device: str) -> None:
    import torch

    d = device.strip().lower()
    if d in ("", "cpu"):
        return
    if d.startswith("mps"):
        if not torch.backends.mps.is_available():
            raise SidecarError("no-gpu", f"device '{device}' was asked for, but MPS is not available here",
                               "Choose device 'cpu'.")
        return
    ids = [x for x in d.replace("cuda:", "").split(",") if x.strip()]
    if not torch.cuda.is_available():
        raise SidecarError("no-gpu", f"device '{device}' was asked for, but CUDA is not available "
                           f"(torch {torch.__version__}, CUDA build {torch.version.cuda})",
                           "Choose device 'cpu', or run Repair in Settings if this machine has an NVIDIA GPU.")
    n = torch.cuda.device_count()
    bad = [x for x in ids if x.strip().isdigit() and int(x) >= n]
    if bad:
        raise SidecarError("no-gpu", f"device '{device}' was asked for, but only {n} GPU(s) are visible",
                           f"Choose a device between 0 and {n - 1}.")


def stopped_before_training(spec: dict[str, Any], t0: float) -> int:
    """The `done` of a training stopped before its first batch: nothing trained, nothing written."""
    log("stopped before training started: nothing was trained")
    weights = Path(spec["run_dir"]) / "weights"
    best, last = weights / "best.pt", weights / "last.pt"
    emit({
        "type": "done",
        "run_dir": str(spec["run_dir"]),
        "epochs_completed": 0,
        "stopped": True,
        "best": str(best) if best.exists() else None,
        "last": str(last) if last.exists() else None,
        "metrics": {},
        "per_class": [],
        "seconds": round(time.time() - t0, 3),
    })
    return 0


def run_train(spec: dict[str, Any], state: dict[str, Any]) -> int:
    from .spec import train_args

    t_start = time.time()
    if STOP.requested:
        return stopped_before_training(spec, t_start)

    state["stage"] = "import"
    emit({"type": "setup", "stage": "import", "message": "importing torch and ultralytics"})
    import torch  # noqa: F401  (an ABI or missing-package failure surfaces here)

    check_device(spec["device"])
    import ultralytics.engine.trainer as trainer_mod
    from ultralytics import YOLO
    from ultralytics.utils import DEFAULT_CFG_KEYS

    trainer_mod.strip_optimizer = atomic_strip_optimizer(trainer_mod.strip_optimizer)
    args = train_args(spec, DEFAULT_CFG_KEYS)
    state["batch"] = args["batch"]
    last = Path(spec["run_dir"]) / "weights" / "last.pt"
    model_src = str(last) if spec.get("resume") else spec["model"]
    if STOP.requested:
        return stopped_before_training(spec, t_start)

    state["stage"] = "model"
    emit({"type": "setup", "stage": "model", "message": f"loading {model_src}"})
    try:
        model = YOLO(model_src)
    except Exception as e:
        ev = classify(e)
        if ev["code"] not in ("unknown", "bad-spec"):
            raise
        weights = model_src.lower().endswith(".pt")
        raise SidecarError("corrupt-weights" if weights else "bad-spec", f"cannot load model {model_src}: {e}",
                           "Pick another .pt or a model .yaml Ultralytics knows (yolov8n.yaml, yolo11s.yaml, …)."
                           if weights else "Use a model .yaml Ultralytics knows (yolov8n.yaml, yolo11s.yaml, …).") from e
    session = Session(spec)
    for event, fn in session.callbacks().items():
        model.add_callback(event, fn)
    if spec.get("resume"):
        args["resume"] = str(last)

    state["stage"] = "trainer"

    def stage_train(_tr: Any) -> None:
        state["stage"] = "train"

    model.add_callback("on_pretrain_routine_end", stage_train)
    try:
        model.train(**args)
    except StoppedBeforeTraining:
        return stopped_before_training(spec, t_start)
    tr = session.trainer
    if tr is None:
        raise SidecarError("unknown", "Ultralytics finished without running Spotter's callbacks "
                           "(multi-GPU DDP training runs in a subprocess and is not supported yet)",
                           "Train on a single device (e.g. device '0').")
    best, last_p = Path(tr.best), Path(tr.last)
    emit({
        "type": "done",
        "run_dir": str(tr.save_dir),
        "epochs_completed": int(session.completed),
        # ended before its last epoch (a stop, or patience): a stop during the last epoch or the final
        # validation still completed the run, and its last.pt is final (nothing left to resume)
        "stopped": bool(session.completed < int(tr.epochs)),
        "best": str(best) if best.exists() else None,
        "last": str(last_p) if last_p.exists() else None,
        "metrics": metrics(tr.metrics),
        "per_class": per_class(tr.validator),
        "seconds": round(time.time() - t_start, 3),
    })
    return 0
