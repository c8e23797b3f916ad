"""Turning exceptions into the protocol's error codes, with a plain-language hint."""

from __future__ import annotations

import pickle
import re
import traceback
from typing import Any


class SidecarError(Exception):
    """An error whose code we already know."""

    def __init__(self, code: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


class BadSpec(SidecarError):
    def __init__(self, message: str, hint: str | None = None):
        super().__init__("bad-spec", message, hint)


SETUP_HINT = "Run `spotter env setup` (or Repair in Settings) to install the trainer's pinned packages."


class MissingPackage(SidecarError):
    def __init__(self, message: str, hint: str | None = None):
        super().__init__("missing-package", message, hint or SETUP_HINT)


class OfflineDownload(SidecarError, ConnectionError):
    """Ultralytics wanted to download something. A ConnectionError, so Ultralytics' own offline fallbacks
    (the AMP check) treat it as 'offline' and carry on."""

    def __init__(self, what: str):
        SidecarError.__init__(
            self,
            "missing-package",
            f"Ultralytics tried to download {what}; Spotter never uses the network while training.",
            "Place the file locally (an absolute path) or choose a model .yaml / a local .pt.",
        )


ABI_MARKERS = (
    "numpy.dtype size changed",
    "compiled using NumPy 1.x",
    "undefined symbol",
    "_ARRAY_API not found",
    "numpy.core.multiarray failed to import",
    "numpy.core._multiarray_umath failed to import",
    "DLL load failed",
    "Symbol not found",
)

CORRUPT_MARKERS = (
    "is not a loadable checkpoint",
    "PytorchStreamReader",
    "failed finding central directory",
    "invalid load key",
    "appears to be an Ultralytics YOLOv5 model",
    "is a TorchScript archive",
)


def _chain(e: BaseException) -> list[BaseException]:
    out, seen = [], set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        out.append(e)
        e = e.__cause__ or e.__context__
    return out


def _oom_hint(batch: Any) -> str:
    if isinstance(batch, (int, float)) and batch >= 2:
        return f"Retry with batch={max(1, int(batch) // 2)} (half the current {int(batch)}), or a smaller imgsz."
    return "Retry with a fixed, smaller batch size (e.g. 8) or a smaller imgsz."


def classify(e: BaseException, *, batch: Any = None, stage: str = "") -> dict[str, Any]:
    """The `error` event for an exception. `stage` is what the sidecar was doing (dataset, model, …)."""
    chain = _chain(e)
    text = "\n".join(f"{type(x).__name__}: {x}" for x in chain)
    first = str(e).strip() or type(e).__name__

    def ev(code: str, hint: str | None, message: str = first) -> dict[str, Any]:
        return {"type": "error", "code": code, "message": message, "hint": hint}

    dataset_hint = "Check that data.yaml exists, has an absolute `path:` and that its train/val folders are there."
    if first.startswith("Dataset ") or stage == "dataset":
        # Ultralytics wraps every dataset failure (also its refused download of a missing dataset) in this
        return ev("dataset-not-found", dataset_hint)
    for x in chain:
        if isinstance(x, SidecarError):
            return {"type": "error", "code": x.code, "message": x.message, "hint": x.hint}

    if any(m in text for m in ABI_MARKERS):
        return ev(
            "abi-mismatch",
            "A compiled package was built against another numpy/torch. Run Repair in Settings "
            "(`spotter env setup --repair`) to reinstall the pinned versions together.",
        )
    oom_types = tuple(t for t in (_torch_attr("OutOfMemoryError"), _torch_attr("cuda", "OutOfMemoryError")) if t)
    if any(isinstance(x, oom_types) for x in chain) or "out of memory" in text.lower():
        return ev("cuda-oom", _oom_hint(batch))
    if any(m in text for m in CORRUPT_MARKERS) or any(isinstance(x, (pickle.UnpicklingError, EOFError)) for x in chain):
        return ev("corrupt-weights", "The weights file is damaged or not an Ultralytics checkpoint: pick another .pt "
                  "(e.g. the run's last.pt) or start from a model .yaml.")
    if re.search(r"Invalid \w+ 'device=", text) or "no CUDA" in text or ("MPS" in text and "not available" in text):
        return ev("no-gpu", "No usable GPU was found for the requested device: choose device 'cpu' or check the driver.")
    if "images not found" in text:
        return ev("dataset-not-found", dataset_hint)
    if "nothing to resume" in text:
        return ev("bad-spec", "This run already trained all its epochs (its last.pt is final): fine-tune from its "
                  "weights/best.pt as a new run instead.")
    if any(isinstance(x, SyntaxError) for x in chain) or "is not a valid YOLO argument" in text or \
            "is of invalid type" in text:
        return ev("bad-spec", None)
    if any(isinstance(x, ImportError) for x in chain):
        return ev("missing-package", SETUP_HINT)
    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-3:]).strip()
    return ev("unknown", None, f"{first}\n{tb}" if tb else first)


def _torch_attr(*path: str) -> Any:
    import sys

    obj = sys.modules.get("torch")  # never import torch just to classify (it may be what is broken)
    for p in path:
        obj = getattr(obj, p, None) if obj is not None else None
    return obj if isinstance(obj, type) else None
