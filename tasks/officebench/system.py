"""System binaries (LibreOffice, Tesseract): lookup with a clear install message, and conversions
to PDF through LibreOffice with a private user profile per call (a shared profile makes
concurrent conversions fail silently)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from core.errors import MnmError

INSTALL_SCRIPT = "tasks/officebench/install_system_deps.sh"
PACKAGES = {
    "soffice": "libreoffice-writer-nogui libreoffice-calc-nogui",
    "tesseract": "tesseract-ocr tesseract-ocr-eng",
}


class MissingBinary(MnmError):
    """A system program a tool needs is not installed."""


def require(binary: str) -> str:
    """Full path of ``binary`` or a :class:`MissingBinary` saying what to install."""
    names = ("soffice", "libreoffice") if binary == "soffice" else (binary,)
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise MissingBinary(f"{binary} not found: install it with `apt-get install --no-install-recommends "
                        f"{PACKAGES[binary]}` (or run {INSTALL_SCRIPT})")


def available(binary: str) -> bool:
    try:
        require(binary)
    except MissingBinary:
        return False
    return True


def libreoffice_to_pdf(source: str | Path, outdir: str | Path, timeout: float = 120) -> Path:
    """Convert ``source`` to ``<outdir>/<source stem>.pdf`` (LibreOffice's naming) and return it."""
    soffice = require("soffice")
    source, outdir = Path(source).resolve(), Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mnm-lo-profile-") as profile:
        cmd = [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(outdir), str(source)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"LibreOffice did not convert {source} within {timeout:.0f} s") from None
    result = outdir / f"{source.stem}.pdf"
    if not result.exists():
        raise RuntimeError(f"LibreOffice produced no PDF for {source} (exit {done.returncode}): "
                           f"{done.stderr.strip()[-300:]}")
    return result
