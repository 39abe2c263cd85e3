"""TensorFlow's start-up notices kept off the console, its real messages kept on it.

Importing TensorFlow 2.21 on a CPU prints, before any output of ours:

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 ... port.cc:153] oneDNN custom operations are on. ...          (twice)
    I0000 ... cpu_feature_guard.cc:227] This TensorFlow binary is optimized ...
    To enable the following instructions: AVX2 ..., in other operations, rebuild ...
    I0000 ... mlir_graph_optimization_pass.cc:437] MLIR V1 optimization pass is not enabled

The last two are INFO lines of TensorFlow's logger: TF_CPP_MIN_LOG_LEVEL=1 (set here
unless the user set it; warnings and errors still show) hides them. The absl line and the
oneDNN notices are written by C++ code while the shared libraries load, before absl's
logging is initialised: no setting hides them (TF_ENABLE_ONEDNN_OPTS=0 would, by
switching off oneDNN, which makes training 20-35 % slower). So ``install()`` hooks the
import of the ``tensorflow`` package: while it runs, file descriptor 2 goes to a
temporary file, and afterwards every line of it but these notices is written to stderr.

tools.py calls install() on import; every script, sweep worker (pool processes, Ray tasks)
and the notebook imports tools (directly or through train / network / analysis) before
TensorFlow. This module imports nothing heavy.
"""

import importlib.abc
import importlib.machinery
import os
import re
import sys
import tempfile

LEVEL_VAR = 'TF_CPP_MIN_LOG_LEVEL'

# Lines written while TensorFlow's libraries load that are start-up notices, not problems.
_ABSL_PRE_INIT = 'WARNING: All log messages before absl::InitializeLog() is called'
# An absl INFO line: I<MMDD> <hh:mm:ss.us> <thread> <file>:<line>] <text>
_INFO_LINE = re.compile(r'^I\d{4} \d+:\d+:\d+\.\d+\s+\d+ [\w.\-/]+:\d+\] ')
_INFO_CONTINUATION = 'To enable the following instructions:'


def is_startup_notice(line, info_hidden=True):
    """True for a line TensorFlow prints at start-up that says nothing is wrong: the absl
    pre-initialisation warning, and (if info_hidden, the TF_CPP_MIN_LOG_LEVEL ≥ 1 case)
    absl INFO lines with the CPU-feature notice's second line."""
    if line.startswith(_ABSL_PRE_INIT):
        return True
    return info_hidden and (bool(_INFO_LINE.match(line)) or
                            line.startswith(_INFO_CONTINUATION))


def filter_startup_notices(text, info_hidden=True):
    """``text`` without its start-up notice lines (is_startup_notice)."""
    return ''.join(line for line in text.splitlines(True)
                   if not is_startup_notice(line, info_hidden))


def _info_hidden():
    try:
        return int(os.environ.get(LEVEL_VAR, '0')) >= 1
    except ValueError:
        return True


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of the tensorflow package with fd 2 captured."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with captured_stderr_fd():
            self._loader.exec_module(module)


class captured_stderr_fd(object):
    """Context: file descriptor 2 (what C++ code writes to) goes to a temporary file;
    on exit the captured lines that are not start-up notices are written to sys.stderr —
    none if the body set ``discard`` (it reports the failure TensorFlow's lines are
    about in its own words). Does nothing if fd 2 cannot be redirected (no console, no
    room for a temporary file)."""

    def __init__(self):
        self.discard = False

    def __enter__(self):
        self._saved = self._tmp = None
        try:
            sys.stderr.flush()
            self._tmp = tempfile.TemporaryFile(mode='w+b')
            self._saved = os.dup(2)
            os.dup2(self._tmp.fileno(), 2)
        except (OSError, ValueError, AttributeError):
            if self._tmp is not None:
                self._tmp.close()
            self._saved = self._tmp = None
        return self

    def __exit__(self, *exc):
        if self._saved is None:
            return False
        try:
            sys.stderr.flush()
        except (OSError, ValueError, AttributeError):
            pass
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._tmp.seek(0)
        text = self._tmp.read().decode('utf-8', errors='replace')
        self._tmp.close()
        rest = '' if self.discard else filter_startup_notices(text, _info_hidden())
        if rest:
            sys.stderr.write(rest)
            sys.stderr.flush()
        return False


class _TensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds the tensorflow package as usual and gives it a _QuietLoader."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != 'tensorflow':
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install():
    """Set TF_CPP_MIN_LOG_LEVEL=1 unless it is set, and hook the first import of
    TensorFlow (a no-op if it is already imported or the hook is installed)."""
    os.environ.setdefault(LEVEL_VAR, '1')
    if 'tensorflow' in sys.modules:
        return
    if not any(isinstance(f, _TensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _TensorFlowFinder())
