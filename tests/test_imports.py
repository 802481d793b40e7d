"The training half imports one way, in letter order (evaluation, checkpoints, reader, learner, cli): importing a module loads none below it."
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = ['evaluation', 'checkpoints', 'reader', 'learner', 'cli']

def loaded(module:str) -> set:
    "The `mrl.*` modules a fresh interpreter has loaded after `import module`."
    code = f"import {module}, sys; print(' '.join(m for m in sys.modules if m.startswith('mrl')))"
    env = {**os.environ, 'PYTHONPATH': str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', '')}
    res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    return set(res.stdout.split())

@pytest.mark.parametrize('name', ORDER)
def test_loads_nothing_below(name):
    below = {f'mrl.{m}' for m in ORDER[ORDER.index(name) + 1:]} | {'mrl.training'}
    assert not loaded(f'mrl.{name}') & below

def test_reader_without_training_machinery():
    assert 'mrl.learner' not in loaded('mrl.reader')
