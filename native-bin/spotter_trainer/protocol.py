"""Mirror of electron/shared/trainer.ts (the zod schemas Node validates every event with).

Every event is checked here before it is written, so a field-name or type slip fails loudly in Python's
own tests instead of as a rejected line in Node. Keep in step with trainer.ts; bump PROTOCOL on change.
"""

from __future__ import annotations

import math
from typing import Any

PROTOCOL = 1

ERROR_CODES = (
    "cuda-oom",
    "dataset-not-found",
    "corrupt-weights",
    "abi-mismatch",
    "no-gpu",
    "missing-package",
    "bad-spec",
    "unknown",
)

# Field kinds: int, num, str, bool, metrics (str -> num), with a trailing '?' for nullable.
EVENTS: dict[str, dict[str, str]] = {
    "hello": {"protocol": "int", "pid": "int", "command": "str"},
    "setup": {"stage": "str", "message": "str"},
    "train_start": {
        "run_dir": "str",
        "epochs": "int",
        "start_epoch": "int",
        "batches": "int",
        "device": "str",
        "imgsz": "int",
        "batch": "int",
    },
    "epoch_start": {"epoch": "int", "epochs": "int"},
    "batch": {"epoch": "int", "batch": "int", "batches": "int", "losses": "metrics", "gpu_mem_gb": "num?"},
    "epoch_end": {
        "epoch": "int",
        "epochs": "int",
        "losses": "metrics",
        "lr": "metrics",
        "seconds": "num",
        "gpu_mem_gb": "num?",
    },
    "val": {"epoch": "int", "metrics": "metrics", "fitness": "num?"},
    "checkpoint": {"epoch": "int", "last": "str", "best": "str?", "is_best": "bool"},
    "done": {
        "run_dir": "str",
        "epochs_completed": "int",
        "stopped": "bool",
        "best": "str?",
        "last": "str?",
        "metrics": "metrics",
        "per_class": "per_class",
        "seconds": "num",
    },
    "export_start": {"format": "str", "weights": "str"},
    "export_done": {"format": "str", "path": "str"},
    # `formats`: every export format and whether this machine can build it (ExportFormatInfo in review.ts)
    "formats": {"formats": "formats"},
    "error": {"code": "code", "message": "str", "hint": "str?"},
}

PER_CLASS = {
    "name": "str",
    "images": "int",
    "instances": "int",
    "p": "num",
    "r": "num",
    "ap50": "num",
    "ap50_95": "num",
}

EXPORT_OPTIONS = ("imgsz", "half", "int8", "dynamic", "simplify", "nms")

FORMAT_INFO = {
    "format": "str",
    "label": "str",
    "available": "bool",
    "missing": "strs",
    "blocked": "str?",
    "options": "options",
}

ENV_REPORT = {
    "protocol": "int",
    "python": "str",
    "python_version": "str",
    "platform": "str",
    "torch": "str?",
    "torchvision": "str?",
    "cuda": "str?",
    "cuda_available": "bool",
    "mps_available": "bool",
    "gpus": "gpus",
    "driver": "str?",
    "ultralytics": "str?",
    "numpy": "str?",
    "onnx": "str?",
    "missing": "missing",
}


def _is_num(v: Any) -> bool:
    # JSON has no NaN/Infinity: Node's JSON.parse would reject the whole line.
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check(kind: str, v: Any, where: str) -> None:
    if kind.endswith("?"):
        if v is None:
            return
        kind = kind[:-1]
    ok = {
        "int": lambda: isinstance(v, int) and not isinstance(v, bool),
        "num": lambda: _is_num(v),
        "str": lambda: isinstance(v, str),
        "bool": lambda: isinstance(v, bool),
        "code": lambda: v in ERROR_CODES,
        "metrics": lambda: isinstance(v, dict) and all(isinstance(k, str) and _is_num(x) for k, x in v.items()),
        "per_class": lambda: isinstance(v, list) and all(_obj_ok(PER_CLASS, x) for x in v),
        "gpus": lambda: isinstance(v, list)
        and all(_obj_ok({"name": "str", "memory_gb": "num"}, x) for x in v),
        "missing": lambda: isinstance(v, list) and all(_obj_ok({"package": "str", "error": "str"}, x) for x in v),
        "strs": lambda: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "options": lambda: isinstance(v, list) and all(x in EXPORT_OPTIONS for x in v),
        "formats": lambda: isinstance(v, list) and all(_obj_ok(FORMAT_INFO, x) for x in v),
    }[kind]()
    if not ok:
        raise ValueError(f"{where}: expected {kind}, got {v!r}")


def _obj_ok(fields: dict[str, str], obj: Any) -> bool:
    try:
        validate_object(fields, obj, "item")
        return True
    except ValueError:
        return False


def validate_object(fields: dict[str, str], obj: Any, where: str) -> None:
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: not an object")
    for name, kind in fields.items():
        if name not in obj:
            raise ValueError(f"{where}: missing field {name!r}")
        _check(kind, obj[name], f"{where}.{name}")


def validate_event(ev: Any) -> None:
    """Raise ValueError when ev would not pass TrainerEvent in trainer.ts."""
    if not isinstance(ev, dict) or ev.get("type") not in EVENTS:
        raise ValueError(f"unknown event {ev!r}")
    validate_object(EVENTS[ev["type"]], ev, ev["type"])


def validate_env(report: Any) -> None:
    validate_object(ENV_REPORT, report, "env")


def metrics(d: Any) -> dict[str, float]:
    """A metrics record: plain floats, non-finite values dropped (JSON cannot carry them)."""
    out: dict[str, float] = {}
    for k, v in (d or {}).items():
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out[str(k)] = float(f"{f:.6g}")  # 6 significant digits: the precision results.csv keeps
    return out


def num_or_none(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None
