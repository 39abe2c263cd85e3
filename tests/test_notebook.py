"""RNN_BrainMaturation.ipynb runs top to bottom in QUICK mode, headless (nbclient), in a
temporary working folder: the model, its pickles and the figures all land there."""

import os

import nbformat
from nbclient import NotebookClient

REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(REPO_DIR, 'RNN_BrainMaturation.ipynb')
CELL_TIMEOUT = 300   # seconds per cell: generous, for a busy machine


def _text(cell):
    """Everything a code cell printed (streams, errors, plain-text results)."""
    parts = []
    for out in cell.get('outputs', []):
        if out.output_type == 'stream':
            parts.append(out.text)
        elif out.output_type == 'error':
            parts.append('{}: {}'.format(out.ename, out.evalue))
        elif 'text/plain' in out.get('data', {}):
            parts.append(out.data['text/plain'])
    return ''.join(parts)


def _images(cell):
    return sum('image/png' in out.get('data', {}) for out in cell.get('outputs', []))


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == 'code']
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    # QUICK is off unless the environment asks for it.
    assert "os.environ.get('RNN_NOTEBOOK_QUICK', '0')" in ''.join(c.source for c in code)


def test_notebook_runs_in_quick_mode(tmp_path, monkeypatch):
    work = tmp_path / 'work'
    work.mkdir()
    model_dir = str(work / 'models' / 'quick')
    # The kernel inherits this environment: QUICK mode, the model folder, and the clone on
    # its import path (the working folder is not the clone, as it is in normal use).
    monkeypatch.setenv('RNN_NOTEBOOK_QUICK', '1')
    monkeypatch.setenv('RNN_NOTEBOOK_MODEL_DIR', model_dir)
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join(
        p for p in (REPO_DIR, os.environ.get('PYTHONPATH')) if p))
    # as a user's kernel: nothing set; the library keeps TensorFlow's notices off
    monkeypatch.delenv('TF_CPP_MIN_LOG_LEVEL', raising=False)

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name='python3',
                            resources={'metadata': {'path': str(work)}})
    client.execute()          # raises CellExecutionError at the first failing cell

    code = [c for c in nb.cells if c.cell_type == 'code']
    assert all(c.execution_count is not None for c in code)
    assert not [c for c in code if any(o.output_type == 'error' for o in c.outputs)]
    text = '\n'.join(_text(c) for c in code)
    assert 'QUICK = True; model folder: {}'.format(model_dir) in text
    # no TensorFlow start-up notice in any cell (ipykernel shows what C++ writes to fd 2)
    assert not [m for m in ('absl::InitializeLog', 'oneDNN custom operations',
                            'cpu_feature_guard', 'MLIR V1 optimization') if m in text]
    # Every analysis step ran: none lacked its data; the only steps reported as skipped
    # are figures of a unit type a quick model's checkpoint does not have ("nothing to
    # draw", analysis.runner.BlockRunner), and the closing line counts them.
    skipped = [part.split('\n')[0] for part in text.split('[skipped] ')[1:]]
    assert all('nothing to draw' in line and 'has no' in line for line in skipped), skipped
    assert 'step(s) done, {} skipped'.format(len(skipped)) in text
    # ... on the model trained in the temporary folder ...
    assert os.path.isfile(os.path.join(model_dir, 'log.json'))
    assert os.path.isfile(os.path.join(model_dir, '256', 'H_odr.pkl'))
    # ... and its figures were saved there (PNG + PDF) and shown inline.
    fig_dir = work / 'figure' / 'figure_quick'
    pngs = {os.path.relpath(os.path.join(d, f), str(fig_dir))
            for d, _, files in os.walk(str(fig_dir)) for f in files if f.endswith('.png')}
    for expected in ('growth_of_performance_range.png',
                     'odr/stim1/exh_neurons_mix_neurons/odr_stim1_auto_choose_PSTH.png',
                     'odr/stim1/exh_neurons_mix_neurons/odr_stim1_auto_choose_tuning_analysis.png',
                     'odr/stim1/delay1_epoch_mean_growth.png'):
        assert expected in pngs, sorted(pngs)
    assert any(p.startswith('odr/odr_') and '_w200ms_' in p for p in pngs), sorted(pngs)
    assert any(p.startswith('odr/dPCA/') for p in pngs), sorted(pngs)
    assert any(p.startswith('odr/delay1/sample_neuron/') for p in pngs), sorted(pngs)
    for p in pngs:
        assert (fig_dir / p).with_suffix('.pdf').is_file(), p
    assert sum(_images(c) for c in code) >= 10
    assert not os.path.exists(os.path.join(REPO_DIR, 'figure', 'figure_quick'))
