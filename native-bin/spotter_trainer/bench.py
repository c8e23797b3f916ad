"""`bench`: time a few real training batches on this machine, for the estimate shown before Start.

Ultralytics' own trainer runs on the real dataset at the requested model, imgsz, batch and device (so
data loading, augmentation, forward and backward are all in the number), with validation, checkpoints
and plots off, in a temporary folder that is removed afterwards. After `warmup` batches (cudnn tuning,
worker start-up) `batches` more are timed, or fewer when `max_seconds` runs out; then a callback aborts
the training. Protocol 1 has no dedicated event: like `val`, a `done` with 0 epochs carries the numbers
in `metrics` under `bench/…` names.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from .channel import emit, log
from .errors import SidecarError, classify


class _Enough(Exception):
    """Raised from a callback once enough batches are timed: ends the training at once."""


def add_parser(sub: Any) -> None:
    b = sub.add_parser("bench", help="time a few training batches (seconds per image) for the estimate")
    b.add_argument("--data", required=True)
    b.add_argument("--model", required=True)
    b.add_argument("--imgsz", type=int, required=True)
    b.add_argument("--batch", type=float, required=True)
    b.add_argument("--device", required=True)
    b.add_argument("--workers", type=int, default=2)
    b.add_argument("--batches", type=int, default=8, help="batches timed after the warm-up")
    b.add_argument("--warmup", type=int, default=2, help="batches run before timing starts")
    b.add_argument("--max-seconds", type=float, default=20.0, help="stop timing after this long (at least 1 batch)")


def cmd_bench(a: argparse.Namespace, state: dict[str, Any]) -> int:
    from .train import check_device

    t_start = time.time()
    if not Path(a.data).is_file():
        raise SidecarError("dataset-not-found", f"data.yaml not found: {a.data}")
    state["stage"] = "import"
    import torch  # noqa: F401  (an ABI or missing-package failure surfaces here)

    check_device(a.device)
    from ultralytics import YOLO

    state["stage"] = "model"
    try:
        model = YOLO(a.model)
    except Exception as e:
        ev = classify(e)
        if ev["code"] not in ("unknown", "bad-spec"):
            raise
        raise SidecarError("corrupt-weights" if a.model.lower().endswith(".pt") else "bad-spec",
                           f"cannot load model {a.model}: {e}") from e

    batch: int | float = int(a.batch) if float(a.batch).is_integer() else a.batch
    info: dict[str, Any] = {"train_start": None, "bs": 0, "n": 0, "i": 0}
    marks: list[tuple[float, int]] = []  # (time at the end of a batch, images in it)

    def on_train_start(tr: Any) -> None:
        state["stage"] = "train"
        info["train_start"] = time.perf_counter()
        info["setup"] = time.time() - t_start
        info["bs"] = int(tr.batch_size)
        info["n"] = len(tr.train_loader.dataset)
        loader = getattr(tr, "test_loader", None)
        info["val"] = len(loader.dataset) if loader is not None else 0
        emit({"type": "setup", "stage": "bench", "message": f"timing {a.batches} batches of {tr.batch_size} on {tr.device}"})

    def on_train_epoch_start(_tr: Any) -> None:
        info["i"] = 0

    def on_train_batch_end(_tr: Any) -> None:
        bs, n, i = info["bs"], info["n"], info["i"]
        info["i"] = i + 1
        marks.append((time.perf_counter(), max(1, min(bs, n - i * bs))))
        timed = len(marks) - a.warmup
        over = time.perf_counter() - info["train_start"] > a.max_seconds
        if timed >= a.batches or (over and len(marks) >= 2):
            raise _Enough()

    for name, fn in (("on_train_start", on_train_start), ("on_train_epoch_start", on_train_epoch_start),
                     ("on_train_batch_end", on_train_batch_end)):
        model.add_callback(name, fn)

    with tempfile.TemporaryDirectory(prefix="spotter-bench-") as tmp:
        state["stage"] = "trainer"
        try:
            # many epochs so a tiny dataset still gives enough batches; nothing runs between epochs with
            # val, save and plots off
            model.train(data=str(Path(a.data).resolve()), imgsz=a.imgsz, batch=batch, device=a.device,
                        workers=a.workers, epochs=1000, val=False, save=False, plots=False, project=tmp,
                        name="bench", exist_ok=True, verbose=False)
        except _Enough:
            pass
    if len(marks) < 2:
        raise SidecarError("unknown", "the timing ended before two batches were trained")
    # timed from the end of the last warm-up batch (from the first batch's end when there were too few)
    start = a.warmup - 1 if a.warmup >= 1 and len(marks) > a.warmup else 0
    seconds = marks[-1][0] - marks[start][0]
    images = sum(m[1] for m in marks[start + 1:])
    per_image = seconds / max(1, images)
    log(f"bench: {len(marks) - 1 - start} batches, {images} images in {seconds:.3f} s: {per_image:.4f} s per image")
    emit({"type": "done", "run_dir": "", "epochs_completed": 0, "stopped": False, "best": None, "last": None,
          "metrics": {"bench/seconds_per_image": per_image, "bench/timed_batches": float(len(marks) - 1 - start),
                      "bench/timed_images": float(images), "bench/setup_seconds": float(info.get("setup", 0.0)),
                      "bench/batch": float(info["bs"]), "bench/train_images": float(info["n"]),
                      "bench/val_images": float(info.get("val", 0))},
          "per_class": [], "seconds": round(time.time() - t_start, 3)})
    return 0
