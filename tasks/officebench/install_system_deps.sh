#!/usr/bin/env sh
# System packages for OfficeBench tools: LibreOffice (Word/Excel -> PDF, headless, no GUI) and
# Tesseract OCR (English). Debian 12 with --no-install-recommends: 70 packages, ~107 MB download,
# ~332 MB installed. Tests that need them skip with a reason when the binaries are missing.
# Usage: sh tasks/officebench/install_system_deps.sh   (as root, or with sudo available)
set -eu
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    libreoffice-writer-nogui libreoffice-calc-nogui fonts-dejavu-core \
    tesseract-ocr tesseract-ocr-eng
soffice --version
tesseract --version | head -n 1
