"""`formats` and `export`: which export formats this machine can build, and building one.

`formats` answers from package metadata and files only (importlib.util.find_spec, importlib.metadata, torch's
version.py read as text, nvidia-smi): it never imports torch, Ultralytics or a converter, so it takes well under a
second. The packages and platform limits per format follow Ultralytics' exporter (ultralytics/engine/exporter.py:
export_formats(), the check_requirements() calls of each export_* function and its platform asserts).

`export` builds in a private work folder (`--workdir`): the weights are copied there, Ultralytics writes its
output beside that copy, and only a finished export is moved into the weights' own folder (replacing an older
export of the same name in one rename). A failed or cancelled export leaves nothing half-written behind, and
an INT8 ONNX export no longer deletes an existing FP32 best.onnx (Ultralytics removes its intermediate file).
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from .channel import emit, log
from .errors import BadSpec, MissingPackage, SidecarError

OPTIONS = ("imgsz", "half", "int8", "dynamic", "simplify", "nms")
DEFAULT_OPTS = {"simplify": True}  # what the listing assumes: Ultralytics' defaults


@dataclass(frozen=True)
class Package:
    """A pip distribution, the module it provides, and the versions Ultralytics accepts (e.g. '>=2024.0.0')."""

    dist: str
    module: str
    spec: str = ""
    when: str = ""  # needed only with this option (e.g. int8); the format's requirements file installs it anyway


@dataclass(frozen=True)
class Format:
    key: str
    label: str
    ultralytics: str  # the `format=` Ultralytics is given
    options: tuple[str, ...]
    packages: tuple[Package, ...] = ()
    blocked: Callable[[], str | None] = field(default=lambda: None)
    note: str = ""


# ------------------------------------------------------------------ machine facts (cheap, no heavy imports)

def _machine() -> str:
    m = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(m, m)


LINUX, MACOS, WINDOWS = sys.platform.startswith("linux"), sys.platform == "darwin", sys.platform == "win32"


def dist_version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _vtuple(v: str) -> tuple[int, ...]:
    out = []
    for part in v.split("."):
        m = re.match(r"\d+", part)
        if not m:
            break
        out.append(int(m.group()))
    return tuple(out)


def version_ok(have: str, spec: str) -> bool:
    """`have` satisfies a comma-separated spec of >=, <=, ==, <, >, != clauses (release numbers only)."""
    h = _vtuple(have)
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        m = re.match(r"(>=|<=|==|!=|<|>)\s*(.+)", clause)
        if not m:
            continue
        op, want = m.group(1), _vtuple(m.group(2))
        n = max(len(h), len(want))
        a, b = h + (0,) * (n - len(h)), want + (0,) * (n - len(want))
        ok = {">=": a >= b, "<=": a <= b, "==": a == b, "!=": a != b, "<": a < b, ">": a > b}[op]
        if not ok:
            return False
    return True


def torch_cuda_build() -> str | None:
    """The CUDA version torch was built for, read from torch/version.py as text (importing torch takes seconds)."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if not spec or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        f = Path(loc) / "version.py"
        if f.is_file():
            m = re.search(r"^cuda\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", f.read_text(encoding="utf-8", errors="replace"), re.M)
            return m.group(1) if m else None
    return None


_gpu_cache: list[str] | None = None


def nvidia_gpus() -> list[str]:
    global _gpu_cache
    if _gpu_cache is None:
        _gpu_cache = []
        exe = shutil.which("nvidia-smi")
        if exe:
            try:
                r = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=15)
                if r.returncode == 0:
                    _gpu_cache = [line.strip() for line in r.stdout.splitlines() if line.startswith("GPU")]
            except (OSError, subprocess.SubprocessError):
                pass
    return _gpu_cache


def _engine_blocked() -> str | None:
    if MACOS:
        return "TensorRT needs an NVIDIA GPU with CUDA; macOS has none"
    if not nvidia_gpus():
        return "TensorRT builds its engine on an NVIDIA GPU, and no working one was found here (nvidia-smi)"
    if not torch_cuda_build():
        return "TensorRT needs a CUDA build of torch; the trainer environment has a CPU build (repair it on this GPU machine)"
    return None


def _litert_blocked() -> str | None:
    if MACOS or (LINUX and _machine() == "x86_64"):
        return None
    return f"Ultralytics builds TFLite (LiteRT) models on Linux x86-64 and macOS only, not on {platform.system()} {_machine()}"


def _coreml_blocked() -> str | None:
    if WINDOWS:
        return "CoreML export is not supported on Windows (Ultralytics/coremltools): use macOS or Linux"
    return None


