#!/usr/bin/env bash
# Set up tlarena on a fresh machine: a virtual environment in .venv with tlarena, its built-in
# plugins and the test tools. Safe to run again. Needs Python ≥ 3.10 and a package index.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
# torch and torchvision are named together so pip picks a matching pair (timm needs torchvision).
.venv/bin/pip install --quiet --disable-pip-version-check "torch>=2.2" torchvision
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[test]"
echo "tlarena is installed in .venv (activate it with: source .venv/bin/activate)"
