"""Training from a checkout that is not pip-installed (on PYTHONPATH, as on clusters): the adapter is
written and its provenance records the unknown ``mnm`` version and the checkout's git revision."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import yaml

from core.examples import write_examples
from tests.fakes.tiny_model import build_tiny_llama, tiny_examples

ROOT = Path(__file__).resolve().parents[1]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


def site_without_mnm(target: Path) -> Path:
    """The interpreter's site-packages, linked entry by entry, minus the ``mnm`` distribution."""
    target.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(("mnm-", "__editable__")):
            (target / entry.name).symlink_to(entry)
    return target


def test_training_from_a_plain_checkout_writes_the_adapter_with_provenance(tmp_path):
    checkout = tmp_path / "checkout"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, checkout / name)
    git(checkout, "init", "-q")
    git(checkout, "add", "-A")
    git(checkout, "commit", "-qm", "snapshot")
    revision = git(checkout, "rev-parse", "HEAD")

    base = build_tiny_llama(tmp_path / "base")
    config = tmp_path / "train.yaml"
    config.write_text(yaml.safe_dump({
        "base_model": str(base), "train_data": [str(write_examples(tmp_path / "train.jsonl", tiny_examples(2)))],
        "output_dir": str(tmp_path / "out"), "lora": {"rank": 4}, "dtype": "float32", "max_steps": 1}))
    env = {"PYTHONPATH": f"{checkout}:{site_without_mnm(tmp_path / 'site')}", "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path), "WANDB_MODE": "disabled", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    probe = subprocess.run([sys.executable, "-S", "-c", "import importlib.metadata as m; m.version('mnm')"],
                           env=env, cwd=tmp_path, capture_output=True, text=True)  # not the repo (mnm.egg-info)
    assert "PackageNotFoundError" in probe.stderr  # the situation of the bug: no installed mnm
    run = subprocess.run([sys.executable, "-S", "-m", "training.launch", str(config)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]

    adapter = tmp_path / "out" / "adapter"
    assert (adapter / "adapter_model.safetensors").exists()
    provenance = json.loads((adapter / "provenance.json").read_text())
    assert provenance["versions"]["mnm"] == "unknown"
    assert provenance["versions"]["torch"] == __import__("torch").__version__
    assert provenance["git_revision"] == revision

    def revision_seen() -> str:
        return subprocess.run([sys.executable, "-S", "-c", "from core.provenance import git_revision as g; print(g())"],
                              env=env, cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()

    (checkout / "core" / "provenance.py").write_text((checkout / "core" / "provenance.py").read_text() + "\n")
    assert revision_seen() == f"{revision}+dirty"  # uncommitted changes are flagged
    shutil.rmtree(checkout / ".git")
    assert revision_seen() == "unknown"  # a copied tree without git
