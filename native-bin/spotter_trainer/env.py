"""`env`: what the trainer environment holds, as one EnvReport. Works with nothing but the stdlib:
every package is imported in its own try, and a failure is reported in `missing` with its error."""

from __future__ import annotations

import importlib
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from typing import Any

from .protocol import PROTOCOL

# (import name, distribution names that provide it): what train/val/export need.
PACKAGES = (
    ("numpy", ("numpy",)),
    ("torch", ("torch",)),
    ("torchvision", ("torchvision",)),
    ("ultralytics", ("ultralytics",)),
    ("onnx", ("onnx",)),
    ("onnxslim", ("onnxslim",)),
    ("onnxruntime", ("onnxruntime", "onnxruntime-gpu")),
)


def _version(module: Any, dists: tuple[str, ...]) -> str:
    v = getattr(module, "__version__", None)
    if v:
        return str(v)
    for d in dists:
        try:
            return metadata.version(d)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def _driver() -> str | None:
    """The NVIDIA driver version (torch does not expose it): NVML if importable, else nvidia-smi."""
    try:
        import pynvml  # nvidia-ml-py, an Ultralytics dependency

        pynvml.nvmlInit()
        try:
            v = pynvml.nvmlSystemGetDriverVersion()
            return v.decode() if isinstance(v, bytes) else str(v)
        finally:
            pynvml.nvmlShutdown()
    except Exception:
        pass
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
        line = out.stdout.strip().splitlines()
        return line[0].strip() if out.returncode == 0 and line else None
    except (OSError, subprocess.SubprocessError):
        return None


def report() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    missing: list[dict[str, str]] = []
    modules: dict[str, Any] = {}
    for name, dists in PACKAGES:
        try:
            modules[name] = importlib.import_module(name)
            versions[name] = _version(modules[name], dists)
        except BaseException as e:  # ImportError, but also ABI crashes surfacing as other errors
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            versions[name] = None
            missing.append({"package": dists[0], "error": f"{type(e).__name__}: {e}".strip()[:2000]})

    torch = modules.get("torch")
    cuda_available = mps_available = False
    gpus: list[dict[str, Any]] = []
    cuda = None
    if torch is not None:
        cuda = getattr(torch.version, "cuda", None)
        try:
            cuda_available = bool(torch.cuda.is_available())
            for i in range(torch.cuda.device_count() if cuda_available else 0):
                props = torch.cuda.get_device_properties(i)
                gpus.append({"name": str(props.name), "memory_gb": round(props.total_memory / 2**30, 2)})
        except Exception as e:  # a driver too old for this CUDA build lands here
            missing.append({"package": "cuda", "error": f"{type(e).__name__}: {e}"})
        try:
            mps_available = bool(torch.backends.mps.is_available())
        except Exception:
            mps_available = False

    return {
        "protocol": PROTOCOL,
        "python": sys.executable,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "torch": versions.get("torch"),
        "torchvision": versions.get("torchvision"),
        "cuda": cuda,
        "cuda_available": cuda_available,
        "mps_available": mps_available,
        "gpus": gpus,
        "driver": _driver(),
        "ultralytics": versions.get("ultralytics"),
        "numpy": versions.get("numpy"),
        "onnx": versions.get("onnx"),
        "missing": missing,
    }
