"""Writing figure files, optionally in background processes.

Rendering a figure to PNG and PDF costs far more than building it (about 0.55 s for a
nine-panel example-unit figure against 40 ms to pickle and unpickle it, on this project's
2-core machine), and Main_analysis writes a few hundred figures. Inside
``in_background()`` common.save_figure pickles each figure and hands it to a pool of
worker processes (two on a machine with two cores or more) that render it while the
analyses go on computing; common.save_drawn hands over a drawing function and its arrays
instead, and a worker draws the figure itself (the example units: one figure re-used for
all). Outside it (the notebook, tests, a user's own calls) figures are written at once,
as before. The files are the same either way.

This module imports only matplotlib: a worker starts in about a second, without
TensorFlow.
"""

import contextlib
import multiprocessing
import os
import pickle
import signal
from concurrent.futures import ProcessPoolExecutor

# Figures waiting for the workers are bounded: past this many the caller waits for the
# oldest, so memory stays bounded when figures come faster than they are rendered (a
# pickled nine-panel figure is ~0.4 MB: ~100 MB at most). Main_analysis queues its 162
# example-unit figures in a burst; with room for them the blocks after go on computing
# while the workers render, instead of waiting.
MAX_PENDING = 256

PNG_COMPRESS_LEVEL = 3

_saver = None
_discard = False      # True inside discarded()


def write_figure(fig, path, formats=('png', 'pdf'), dpi=150, tight=True):
    """Write fig as <path>.<ext> for every format, cropped to its tight bounding box
    (+ savefig.pad_inches) unless not tight (then the whole figure, as laid out), close
    it; returns the paths.

    The box is measured once for all formats: savefig(bbox_inches='tight') lays the
    figure out and measures it again for every format. Measuring it is a third of the
    time of the many-panel figures, hence tight=False for figures whose layout already
    fits (the example units, written by the hundred).
    """
    import matplotlib
    import matplotlib.pyplot as plt
    bbox = 'tight' if tight else None
    get_renderer = getattr(fig.canvas, 'get_renderer', None)     # Agg-based canvases
    if tight and get_renderer is not None and len(formats) > 1:
        if fig.get_layout_engine() is not None:
            fig.draw_without_rendering()      # constrained / tight layout engines move axes
        bbox = fig.get_tightbbox(get_renderer()).padded(
            matplotlib.rcParams['savefig.pad_inches'])
    paths = []
    for ext in formats:
        p = '{}.{}'.format(path, ext)
        # PNG at zlib level 3 instead of PIL's 6: a quarter less time for the encoder (a
        # seventh of a nine-panel figure's rendering), files ~20 % larger, same pixels.
        extra = {'pil_kwargs': {'compress_level': PNG_COMPRESS_LEVEL}} if ext == 'png' else {}
        fig.savefig(p, dpi=dpi, bbox_inches=bbox, **extra)
        paths.append(p)
    plt.close(fig)
    return paths


def _worker_init():
    # Ctrl-C goes to the whole process group; the parent stops the worker itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import matplotlib
    matplotlib.use('Agg')


def _write_pickled(data, path, formats, dpi, tight):
    return write_figure(pickle.loads(data), path, formats, dpi, tight)


def _draw_and_write(draw, kwargs, path, formats, dpi, tight):
    return write_figure(draw(**kwargs), path, formats, dpi, tight)


class BackgroundSaver(object):
    """Worker processes that write queued figures; see in_background().

    Two workers on a machine with two cores or more: while the analyses compute, they
    share the cores with them; once the analyses are done, the figures still queued are
    written two at a time instead of one (the end of Main_analysis)."""

    def __init__(self, workers=None):
        if workers is None:
            workers = min(2, os.cpu_count() or 1)
        self._pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context('spawn'), initializer=_worker_init)
        self._pending = []      # (future, path)
        self.written = 0

    def submit(self, fig, path, formats, dpi, tight=True):
        """Queue fig for writing; returns the paths it will have."""
        import matplotlib.pyplot as plt
        data = pickle.dumps(fig)
        plt.close(fig)
        return self._queue(path, formats, _write_pickled, data, path, formats, dpi, tight)

    def submit_drawn(self, draw, kwargs, path, formats, dpi, tight=True):
        """Queue a figure drawn by ``draw(**kwargs)`` in a worker; returns its paths."""
        return self._queue(path, formats, _draw_and_write, draw, kwargs, path, formats, dpi,
                           tight)

    def _queue(self, path, formats, writer, *args):
        """writer(*args) in a worker, writing path.<ext> for the formats; waits while
        MAX_PENDING figures are queued. Returns those paths."""
        while len(self._pending) >= MAX_PENDING:
            self._collect(self._pending.pop(0))
        self._pending.append((self._pool.submit(writer, *args), path))
        return _paths(path, formats)

    def _collect(self, item):
        future, path = item
        try:
            future.result()
        except Exception as exc:
            raise RuntimeError('writing figure {} failed: {}: {}'.format(
                path, type(exc).__name__, exc)) from exc
        self.written += 1

    def wait(self):
        """Block until every queued figure is written (re-raises the first failure)."""
        while self._pending:
            self._collect(self._pending.pop(0))

    def close(self, cancel=False):
        self._pool.shutdown(wait=True, cancel_futures=cancel)


@contextlib.contextmanager
def in_background():
    """Within this block common.save_figure queues figures for a worker process; on a
    normal exit every figure has been written (a failure is raised), on an exception
    the figures not yet written are dropped. Nested uses share the outer worker.

    Usage::

        with figsave.in_background():
            ...                       # analyses that call common.save_figure
        # every file exists here
    """
    global _saver
    if _saver is not None:
        yield _saver
        return
    _saver = saver = BackgroundSaver()
    ok = False
    try:
        yield saver
        saver.wait()
        ok = True
    finally:
        _saver = None
        saver.close(cancel=not ok)


def _paths(path, formats):
    return ['{}.{}'.format(path, ext) for ext in formats]


@contextlib.contextmanager
def discarded():
    """Within this block figures are not written: save() closes the figure and
    save_drawn() does not draw; both return the paths the files would have (callers
    print them), none of which is created. For callers that want an analysis's numbers
    only (analysis.report.model_rows(figures=False))."""
    global _discard
    before, _discard = _discard, True
    try:
        yield
    finally:
        _discard = before


def save(fig, path, formats=('png', 'pdf'), dpi=150, tight=True):
    """Write fig now, or queue it when inside in_background(); returns the paths."""
    if _discard:
        import matplotlib.pyplot as plt
        plt.close(fig)
        return _paths(path, formats)
    if _saver is not None:
        return _saver.submit(fig, path, formats, dpi, tight)
    return write_figure(fig, path, formats, dpi, tight)


def save_drawn(draw, kwargs, path, formats=('png', 'pdf'), dpi=150, tight=True):
    """Write the figure ``draw(**kwargs)`` returns, drawn now, or drawn by the worker when
    inside in_background(); returns the paths.

    For figures made by the hundred (the example units): the worker gets the function
    and its arrays instead of a pickled figure, and ``draw`` may re-use one figure for
    every call (analysis/unit_figures.py). ``draw`` must be a module-level function of a
    module the worker can import without TensorFlow, and kwargs picklable.
    """
    if _discard:
        return _paths(path, formats)
    if _saver is not None:
        return _saver.submit_drawn(draw, kwargs, path, formats, dpi, tight)
    return write_figure(draw(**kwargs), path, formats, dpi, tight)
