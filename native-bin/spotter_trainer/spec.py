"""Reading and checking the TrainSpec (trainer.ts) and turning it into Ultralytics train arguments."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import BadSpec, SidecarError

REQUIRED = {"data": str, "model": str, "run_dir": str, "epochs": int, "imgsz": int, "batch": (int, float),
            "device": str, "workers": int}
OPTIONAL = {"patience": int, "optimizer": str, "lr0": (int, float), "cos_lr": bool, "seed": int,
            "cache": (bool, str), "resume": bool, "extra": dict, "batch_event_interval": (int, float)}
# Arguments the spec owns: `extra` may not set them (they decide where files land and what is trained).
RESERVED = {"data", "model", "project", "name", "exist_ok", "save_dir", "resume", "mode"}


def _type_ok(v: Any, t: Any) -> bool:
    if isinstance(v, bool) and t in (int, (int, float)):
        return False
    return isinstance(v, t)


def load_spec(path: str) -> dict[str, Any]:
    try:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadSpec(f"spec file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadSpec(f"spec file {path} is not readable JSON: {e}") from None
    return check_spec(spec, path)


def check_spec(spec: Any, where: str = "spec") -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise BadSpec(f"{where}: the spec must be a JSON object")
    for k, t in REQUIRED.items():
        if k not in spec:
            raise BadSpec(f"{where}: missing field '{k}'")
        if not _type_ok(spec[k], t):
            raise BadSpec(f"{where}: field '{k}' has the wrong type ({spec[k]!r})")
    for k, t in OPTIONAL.items():
        if k in spec and spec[k] is not None and not _type_ok(spec[k], t):
            raise BadSpec(f"{where}: field '{k}' has the wrong type ({spec[k]!r})")
    if spec["epochs"] < 1 or spec["imgsz"] < 1 or spec["workers"] < 0:
        raise BadSpec(f"{where}: epochs and imgsz must be positive and workers >= 0")
    if spec.get("cache") not in (None, True, False, "ram", "disk"):
        raise BadSpec(f"{where}: cache must be true, false, 'ram' or 'disk'")
    extra = spec.get("extra") or {}
    for k, v in extra.items():
        if k in RESERVED:
            raise BadSpec(f"{where}: extra.{k} is set by the spec itself and may not be overridden")
        if k in REQUIRED or k in OPTIONAL:
            raise BadSpec(f"{where}: '{k}' is given both as a spec field and in extra")
        if not (v is None or isinstance(v, (int, float, str, bool))):
            raise BadSpec(f"{where}: extra.{k} must be a number, string, boolean or null")
    if not os.path.isabs(spec["run_dir"]):
        raise BadSpec(f"{where}: run_dir must be an absolute path ({spec['run_dir']})")
    return {**spec, "extra": extra, "batch_event_interval": float(spec.get("batch_event_interval", 0.5))}


def check_inputs(spec: dict[str, Any]) -> None:
    """Cheap checks before importing torch: fail with the right code in a fraction of a second."""
    if "," in spec["device"]:
        raise BadSpec(f"device '{spec['device']}': multi-GPU (DDP) training is not supported by the sidecar yet",
                      "Choose one GPU, e.g. device '0'.")
    data = Path(spec["data"])
    if not data.is_file():
        raise SidecarError("dataset-not-found", f"data.yaml not found: {data}",
                           "Choose a dataset folder that contains data.yaml (re-import it if it was moved).")
    if spec.get("resume"):
        last = Path(spec["run_dir"]) / "weights" / "last.pt"
        if not last.is_file():
            raise BadSpec(f"cannot resume: {last} does not exist", "Start a new run instead.")
    elif spec["model"].lower().endswith(".pt") and not Path(spec["model"]).is_file():
        raise BadSpec(f"model weights not found: {spec['model']}",
                      "Spotter never downloads weights: give a local .pt path or a model .yaml (e.g. yolov8n.yaml).")


def as_batch(b: float) -> int | float:
    return int(b) if float(b).is_integer() else float(b)


def train_args(spec: dict[str, Any], valid_keys: Any) -> dict[str, Any]:
    """Ultralytics `train` arguments: spec fields, then extra; files land in run_dir itself."""
    unknown = sorted(k for k in spec["extra"] if k not in valid_keys)
    if unknown:
        raise BadSpec(f"unknown Ultralytics train argument(s) in extra: {', '.join(unknown)}")
    run_dir = Path(spec["run_dir"])
    args: dict[str, Any] = {
        "data": str(Path(spec["data"]).resolve()),
        "epochs": spec["epochs"],
        "imgsz": spec["imgsz"],
        "batch": as_batch(spec["batch"]),
        "device": spec["device"],
        "workers": spec["workers"],
        "project": str(run_dir.parent),
        "name": run_dir.name,
        "exist_ok": True,
        "save_dir": str(run_dir),  # the only placement Ultralytics honours on resume (its checkpoint has the old one)
    }
    for k in ("patience", "optimizer", "lr0", "cos_lr", "seed", "cache"):
        if spec.get(k) is not None:
            args[k] = spec[k]
    args.update(spec["extra"])
    return args
