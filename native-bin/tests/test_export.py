"""`formats` and `export`: the format table from package metadata (never importing torch or a converter),
version checks, refusals that name the format and the reason, and real exports built in a private work folder."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NATIVE_BIN, child_env
from test_sidecar import check_stream

from spotter_trainer.export import FORMATS, find_format, version_ok
from spotter_trainer.protocol import validate_event

KEYS = ["onnx", "torchscript", "openvino", "tflite", "ncnn", "coreml", "engine", "rknn"]


def formats_of(res) -> dict[str, dict]:
    return {f["format"]: f for f in res.one("formats")["formats"]}


def test_formats_lists_every_format_and_validates(sidecar, tmp_path):
    res = sidecar(["formats"])
    assert res.rc == 0, res.log
    check_stream(res, tmp_path)  # also the zod schema of trainer.ts
    assert [e["type"] for e in res.events] == ["hello", "formats"]
    fm = formats_of(res)
    assert list(fm) == KEYS
    for f in fm.values():
        assert f["available"] == (not f["missing"] and f["blocked"] is None), f
        assert set(f["options"]) <= {"imgsz", "half", "int8", "dynamic", "simplify", "nms"} and "imgsz" in f["options"]
    # what this environment really holds decides availability
    assert fm["torchscript"]["available"] is True  # torch is all TorchScript needs
    onnx_ok = all(importlib.util.find_spec(m) for m in ("onnx", "onnxslim", "onnxruntime"))
    assert fm["onnx"]["available"] is onnx_ok
    for key, module, dist in (("openvino", "openvino", "openvino"), ("ncnn", "ncnn", "ncnn")):
        if importlib.util.find_spec(module) is None:
            assert dist in fm[key]["missing"] and fm[key]["available"] is False
    if sys.platform.startswith("linux"):
        # rknn-toolkit2 pins torch<=2.4: it cannot share the trainer environment (torch 2.14)
        assert "torch" in fm["rknn"]["blocked"]
    if sys.platform == "win32":
        assert "Windows" in fm["coreml"]["blocked"]


def test_formats_imports_nothing_heavy():
    code = ("import sys; from spotter_trainer.export import FORMATS, format_info; [format_info(f) for f in FORMATS]; "
            "print(sorted(m for m in ('torch', 'ultralytics', 'onnx', 'numpy', 'openvino') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=NATIVE_BIN, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def _fake_dist(root: Path, dist: str, module: str, version: str) -> None:
    """A package as pip would leave it: the module and its dist-info with a version."""
    (root / module).mkdir(parents=True)
    (root / module / "__init__.py").write_text("")
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")


@pytest.mark.skipif(importlib.util.find_spec("ncnn") is not None, reason="ncnn is really installed here")
def test_formats_sees_installed_packages_and_wrong_versions(sidecar, config_dir, tmp_path):
    site = tmp_path / "site"
    _fake_dist(site, "ncnn", "ncnn", "1.0.20260526")
    _fake_dist(site, "pnnx", "pnnx", "20250101")  # Ultralytics 8.4.190 wants exactly 20260526
    env = child_env(config_dir)
    env["PYTHONPATH"] = f"{env['PYTHONPATH']}{':' if sys.platform != 'win32' else ';'}{site}"
    ncnn = formats_of(sidecar(["formats"], env=env))["ncnn"]
    assert ncnn["missing"] == ["pnnx==20260526 (installed 20250101)"] and ncnn["available"] is False
    (site / "pnnx-20250101.dist-info").rename(site / "pnnx-20260526.dist-info")
    (site / "pnnx-20260526.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: pnnx\nVersion: 20260526\n")
    ncnn = formats_of(sidecar(["formats"], env=env))["ncnn"]
    assert ncnn["missing"] == [] and ncnn["available"] is True


@pytest.mark.parametrize(
    "have,spec,ok",
    [
        ("2.4.6", "<=2.3.5", False),
        ("2.3.5", "<=2.3.5", True),
        ("2024.0.0", ">=2024.0.0", True),
        ("10.2.0", ">=7.0.0,!=10.2.0", False),
        ("10.16.1.11", ">=7.0.0,!=10.2.0", True),
        ("2.14.1", "<=2.4.0", False),
        ("2.14.1+cu130", ">=2.1", True),
        ("20260526", "==20260526", True),
    ],
)
def test_version_ok(have, spec, ok):
    assert version_ok(have, spec) is ok


def test_aliases():
    assert find_format("litert").key == "tflite" and find_format("TensorRT").key == "engine"
    assert find_format("paddle") is None
    assert [f.key for f in FORMATS] == KEYS


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """An untrained yolov8n checkpoint built from its yaml (no download, no training): enough to export."""
    d = tmp_path_factory.mktemp("weights") / "weights"
    d.mkdir()
    code = ("from pathlib import Path; import sys; from spotter_trainer.offline import patch_ultralytics, prepare_environment;"
            "patch_ultralytics(prepare_environment(Path(sys.argv[1]))); from ultralytics import YOLO;"
            "m = YOLO('yolov8n.yaml'); m.save(sys.argv[1] + '/best.pt')")
    r = subprocess.run([sys.executable, "-c", code, str(d)], capture_output=True, text=True,
                       env=child_env(d.parent / "cfg"), timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return d / "best.pt"


def test_export_torchscript_in_a_workdir(sidecar, weights, tmp_path):
    work = weights.parent / ".export-test"
    res = sidecar(["export", "--weights", str(weights), "--format", "torchscript", "--imgsz", "64", "--workdir", str(work)])
    assert res.rc == 0, res.log[-3000:]
    check_stream(res, tmp_path)
    assert [e["type"] for e in res.events] == ["hello", "export_start", "export_done"]
    done = res.one("export_done")
    assert done["format"] == "torchscript" and done["path"] == str(weights.with_suffix(".torchscript"))
    assert Path(done["path"]).stat().st_size > 1_000_000
    assert not work.exists()  # the private work folder is gone; only the export landed beside the weights
    assert sorted(p.name for p in weights.parent.iterdir()) == ["best.pt", "best.torchscript"]


@pytest.mark.skipif(not all(importlib.util.find_spec(m) for m in ("onnx", "onnxruntime")), reason="no onnx here")
def test_export_onnx_nms_replaces_the_older_file(sidecar, weights, tmp_path):
    onnx_path = weights.with_suffix(".onnx")
    onnx_path.write_bytes(b"an older export")
    res = sidecar(["export", "--weights", str(weights), "--imgsz", "64", "--nms", "--no-simplify",
                   "--workdir", str(weights.parent / ".export-nms")])
    assert res.rc == 0, res.log[-3000:]
    assert res.one("export_done")["path"] == str(onnx_path)
    import onnx

    m = onnx.load(str(onnx_path))
    meta = {p.key: p.value for p in m.metadata_props}
    assert meta["task"] == "detect" and meta["imgsz"] == "[64, 64]" and "79: '79'" in meta["names"]  # a yaml model's names
    out = m.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in out][2] == 6  # NMS inside: N × (x1, y1, x2, y2, score, class)


def test_export_refusals_name_the_format_and_the_reason(sidecar, weights):
    r = sidecar(["export", "--weights", str(weights), "--format", "torchscript", "--int8"])
    assert r.rc == 1 and r.one("error")["code"] == "bad-spec"
    assert "TorchScript export does not take --int8" in r.one("error")["message"]
    if importlib.util.find_spec("openvino") is None:
        r = sidecar(["export", "--weights", str(weights), "--format", "openvino"])
        err = r.one("error")
        assert r.rc == 1 and err["code"] == "missing-package"
        assert err["message"].startswith("OpenVINO export needs openvino") and "spotter models install openvino" in err["hint"]
    if sys.platform.startswith("linux"):
        r = sidecar(["export", "--weights", str(weights), "--format", "rknn"])
        err = r.one("error")
        assert r.rc == 1 and err["code"] == "bad-spec" and err["message"].startswith("RKNN export cannot be built")
    assert not any(p.name.startswith(".export") for p in weights.parent.iterdir())
    json.dumps([validate_event(e) for e in r.events])
