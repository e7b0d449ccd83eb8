#!/usr/bin/env bash
# Set up citebot in ./.venv: the CPU build of torch first (never a multi-GB CUDA build), then
# citebot itself. `./setup.sh --dev` adds the test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"
TORCH_INDEX_URL="${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}"

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check)

if ! .venv/bin/python -c "import torch, sys; sys.exit(0 if torch.__version__.startswith('$TORCH_VERSION') and not torch.version.cuda else 1)" 2>/dev/null; then
  # A local or mirrored CPU wheel first; otherwise PyTorch's CPU wheel index.
  if ! "${PIP[@]}" install -q "torch==${TORCH_VERSION}+cpu" 2>/dev/null; then
    "${PIP[@]}" install -q "torch==${TORCH_VERSION}+cpu" --index-url "$TORCH_INDEX_URL" --extra-index-url https://pypi.org/simple
  fi
fi

# -c constraints.txt: the versions citebot is tested with, not whatever is newest today
if [ "${1:-}" = "--dev" ]; then
  "${PIP[@]}" install -q -c constraints.txt -e ".[dev]"
else
  "${PIP[@]}" install -q -c constraints.txt -e .
fi
.venv/bin/python -c "import torch; assert not torch.version.cuda, 'a CUDA build of torch got in'"
echo "citebot is set up: .venv/bin/citebot --help" >&2
