"""The analysis session: what the analyses of one process share, in one explicit object.

A Session holds

    figure_root   folder of the figures; a model's go to <figure_root>/figure_<model>/
    threads       TensorFlow threads of the analyses' sessions (None: TensorFlow's default,
                  one per core); a planned run on two processes sets 1 in both
    H, means, psth
                  byte-bounded caches of hidden activity and its products (analysis/cache.py
                  says what is kept and how entries are keyed)
    damaged       the checkpoints found not to restore, left out and counted
                  (analysis/damage.py)

The analyses read the *current* session (``current()``): the innermost one entered with
``with Session(...)``, else one default session made on first use (figures to 'figure/'
in the working folder, default threads, caches that last as long as the process, which is
what a notebook calling the analyses one by one wants). A planned run
(analysis.plan.AnalysisPlan), Main_report and a test enter their own session, so nothing
they set leaks into another run; the current session is a context variable, local to the
thread that entered it.

    with Session(figure_root='/tmp/figs'):
        plot_PSTH(hp, log, model_dir, 'odr', 'stim1', trial_list)   # → /tmp/figs/...
"""

import contextvars
import os

import tools
from analysis import cache, common, damage

MB = cache.MB

# Default byte budgets of the caches.
H_BUDGET = 256 * MB
MEANS_BUDGET = 768 * MB
PSTH_BUDGET = 256 * MB

_CURRENT = contextvars.ContextVar('analysis_session', default=None)
_DEFAULT = []          # the default session, made on first use


class Session(object):
    """Figure folder, TensorFlow threads and caches of the analyses run within it."""

    def __init__(self, figure_root='figure', threads=None, h_budget=H_BUDGET,
                 means_budget=MEANS_BUDGET, psth_budget=PSTH_BUDGET):
        if threads is not None and int(threads) < 1:
            raise ValueError('threads must be None or at least 1, got {!r}'.format(threads))
        self.figure_root = figure_root
        self.threads = None if threads is None else int(threads)
        self.H = cache.ByteLRU(h_budget)
        self.means = cache.ByteLRU(means_budget)
        self.psth = cache.ByteLRU(psth_budget)
        self.damaged = damage.DamagedCheckpoints()
        self._tokens = []

    def clear(self):
        """Empty the caches (e.g. to free memory in a notebook)."""
        for c in (self.H, self.means, self.psth):
            c.clear()

    def figure_folder(self, model_dir):
        """<figure_root>/figure_<model name>: where the figures of model_dir go."""
        return os.path.join(self.figure_root, 'figure_' + common.model_name(model_dir))

    def figure_path(self, model_dir, *parts):
        """Path (without extension) <figure folder of model_dir>/<parts...>; folders
        created."""
        path = os.path.join(self.figure_folder(model_dir), *[str(p) for p in parts])
        tools.mkdir_p(os.path.dirname(path))
        return path

    def __enter__(self):
        self._tokens.append(_CURRENT.set(self))
        return self

    def __exit__(self, *exc):
        _CURRENT.reset(self._tokens.pop())
        return False

    def __repr__(self):
        return 'Session(figure_root={!r}, threads={!r})'.format(self.figure_root, self.threads)


def current():
    """The session analyses run in now: the innermost entered, else the default one."""
    s = _CURRENT.get()
    if s is not None:
        return s
    if not _DEFAULT:
        _DEFAULT.append(Session())
    return _DEFAULT[0]


def figure_path(model_dir, *parts):
    """current().figure_path: <figure_root>/figure_<model>/<parts...> (folders created)."""
    return current().figure_path(model_dir, *parts)