def _rknn_blocked() -> str | None:
    if not LINUX:
        return f"Rockchip's rknn-toolkit2 runs on Linux only, not on {platform.system()}"
    torch = dist_version("torch") or "?"
    # rknn-toolkit2 2.3.2 (Ultralytics accepts >=2.3.2,<2.5) requires torch<=2.4.0 and numpy<=1.26.4: installing
    # it here would replace the trainer's torch. Ultralytics itself builds RKNN in a separate environment.
    if not version_ok(torch, "<=2.4.0"):
        return (f"rknn-toolkit2 (2.3.x) requires torch<=2.4 and numpy<=1.26, which cannot share the trainer "
                f"environment (torch {torch}): export ONNX here and convert it with rknn-toolkit2 in its own "
                f"Python environment on Linux")
    return None


ONNX_PACKAGES = (
    Package("onnx", "onnx", ">=1.12.0,<2.0.0"),
    Package("onnxslim", "onnxslim", ">=0.1.82", when="simplify"),
    Package("onnxruntime", "onnxruntime"),
)

FORMATS: tuple[Format, ...] = (
    Format("onnx", "ONNX", "onnx", ("imgsz", "half", "int8", "dynamic", "simplify", "nms"), ONNX_PACKAGES),
    # FP16 TorchScript is GPU-only in Ultralytics; INT8 is not offered
    Format("torchscript", "TorchScript", "torchscript", ("imgsz", "dynamic", "nms")),
    Format("openvino", "OpenVINO", "openvino", ("imgsz", "half", "int8", "dynamic", "nms"),
           (Package("openvino", "openvino", ">=2024.0.0"), Package("nncf", "nncf", ">=2.14.0", when="int8"))),
    # Ultralytics 8.4.83+ replaced tflite with the unified LiteRT export (same .tflite file)
    Format("tflite", "TFLite (LiteRT)", "litert", ("imgsz", "int8"),
           (Package("litert-torch", "litert_torch", ">=0.10.0"), Package("ai-edge-litert", "ai_edge_litert", ">=2.3.0")),
           _litert_blocked),
    Format("ncnn", "NCNN", "ncnn", ("imgsz", "half"),
           (Package("ncnn", "ncnn"), Package("pnnx", "pnnx", "==20260526"))),
    Format("coreml", "CoreML", "coreml", ("imgsz", "half", "int8", "dynamic", "nms"),
           # coremltools breaks with numpy 2.4 (apple/coremltools#2633): Ultralytics requires numpy<=2.3.5
           (Package("coremltools", "coremltools", ">=9.0"), Package("numpy", "numpy", "<=2.3.5")), _coreml_blocked),
    # FP16/INT8 engines need nvidia-modelopt[onnx], whose onnx~=1.21 pin conflicts with the trainer's onnx: FP32 only
    Format("engine", "TensorRT", "engine", ("imgsz", "dynamic", "simplify", "nms"),
           (*ONNX_PACKAGES, Package("tensorrt", "tensorrt", ">=7.0.0,!=10.2.0")), _engine_blocked),
    Format("rknn", "RKNN", "rknn", ("imgsz", "half", "int8"),
           (*ONNX_PACKAGES[:1], Package("rknn-toolkit2", "rknn", ">=2.3.2,<2.5")), _rknn_blocked),
)
BY_KEY = {f.key: f for f in FORMATS}
ALIASES = {"litert": "tflite", "tensorrt": "engine", "trt": "engine", "mlpackage": "coreml", "ts": "torchscript"}


def find_format(key: str) -> Format | None:
    k = key.lower()
    return BY_KEY.get(ALIASES.get(k, k))


