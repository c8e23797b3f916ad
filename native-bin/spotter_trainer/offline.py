"""Keeping Ultralytics off the network.

Before import: YOLO_OFFLINE (its ONLINE flag is computed at import), no auto-install, a private config
dir, and the bundled font copied in as Arial.ttf / Arial.Unicode.ttf so `check_font` never downloads.
After import: settings sync/hub/integrations off, and every path that downloads or pip-installs is
replaced by one that raises a clear error instead (`check_requirements`, `safe_download`,
`attempt_download_asset`, `get_github_assets`, `is_url(check=True)`). The AMP check's weight download
raises a ConnectionError subclass, which Ultralytics' own check already treats as "offline: AMP on".
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from .channel import log
from .errors import MissingPackage, OfflineDownload

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_FONT = PACKAGE_DIR.parent.parent / "resources" / "fonts" / "DejaVuSans.ttf"
FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")

_patched = False


def config_root(fallback_parent: str | os.PathLike | None) -> Path:
    """YOLO_CONFIG_DIR: SPOTTER_YOLO_CONFIG_DIR (Node sets it inside the app's data), else a folder
    beside the runs (fallback_parent), else a per-user temp folder."""
    env = os.environ.get("SPOTTER_YOLO_CONFIG_DIR")
    if env:
        return Path(env).expanduser().resolve()
    if fallback_parent:
        return Path(fallback_parent).resolve() / ".ultralytics"
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"spotter-ultralytics-{uid}"


def prepare_environment(fallback_parent: str | os.PathLike | None = None) -> Path:
    """Set the environment Ultralytics reads at import. Returns its config dir (…/Ultralytics)."""
    root = config_root(fallback_parent)
    user_dir = root / "Ultralytics"  # Ultralytics appends this to YOLO_CONFIG_DIR
    user_dir.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_CONFIG_DIR"] = str(root)
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "0"
    os.environ.pop("ULTRALYTICS_API_KEY", None)  # would stream the run to Ultralytics Platform
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("MPLCONFIGDIR", str(root / "matplotlib"))
    os.environ.setdefault("TQDM_DISABLE", "0")
    install_font(user_dir)
    return user_dir


def install_font(user_dir: Path) -> None:
    font = Path(os.environ.get("SPOTTER_FONT") or DEFAULT_FONT)
    if not font.is_file():
        log(f"font {font} not found: plots may lack labels (set SPOTTER_FONT to a .ttf)")
        return
    for name in FONT_NAMES:
        dst = user_dir / name
        if not dst.is_file() or dst.stat().st_size != font.stat().st_size:
            tmp = dst.with_suffix(".tmp")
            shutil.copyfile(font, tmp)
            os.replace(tmp, dst)


def _replace_everywhere(module: Any, name: str, new: Any) -> None:
    """Replace module.name and every alias a loaded ultralytics module imported by name."""
    old = getattr(module, name)
    setattr(module, name, new)
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or not mod_name.startswith("ultralytics"):
            continue
        d = getattr(mod, "__dict__", {})
        for attr, value in list(d.items()):
            if value is old:
                setattr(mod, attr, new)


def patch_ultralytics(user_dir: Path, *, tensorboard: bool = False) -> None:
    """Import Ultralytics' entry points and disarm everything that could touch the network."""
    global _patched
    if _patched:
        return
    # Import the modules whose by-name imports need patching (trainer, exporter, validators, tasks).
    import ultralytics  # noqa: F401
    import ultralytics.data.utils  # noqa: F401
    import ultralytics.engine.exporter  # noqa: F401
    import ultralytics.engine.model  # noqa: F401
    import ultralytics.engine.trainer  # noqa: F401
    import ultralytics.engine.validator  # noqa: F401
    import ultralytics.models.yolo  # noqa: F401
    import ultralytics.nn.tasks  # noqa: F401
    from ultralytics import utils as uutils
    from ultralytics.utils import SETTINGS, checks, downloads

    weights_dir = user_dir / "weights"
    weights_dir.mkdir(parents=True, exist_ok=True)
    SETTINGS.update(
        {
            "sync": False,
            "api_key": "",
            "weights_dir": str(weights_dir),
            "runs_dir": str(user_dir / "runs"),
            "datasets_dir": str(user_dir / "datasets"),
            "clearml": False,
            "comet": False,
            "dvc": False,
            "mlflow": False,
            "raytune": False,
            "wandb": False,
            "tensorboard": bool(tensorboard),  # Ultralytics' local TensorBoard logging, off unless asked
            "vscode_msg": False,
            "openvino_msg": False,
        }
    )
    uutils.WEIGHTS_DIR = weights_dir  # read by the AMP check at call time
    uutils.ONLINE = False
    checks.ONLINE = False

    orig_check_requirements = checks.check_requirements

    def check_requirements(requirements=checks.ROOT.parent / "requirements.txt", exclude=(), install=True, cmds="",
                           constrain=()):
        # Check only; never pip-install. A caller that asked to install gets an error naming what is missing.
        ok = orig_check_requirements(requirements, exclude=exclude, install=False, cmds=cmds, constrain=constrain)
        if ok or not install:
            return ok
        reqs = requirements if isinstance(requirements, (list, tuple)) else [requirements]
        unmet = [r for r in reqs if not isinstance(r, Path)
                 and not orig_check_requirements([r], exclude=exclude, install=False)] or reqs
        names = ", ".join(" or ".join(dict.fromkeys(r)) if isinstance(r, (list, tuple)) else str(r) for r in unmet)
        raise MissingPackage(f"Ultralytics needs {names}, not installed in the trainer environment (or not at a "
                             "matching version); Spotter never installs packages while running.")

    orig_safe_download = downloads.safe_download

    def safe_download(url, *args, **kwargs):
        if downloads.is_url(url, check=False) or str(url).lower().startswith(("http:", "https:")):
            raise OfflineDownload(str(url))
        return orig_safe_download(url, *args, **kwargs)  # a local path: only unzips

    def get_github_assets(*args, **kwargs):
        raise OfflineDownload("the Ultralytics asset list")

    orig_attempt = downloads.attempt_download_asset

    def attempt_download_asset(file, *args, **kwargs):
        p = Path(str(file).strip())
        if p.exists() or (Path(SETTINGS["weights_dir"]) / p).exists():
            return orig_attempt(file, *args, **kwargs)
        raise OfflineDownload(f"'{file}' (not found locally)")

    orig_is_url = downloads.is_url

    def is_url(url, check=False):
        return orig_is_url(url, check=False)  # check=True would send a HEAD request

    def check_pip_update_available():
        return False

    _replace_everywhere(checks, "check_requirements", check_requirements)
    _replace_everywhere(downloads, "safe_download", safe_download)
    _replace_everywhere(downloads, "get_github_assets", get_github_assets)
    _replace_everywhere(downloads, "attempt_download_asset", attempt_download_asset)
    _replace_everywhere(downloads, "is_url", is_url)
    _replace_everywhere(checks, "check_pip_update_available", check_pip_update_available)

    import ultralytics.engine.trainer as trainer_mod

    orig_check_amp = trainer_mod.check_amp

    def check_amp(model):
        try:
            device = next(model.parameters()).device
        except StopIteration:
            return orig_check_amp(model)
        if device.type == "cuda" and not (weights_dir / "yolo26n.pt").is_file():
            log(f"AMP: no cached yolo26n.pt in {weights_dir}, so the AMP check cannot run offline; "
                "AMP is enabled without the check (set amp=False if losses become NaN or mAP stays 0)")
        return orig_check_amp(model)  # its download raises OfflineDownload (a ConnectionError): AMP stays on

    trainer_mod.check_amp = check_amp
    _patched = True
