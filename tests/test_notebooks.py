"Run every notebook in `nbs/` as one pytest test, through `nbdev_test` (cells flagged `slow` run only with MRL_SLOW=1)."
import os, subprocess, sys
from pathlib import Path
import pytest

NBS = Path(__file__).resolve().parent.parent/'nbs'
NOTEBOOKS = sorted(p for p in NBS.glob('*.ipynb') if not p.name.startswith(('_', '.')))

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook(nb):
    cmd = [str(Path(sys.executable).parent/'nbdev_test'), '--path', str(nb)]
    if os.environ.get('MRL_SLOW') == '1': cmd += ['--flags', 'slow']
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=NBS.parent)
    assert res.returncode == 0, f"{nb.name} failed:\n{res.stdout[-6000:]}\n{res.stderr[-12000:]}"