def _module_present(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken parent package
        return False


def _tensorrt_dist() -> str:
    cuda = torch_cuda_build()
    return f"tensorrt-cu{cuda.split('.')[0]}" if cuda else "tensorrt"


def missing_packages(fmt: Format, opts: dict[str, Any] | None = None) -> list[str]:
    """What pip would have to install: `name`, or `name<spec> (installed X)` for a version out of range.
    Packages needed only with an option (nncf for INT8 OpenVINO) count when that option is given."""
    out = []
    for p in fmt.packages:
        if p.when and not (DEFAULT_OPTS if opts is None else opts).get(p.when):
            continue
        dist = _tensorrt_dist() if p.module == "tensorrt" else p.dist
        have = dist_version(dist) or dist_version(p.dist)
        if not _module_present(p.module) or have is None:
            out.append(f"{dist}{p.spec if p.spec.startswith('==') else ''}")
        elif p.spec and not version_ok(have, p.spec):
            out.append(f"{dist}{p.spec} (installed {have})")
    return out


def format_info(fmt: Format) -> dict[str, Any]:
    missing = missing_packages(fmt)
    blocked = fmt.blocked()
    return {"format": fmt.key, "label": fmt.label, "available": not missing and blocked is None, "missing": missing,
            "blocked": blocked, "options": list(fmt.options)}


def cmd_formats() -> int:
    emit({"type": "formats", "formats": [format_info(f) for f in FORMATS]})
    return 0


# ------------------------------------------------------------------ export


def install_hint(fmt: Format) -> str:
    return (f"Install them into the trainer environment: `spotter models install {fmt.key}` (or Install in the "
            f"export menu).")


def check_exportable(fmt: Format, opts: dict[str, Any]) -> None:
    """Refuse up front, with the format's name and the reason, what Ultralytics would fail on later."""
    blocked = fmt.blocked()
    if blocked:
        code = "no-gpu" if fmt.key == "engine" and "GPU" in blocked else "bad-spec"
        raise SidecarError(code, f"{fmt.label} export cannot be built on this machine: {blocked}", None)
    for opt in ("half", "int8", "dynamic", "nms"):
        if opts.get(opt) and opt not in fmt.options:
            raise BadSpec(f"{fmt.label} export does not take --{opt} (its options: {', '.join(fmt.options)})")
    missing = missing_packages(fmt, opts)
    if missing:
        raise MissingPackage(f"{fmt.label} export needs {', '.join(missing)}, not installed in the trainer environment",
                             install_hint(fmt))


def _place(src: Path, dest: Path) -> None:
    """Move a finished export (file or folder) to dest, replacing an older one with a rename, never a merge."""
    if dest.is_dir() and not dest.is_symlink():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.replace(dest, old)
        try:
            os.replace(src, dest)
        except OSError:
            os.replace(old, dest)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        if dest.exists() and src.is_dir():
            dest.unlink()
        os.replace(src, dest)


def run_export(a: Any, state: dict[str, Any], load_model: Callable[[str], Any]) -> int:
    """The `export` subcommand (argparse namespace `a`): emits export_start, then export_done."""
    if a.half and a.int8:
        raise BadSpec("choose one of --half and --int8")
    fmt = find_format(a.format)
    opts = {"half": a.half, "int8": a.int8, "dynamic": a.dynamic, "nms": a.nms, "simplify": a.simplify}
    if fmt:
        check_exportable(fmt, opts)
    if a.int8 and not a.data:
        raise BadSpec("--int8 needs --data (a data.yaml whose images calibrate the quantization)")
    if a.data and not Path(a.data).is_file():
        raise SidecarError("dataset-not-found", f"data.yaml not found: {a.data}")
    if a.device:
        from .train import check_device

        check_device(a.device)
    weights = Path(a.weights).resolve()
    if not weights.is_file():
        raise BadSpec(f"weights not found: {weights}")
    key = fmt.key if fmt else a.format
    ufmt = fmt.ultralytics if fmt else a.format

    work = Path(a.workdir).resolve() if a.workdir else None
    source = weights
    if work:
        work.mkdir(parents=True, exist_ok=True)
        source = work / weights.name
        shutil.copy2(weights, source)
    emit({"type": "export_start", "format": key, "weights": str(weights)})
    t0 = time.time()
    try:
        model = load_model(str(source))
        state["stage"] = "export"
        kwargs: dict[str, Any] = {"format": ufmt, "dynamic": a.dynamic, "simplify": a.simplify}
        if a.nms:
            kwargs["nms"] = True  # default None: external NMS (the raw head), as Spotter's own decoder expects
        if a.half or a.int8:
            kwargs["quantize"] = 16 if a.half else 8  # Ultralytics 8.4: `quantize` replaces half/int8
        for k in ("imgsz", "opset", "batch", "device"):
            if getattr(a, k) is not None:
                kwargs[k] = getattr(a, k)
        if a.data:
            kwargs["data"] = str(Path(a.data).resolve())
        log(f"export {key}: {', '.join(f'{k}={v}' for k, v in kwargs.items())}")
        try:
            out = model.export(**kwargs)
        except MissingPackage as e:  # Ultralytics' own requirement check (a package this table does not list)
            raise MissingPackage(f"{fmt.label if fmt else key} export: {e.message}",
                                 install_hint(fmt) if fmt else e.hint) from e
        if not out or not Path(out).exists():
            raise SidecarError("unknown", f"the {key} export produced no file")
        path = Path(out).resolve()
        if work:
            dest = weights.parent / path.name
            _place(path, dest)
            path = dest
    finally:
        if work:
            shutil.rmtree(work, ignore_errors=True)
    log(f"export {key}: {path} in {time.time() - t0:.1f} s")
    emit({"type": "export_done", "format": key, "path": str(path)})
    return 0
