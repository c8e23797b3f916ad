"""`python -m spotter_trainer <command>`: env | train | val | formats | export | predict.

Exit codes: 0 done, 1 error (after an `error` event), 2 bad usage (also with an `error` event).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import channel
from .channel import emit, log
from .errors import BadSpec, SidecarError, classify
from .protocol import PROTOCOL, metrics, validate_env


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print and exit(2) without an event
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> Parser:
    p = Parser(prog="python -m spotter_trainer", description="Spotter's Ultralytics trainer sidecar")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    sub.add_parser("env", help="print the environment report (one JSON object)")
    t = sub.add_parser("train", help="train from a spec.json (TrainSpec)")
    t.add_argument("--spec", required=True)
    v = sub.add_parser("val", help="validate weights on a split")
    v.add_argument("--weights", required=True)
    v.add_argument("--data", required=True)
    v.add_argument("--split", choices=("val", "test", "train"), default="val")
    v.add_argument("--imgsz", type=int)
    v.add_argument("--batch", type=int)
    v.add_argument("--device")
    v.add_argument("--out", help="folder for plots and outputs (default: a temporary folder, removed)")
    sub.add_parser("formats", help="which export formats this machine can build (one `formats` event)")
    e = sub.add_parser("export", help="export weights (ONNX, TorchScript, OpenVINO, TFLite, NCNN, CoreML, TensorRT, …)")
    e.add_argument("--weights", required=True)
    e.add_argument("--format", default="onnx")
    e.add_argument("--imgsz", type=int)
    e.add_argument("--half", action="store_true", help="FP16 (Ultralytics quantize=16)")
    e.add_argument("--int8", action="store_true", help="INT8 (Ultralytics quantize=8; needs --data to calibrate)")
    e.add_argument("--dynamic", action="store_true")
    e.add_argument("--simplify", action=argparse.BooleanOptionalAction, default=True)
    e.add_argument("--nms", action="store_true")
    e.add_argument("--opset", type=int)
    e.add_argument("--batch", type=int)
    e.add_argument("--data")
    e.add_argument("--device")
    e.add_argument("--workdir", help="a private folder to build in; only the finished export lands beside the weights")
    from .bench import add_parser as add_bench_parser

    add_bench_parser(sub)
    pr = sub.add_parser("predict", help="not implemented: inference runs in Node")
    pr.add_argument("rest", nargs=argparse.REMAINDER)
    return p


def _weights_root(weights: str) -> Path:
    """The run folder of runs/<x>/weights/best.pt; the weights' folder otherwise."""
    w = Path(weights).resolve()
    return w.parent.parent if w.parent.name == "weights" else w.parent


def _load_model(weights: str):
    if not Path(weights).is_file():
        raise BadSpec(f"weights not found: {weights}")
    from ultralytics import YOLO

    try:
        return YOLO(weights)
    except Exception as e:
        ev = classify(e)
        if ev["code"] == "unknown":
            raise SidecarError("corrupt-weights", f"cannot load {weights}: {e}") from e
        raise


def cmd_val(a: argparse.Namespace, state: dict[str, Any]) -> int:
    from .train import per_class

    if not Path(a.data).is_file():
        raise SidecarError("dataset-not-found", f"data.yaml not found: {a.data}")
    if a.device:
        from .train import check_device

        check_device(a.device)
    model = _load_model(a.weights)
    state["stage"] = "val"
    out = Path(a.out).resolve() if a.out else None
    tmp = None if out else tempfile.TemporaryDirectory(prefix="spotter-val-")
    save_dir = out or Path(tmp.name)
    kwargs: dict[str, Any] = {"data": str(Path(a.data).resolve()), "split": a.split, "save_dir": str(save_dir),
                              "plots": out is not None, "verbose": True}
    for k in ("imgsz", "batch", "device"):
        if getattr(a, k) is not None:
            kwargs[k] = getattr(a, k)
    t0 = time.time()
    try:
        m = model.val(**kwargs)
        results = metrics(getattr(m, "results_dict", {}) or {})
        results.pop("fitness", None)
        classes = per_class(_MetricsView(m, model))
    finally:
        if tmp:
            tmp.cleanup()
    # No dedicated event in protocol 1: a `done` with 0 epochs carries the metrics of this evaluation.
    emit({"type": "done", "run_dir": str(out or _weights_root(a.weights)), "epochs_completed": 0, "stopped": False,
          "best": str(Path(a.weights).resolve()), "last": None, "metrics": results, "per_class": classes,
          "seconds": round(time.time() - t0, 3)})
    return 0


