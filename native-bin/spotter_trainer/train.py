"""`train`: drive Ultralytics' trainer and translate its callbacks into protocol events."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from .channel import emit, log, read_commands
from .errors import SidecarError, classify
from .protocol import metrics, num_or_none


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
    """One training: stop flag, throttle and timing state shared by the callbacks and the control thread."""

    def __init__(self, spec: dict[str, Any]):
        self.spec = spec
        self.trainer: Any = None
        self.stop_requested = threading.Event()
        self.interval = max(0.0, spec["batch_event_interval"])
        self.epoch_t0 = 0.0
        self.batch_i = 0
        self.last_batch_emit = 0.0
        self.completed = 0
        self.in_final_eval = False
        self.t0 = time.time()

    # --- control -----------------------------------------------------------------------------------
    def request_stop(self) -> None:
        self.stop_requested.set()
        if self.trainer is not None:
            self.trainer.stop = True  # Ultralytics checks it between batches, then validates and saves

    def _apply_stop(self, tr: Any) -> None:
        if self.stop_requested.is_set():
            tr.stop = True  # _setup_train resets the flag, so re-assert it at each step

    # --- callbacks ---------------------------------------------------------------------------------
    def on_pretrain_routine_start(self, tr: Any) -> None:
        self.trainer = tr
        self._wrap(tr)
        emit({"type": "setup", "stage": "dataset", "message": f"checking dataset {tr.args.data}"})

    def on_pretrain_routine_end(self, tr: Any) -> None:
        self._apply_stop(tr)
        emit({"type": "setup", "stage": "ready", "message": f"model, data loaders and optimizer ready on {tr.device}"})

    def on_train_start(self, tr: Any) -> None:
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

        def validate_and_report():
            m, fitness = validate()
            if m is not None:
                emit({"type": "val", "epoch": tr.epoch + 1, "metrics": metrics(m), "fitness": num_or_none(fitness)})
            return m, fitness

        def final_eval_keeping_resume():
            # Ultralytics strips the optimizer from last.pt here, which makes a stopped run impossible to
            # resume. When the user stopped, keep the full last.pt so `resume` continues from it.
            keep = Path(tr.last).read_bytes() if self.stop_requested.is_set() and Path(tr.last).exists() else None
            self.in_final_eval = True
            try:
                final_eval()
            finally:
                self.in_final_eval = False
                if keep is not None:
                    tmp = Path(tr.last).with_suffix(".resume.tmp")
                    tmp.write_bytes(keep)
                    os.replace(tmp, tr.last)

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


def run_train(spec: dict[str, Any], state: dict[str, Any]) -> int:
    from .spec import train_args

    session = Session(spec)
    read_commands(session.request_stop)

    def on_sigint(signum, frame):  # Ctrl-C in a terminal reaches the whole process group: stop gracefully once
        signal.signal(signal.SIGINT, signal.default_int_handler)
        log("interrupt: stopping after the current batch (press Ctrl-C again to abort)")
        session.request_stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, on_sigint)

    state["stage"] = "import"
    emit({"type": "setup", "stage": "import", "message": "importing torch and ultralytics"})
    import torch  # noqa: F401  (an ABI or missing-package failure surfaces here)

    check_device(spec["device"])
    from ultralytics import YOLO
    from ultralytics.utils import DEFAULT_CFG_KEYS

    args = train_args(spec, DEFAULT_CFG_KEYS)
    state["batch"] = args["batch"]
    last = Path(spec["run_dir"]) / "weights" / "last.pt"
    model_src = str(last) if spec.get("resume") else spec["model"]

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
    for event, fn in session.callbacks().items():
        model.add_callback(event, fn)
    if spec.get("resume"):
        args["resume"] = str(last)

    state["stage"] = "trainer"
    t_start = time.time()

    def stage_train(_tr: Any) -> None:
        state["stage"] = "train"

    model.add_callback("on_pretrain_routine_end", stage_train)
    model.train(**args)
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
        "stopped": bool(session.stop_requested.is_set() or session.completed < int(tr.epochs)),
        "best": str(best) if best.exists() else None,
        "last": str(last_p) if last_p.exists() else None,
        "metrics": metrics(tr.metrics),
        "per_class": per_class(tr.validator),
        "seconds": round(time.time() - t_start, 3),
    })
    return 0
