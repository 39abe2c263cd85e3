"""tf_quiet: no TensorFlow start-up notice on the console; its real messages still show."""

import os
import subprocess
import sys

import tf_quiet

REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What TensorFlow 2.21 prints at start-up on a CPU without tf_quiet (seen on this machine).
NOTICES = [
    'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR',
    'I0000 00:00:1796436359.902787    4571 port.cc:153] oneDNN custom operations are on. '
    'You may see slightly different numerical results due to floating-point round-off '
    'errors from different computation orders. To turn them off, set the environment '
    'variable `TF_ENABLE_ONEDNN_OPTS=0`.',
    'I0000 00:00:1796436360.030557    4571 cpu_feature_guard.cc:227] This TensorFlow binary '
    'is optimized to use available CPU instructions in performance-critical operations.',
    'To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild '
    'TensorFlow with the appropriate compiler flags.',
    'I0000 00:00:1796436381.456156    4689 mlir_graph_optimization_pass.cc:437] MLIR V1 '
    'optimization pass is not enabled',
]
REAL = ['W0000 00:00:1796436569.435486    7366 op_kernel.cc:1858] OP_REQUIRES failed at '
        'save_restore_v2_ops.cc:115 : NOT_FOUND: /x/model.ckpt; No such file or directory',
        'E0000 00:00:1796436569.4    7366 some.cc:1] an error']
# Words of the notices that must not reach a console.
MARKS = ('absl::InitializeLog', 'oneDNN custom operations', 'cpu_feature_guard',
         'To enable the following instructions', 'MLIR V1 optimization')


def test_the_filter_drops_the_notices_and_keeps_warnings_and_errors():
    text = '\n'.join(NOTICES[:2] + REAL[:1] + NOTICES[2:] + REAL[1:]) + '\n'
    assert tf_quiet.filter_startup_notices(text) == '\n'.join(REAL) + '\n'
    # TF_CPP_MIN_LOG_LEVEL=0 (asked for INFO): only the absl line goes
    assert tf_quiet.filter_startup_notices(text, info_hidden=False).count('\n') == 6


def test_captured_fd2_shows_what_is_not_a_notice(capfd):
    with tf_quiet.captured_stderr_fd():
        os.write(2, ('\n'.join(NOTICES + REAL) + '\n').encode())
    err = capfd.readouterr().err
    assert err == '\n'.join(REAL) + '\n'
    with tf_quiet.captured_stderr_fd() as captured:
        os.write(2, (REAL[0] + '\n').encode())
        captured.discard = True
    assert capfd.readouterr().err == ''


QUIET_RUN = '''
import sys
import train
train.train(sys.argv[1], hp={'n_rnn': 16, 'batch_size_test': 32}, max_steps=0,
            verbose=False)
import tensorflow.compat.v1 as tf
import os
print('tensorflow imported:', 'tensorflow' in sys.modules)
print('oneDNN switched off:', os.environ.get('TF_ENABLE_ONEDNN_OPTS') == '0')
'''


def test_a_training_in_a_fresh_interpreter_prints_no_startup_notice(tmp_path):
    env = dict(os.environ)
    env.pop('TF_CPP_MIN_LOG_LEVEL', None)      # as a user's shell: nothing set
    proc = subprocess.run([sys.executable, '-c', QUIET_RUN, str(tmp_path / 'm')],
                          cwd=REPO_DIR, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'tensorflow imported: True' in proc.stdout
    printed = proc.stdout + proc.stderr
    assert not [m for m in MARKS if m in printed], printed
    # not by switching oneDNN off (20-35 % slower)
    assert 'oneDNN switched off: False' in proc.stdout