class _MetricsView:
    """Adapts Model.val()'s returned metrics object to what per_class() reads from a validator."""

    def __init__(self, m: Any, model: Any):
        self.metrics = m
        self.names = getattr(m, "names", None) or getattr(model, "names", {})


def cmd_export(a: argparse.Namespace, state: dict[str, Any]) -> int:
    from .export import run_export

    return run_export(a, state, _load_model)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv and not argv[0].startswith("-") else ""
    if command == "train":
        # first of all: a Ctrl-C (or SIGTERM) during the seconds of heavy imports is a stop, not a crash
        channel.install_stop_signals()
    channel.take_stdout()
    if command == "train":
        channel.read_commands()  # so is a stop command: read from the start, not once torch is imported
    if command != "env":  # env prints exactly one EnvReport object, nothing else
        emit({"type": "hello", "protocol": PROTOCOL, "pid": os.getpid(), "command": command or "?"})
    try:
        a = build_parser().parse_args(argv)
    except UsageError as e:
        if command != "env":
            emit({"type": "error", "code": "bad-spec", "message": str(e), "hint": "See --help."})
        log(str(e))
        return 2
    except SystemExit as e:  # --help
        return int(e.code or 0)

    if a.command == "predict":
        emit({"type": "error", "code": "bad-spec", "message": "predict is not implemented in the sidecar yet: "
              "Spotter runs inference in Node (onnxruntime) on an exported ONNX model.",
              "hint": "Export the model (`export --format onnx`) and use Spotter's predict."})
        return 2

    state: dict[str, Any] = {"stage": "start", "batch": None}
    try:
        if a.command == "formats":  # package metadata only: nothing heavy is imported
            from .export import cmd_formats

            return cmd_formats()
        if a.command == "env":
            from .env import report
            from .offline import patch_ultralytics, prepare_environment

            user_dir = prepare_environment()
            r = report()
            if r["ultralytics"] is not None:
                try:
                    patch_ultralytics(user_dir)
                except Exception as e:  # imported, but our offline set-up failed on it
                    r["missing"].append({"package": "ultralytics", "error": f"{type(e).__name__}: {e}"})
            validate_env(r)
            channel.emit_raw(json.dumps(r, separators=(",", ":")))
            return 0

        if a.command == "train":
            from .spec import check_inputs, load_spec

            spec = load_spec(a.spec)
            state["batch"] = spec["batch"]
            check_inputs(spec)
            if channel.STOP.requested:  # stopped before anything was imported
                from .train import stopped_before_training

                return stopped_before_training(spec, time.time())
            fallback = Path(spec["run_dir"]).parent  # default config dir: beside the runs
        elif a.command == "bench":
            fallback = Path(a.data).resolve().parent
        else:
            fallback = _weights_root(a.weights).parent

        from .offline import patch_ultralytics, prepare_environment

        user_dir = prepare_environment(fallback)
        state["stage"] = "import"
        patch_ultralytics(user_dir, tensorboard=os.environ.get("SPOTTER_TENSORBOARD") == "1")
        if a.command == "train":
            from .train import run_train

            return run_train(spec, state)
        if a.command == "val":
            return cmd_val(a, state)
        if a.command == "bench":
            from .bench import cmd_bench

            return cmd_bench(a, state)
        return cmd_export(a, state)
    except KeyboardInterrupt:  # a second Ctrl-C (train), or the first one (val, export): aborted
        emit({"type": "error", "code": "unknown", "message": "interrupted", "hint": None})
        return 1
    except Exception as e:
        ev = classify(e, batch=state.get("batch"), stage=state.get("stage", ""))
        log(f"{ev['code']}: {ev['message']}")
        import traceback

        traceback.print_exc(file=sys.stderr)
        if a.command == "env":
            return 1
        emit(ev)
        return 1
