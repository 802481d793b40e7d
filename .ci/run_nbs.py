#!/usr/bin/env python
"""Execute notebooks in place so their outputs appear in the docs, then clean them (nbdev_clean).

Usage: python .ci/run_nbs.py [nbs/NAME.ipynb ...]   (default: every notebook in nbs/). Cells flagged `slow` are
not run (as in the tests). Stops with the notebook and cell that failed.
"""
import sys, os, time
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from fastcore.xtras import working_directory

ROOT = Path(__file__).resolve().parent.parent

def _skip(cell):
    return cell.cell_type != 'code' or '#|slow' in cell.source.replace(' ', '') or '#|eval:false' in cell.source.replace(' ', '')

def run(path):
    path = Path(path).resolve()
    nb = read_nb(path)
    for c in nb.cells:                    # execnb keeps a cell's old outputs when the new run prints nothing: start clean
        if c.cell_type == 'code': c.outputs, c.execution_count = [], None
    t = time.time()
    os.environ['IN_TEST'] = '1'
    with working_directory(path.parent):
        shell = CaptureShell(path)
        shell.run_all(nb, exc_stop=True, preproc=_skip)
    write_nb(nb, path)
    print(f"{path.name}: executed in {time.time()-t:.1f} s")

if __name__ == '__main__':
    paths = sys.argv[1:] or sorted(str(p) for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
    for p in paths: run(p)
    import subprocess
    for p in paths: subprocess.run([str(Path(sys.executable).parent/'nbdev_clean'), '--fname', str(p)], check=True, cwd=ROOT)
