"""The four scripts as a user runs them: --help before TensorFlow, and the errors a user
can fix as one line with exit status 2, nothing written."""

import json
import os
import subprocess
import sys

import pytest

import tools

REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = ('Main_training.py', 'Main_analysis.py', 'Training_with_diff_HyperParameters.py',
           'Analysis_with_diff_HyperParameters.py')
# Runs a script as `python <script> <args>` would and reports which heavy modules the
# run imported (a script that exits early must not have imported TensorFlow).
RUN_AND_REPORT = '''
import runpy, sys
sys.argv = sys.argv[1:]
code = 0
try:
    runpy.run_path(sys.argv[0], run_name='__main__')
except SystemExit as exc:
    code = exc.code
print('tensorflow imported:', 'tensorflow' in sys.modules)
sys.exit(code)
'''


def run_script(*args):
    """(exit status, stdout, stderr) of a script run in a fresh interpreter."""
    env = dict(os.environ)
    env.pop('TF_CPP_MIN_LOG_LEVEL', None)  # TensorFlow's start-up lines would show
    proc = subprocess.run([sys.executable, '-c', RUN_AND_REPORT] + list(args),
                          cwd=REPO_DIR, env=env, capture_output=True, text=True,
                          timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize('script', SCRIPTS)
def test_help_answers_before_tensorflow(script):
    status, out, err = run_script(script, '--help')
    assert status == 0 and out.startswith('usage: ' + script)
    assert 'tensorflow imported: False' in out
    assert err == ''


def test_bad_number_is_an_argparse_error_before_tensorflow(tmp_path):
    status, out, err = run_script('Main_training.py', '--modeldir', str(tmp_path / 'm'),
                                  '--max-trials', '-5')
    assert status == 2 and 'tensorflow imported: False' in out
    assert err.strip().splitlines()[-1] == ('Main_training.py: error: argument '
                                            '--max-trials: -5 is not a positive integer')
    assert not (tmp_path / 'm').exists()


def snapshot(folder):
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(str(folder)))}


def test_main_training_refuses_a_corrupt_hp_json_in_one_line(tmp_path):
    model_dir = tmp_path / 'm'
    model_dir.mkdir()
    (model_dir / 'hp.json').write_text('{"n_rnn": 16,')
    (model_dir / 'log.json').write_text('{"trials": []}')
    before = snapshot(model_dir)
    status, out, err = run_script('Main_training.py', '--modeldir', str(model_dir))
    assert status == 2 and 'tensorflow imported: False' in out
    assert err == 'Main_training.py: error: Corrupt file {}: not valid JSON (Expecting ' \
                  'property name enclosed in double quotes: line 1 column 14 (char 13))\n' \
                  .format(model_dir / 'hp.json')
    assert snapshot(model_dir) == before


def test_main_training_refuses_a_file_as_modeldir(tmp_path):
    (tmp_path / 'm').write_text('notes')
    status, out, err = run_script('Main_training.py', '--modeldir', str(tmp_path / 'm'))
    assert status == 2
    assert err == "Main_training.py: error: '{}' is a file, not a model folder; give a " \
                  "folder (it is created if it does not exist)\n".format(tmp_path / 'm')
    assert (tmp_path / 'm').read_text() == 'notes'


def test_main_training_refuses_other_hp_in_one_line(tmp_path):
    import train
    model_dir = tmp_path / 'm'
    hp = tools.hp_to_json(train.prepare_hp(train.PAPER_HP, 'all_new',
                                           list(train.PAPER_RULE_TRAINS), seed=0))
    hp['n_rnn'] = 128
    tools.save_json(hp, str(model_dir / 'hp.json'))
    tools.save_json({'trials': []}, str(model_dir / 'log.json'))
    before = snapshot(model_dir)
    status, out, err = run_script('Main_training.py', '--modeldir', str(model_dir))
    assert status == 2 and 'tensorflow imported: False' in out
    assert err.count('\n') == 1 and err.startswith(
        "Main_training.py: error: Model folder '{}' already holds a run with different "
        "hyper-parameters (n_rnn: saved 128, new 256).".format(model_dir))
    assert snapshot(model_dir) == before


@pytest.mark.parametrize('broken', ['hp.json', 'log.json'])
def test_main_analysis_refuses_a_corrupt_file_in_one_line(tmp_path, broken):
    model_dir = tmp_path / 'm'
    model_dir.mkdir()
    files = {'hp.json': json.dumps({'seed': 0}), 'log.json': json.dumps({'trials': [0]})}
    files[broken] = '{"trials": [0, 1280'
    for name, text in files.items():
        (model_dir / name).write_text(text)
    before = snapshot(model_dir)
    status, out, err = run_script('Main_analysis.py', '--model-dir', str(model_dir))
    assert status == 2 and 'tensorflow imported: False' in out
    assert err.count('\n') == 1 and err.startswith(
        'Main_analysis.py: error: Corrupt file {}: not valid JSON'.format(model_dir / broken))
    assert snapshot(model_dir) == before


def test_analysis_sweep_refuses_a_corrupt_log_in_one_line(tmp_path):
    model_dir = tmp_path / 'indi_odr'
    model_dir.mkdir()
    (model_dir / 'hp.json').write_text('{}')
    (model_dir / 'log.json').write_text('{"trials": [0')
    status, out, err = run_script('Analysis_with_diff_HyperParameters.py', '--only',
                                  'indi_odr', '--root', str(tmp_path))
    assert status == 2 and 'tensorflow imported: False' in out
    assert err == 'Analysis_with_diff_HyperParameters.py: error: Corrupt file {}: not ' \
                  'valid JSON (Expecting \',\' delimiter: line 1 column 14 (char 13))\n' \
                  .format(model_dir / 'log.json')
    assert sorted(os.listdir(str(tmp_path))) == ['indi_odr']
