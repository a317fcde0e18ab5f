#!/usr/bin/env bash
# Print the path of a uv binary, installing uv from PyPI (user site) when there is none.
set -euo pipefail
if command -v uv >/dev/null 2>&1; then command -v uv; exit 0; fi
for candidate in "$HOME/.local/bin/uv" "$(python3 -m site --user-base 2>/dev/null)/bin/uv"; do
  if [ -x "$candidate" ]; then echo "$candidate"; exit 0; fi
done
echo "uv not found: installing it from PyPI" >&2
python3 -m pip install --quiet --user uv >&2 2>/dev/null \
  || python3 -m pip install --quiet --user --break-system-packages uv >&2 \
  || python3 -m pip install --quiet uv >&2
command -v uv 2>/dev/null || { base=$(python3 -m site --user-base); echo "$base/bin/uv"; }
