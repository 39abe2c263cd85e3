"""Running a list of analyses on one model: what Main_analysis.py,
Analysis_with_diff_HyperParameters.py and the notebook share.

    hp, log = tools.load_hp(model_dir), tools.load_log(model_dir)
    log = log_on_disk(model_dir, log)     # without checkpoints missing on disk (a warning)
    run = BlockRunner()
    stages = run(print_basic_info, hp, log, model_dir, auto_range_select=True)
    run(plot_PSTH, hp, log, model_dir, 'odr', 'stim1', stages)
    ...
    print(run.done, run.skipped, count_new_figures(model_dir, start))

A block that raises common.DataUnavailable (the model lacks a rule, a checkpoint, a stage
or a pickle) prints one [skipped] line and the run goes on; any other exception is a bug
and propagates with its traceback.
"""

import atexit
import codecs
import multiprocessing
import os
import pickle
import sys
import tempfile
import time

from analysis import common, damage


class BlockRunner(object):
    """Run analysis blocks; report and count the blocks whose data is unavailable.

    Calling ``run(fn, *args, **kwargs)`` prints '== <label>', calls fn and returns its
    result. A block is skipped — '[skipped] <label>: <reason>' on stderr, its label and
    reason recorded in ``skipped`` / ``reasons``, None returned — when fn raises
    common.DataUnavailable, or when it returns a result with an empty 'figures' list (a
    figure function that had nothing to draw; the reason is what it said through
    common.note). ``done`` counts the other blocks.
    """

    def __init__(self):
        self.done = 0
        self.skipped = []
        self.reasons = {}
        self.seconds = {}          # label → (wall s, CPU s) of the block

    def __call__(self, fn, *args, **kwargs):
        label = block_label(fn, args, kwargs)
        print('\n== {}'.format(label), flush=True)
        n_notes = len(common.NOTES)
        start, cpu = time.time(), time.process_time()
        try:
            out = fn(*args, **kwargs)
        except common.DataUnavailable as exc:
            return self._skip(label, str(exc))
        finally:
            # wall and CPU time (all threads) of the block: on a loaded machine the CPU
            # time says what the block costs.
            self.seconds[label] = (self.seconds.get(label, (0.0, 0.0))[0] + time.time() - start,
                                   self.seconds.get(label, (0.0, 0.0))[1]
                                   + time.process_time() - cpu)
        if isinstance(out, dict) and 'figures' in out and not out['figures']:
            said = common.NOTES[n_notes:] if len(common.NOTES) > n_notes else []
            return self._skip(label, 'nothing to draw' + (' — ' + '; '.join(said[-2:])
                                                          if said else ''))
        self.done += 1
        return out

    def _skip(self, label, reason):
        print('[skipped] {}: {}'.format(label, reason), file=sys.stderr, flush=True)
        self.skipped.append(label)
        self.reasons[label] = reason
        return None

    def summary(self, n_figures=None, root=None, seconds=None):
        """Closing lines: figures written, blocks done and skipped, the skipped blocks
        grouped by reason."""
        head = []
        if n_figures is not None:
            head.append('{} figure(s) written{}'.format(
                n_figures, ' to {}'.format(root) if root else ''))
        if seconds is not None:
            head.append('in {:.1f} s'.format(seconds))
        lines = ['{}; {} block(s) done, {} skipped'.format(' '.join(head), self.done,
                                                          len(self.skipped))]
        by_reason = {}
        for label in self.skipped:
            by_reason.setdefault(_reason_kind(self.reasons[label]), []).append(label)
        for reason, labels in by_reason.items():
            shown = ', '.join(labels[:4]) + (' …' if len(labels) > 4 else '')
            lines.append('  skipped {} × {}: {}'.format(len(labels), reason, shown))
        if len(damage.DAMAGED):
            lines.append('  ' + damage.DAMAGED.summary())
        if self.seconds:
            slow = sorted(self.seconds.items(), key=lambda kv: -kv[1][0])[:5]
            lines.append('  slowest blocks (wall s / CPU s): ' + '; '.join(
                '{} {:.0f}/{:.0f}'.format(label, w, c) for label, (w, c) in slow))
        return '\n'.join(lines)


def _reason_kind(reason):
    """The part of a reason that groups alike blocks (its first clause)."""
    return reason.split('; ')[0][:160]


def block_label(fn, args, kwargs):
    """'plot_PSTH odrd stim1 plot_oppo_dir=True': the function and its short arguments
    (paths and containers left out)."""
    def short(v):
        return isinstance(v, (str, int, float, bool)) or (
            isinstance(v, tuple) and len(v) <= 3 and all(isinstance(x, (str, int)) for x in v))
    parts = [fn.__name__]
    parts += [str(a) for a in args if short(a) and not (isinstance(a, str) and os.sep in a)]
    parts += ['{}={}'.format(k, v) for k, v in kwargs.items() if short(v)]
    return ' '.join(parts)


class BlockQueue(object):
    """Blocks recorded with BlockRunner's call form, ``queue(fn, *args, **kwargs)``, to be
    run later: shared by two processes (ParallelBlocks(..., shared=queue.blocks)) or here,
    in order (``queue.run_all(run)``)."""

    def __init__(self):
        self.blocks = []           # (fn, args, kwargs)

    def __call__(self, fn, *args, **kwargs):
        self.blocks.append((fn, args, kwargs))

    def __len__(self):
        return len(self.blocks)

    def run_all(self, run):
        for fn, args, kwargs in self.blocks:
            run(fn, *args, **kwargs)


class ParallelBlocks(object):
    """Blocks run by ``fn(run, *args)`` in a second process while this one runs others.

    On a 2-core machine the behaviour blocks of Main_analysis (TensorFlow forward passes
    of 8,192 trials per checkpoint) then compute beside the PSTH and figure blocks instead
    of after them, and its decoding and dPCA blocks are shared. ``fn`` gets a BlockRunner
    of its own in a spawned process (no TensorFlow state is inherited); everything it
    prints (TensorFlow's lines included) goes to a temporary file, shown here by ``join``.
    The blocks must not need what this process computes meanwhile: they read the model
    folder, and hp as it was at the start (its RandomState included: fn may return the
    state its draws leave for the caller to continue from).

    ``shared``: blocks (fn, args, kwargs) that either process may run, in this order, each
    by the first process free to take it: the second process takes them after fn, this
    one in ``run_shared`` (before join). Which process is faster depends on the machine
    and its load; shared blocks keep both busy until the end. They must give the same
    result in either process: read the model folder only, draw from no shared generator.

    Usage::

        with ParallelBlocks(fn, hp, log, model_dir, shared=blocks) as other:
            run(...)                       # blocks of this process
            other.run_shared(run)          # shared blocks, while the other takes them too
            result = other.join(run)       # its output, its blocks counted in run
    """

    def __init__(self, fn, *args, shared=()):
        # Two processes share the cores until close(): one TensorFlow thread each (see
        # common.SESSION_THREADS), in this process's sessions made meanwhile too.
        self._threads_before, common.SESSION_THREADS = common.SESSION_THREADS, 1
        fd, self._log = tempfile.mkstemp(prefix='blocks_', suffix='.log')
        os.close(fd)
        fd, self._result = tempfile.mkstemp(prefix='blocks_', suffix='.pkl')
        os.close(fd)
        ctx = multiprocessing.get_context('spawn')
        self._shared = list(shared)
        self._next_shared = ctx.Value('i', 0)       # index of the next shared block to take
        # daemon: ended with this process if it stops early (an error in its own blocks)
        self._proc = ctx.Process(target=_child, name='parallel-blocks', daemon=True,
                                 args=(fn, args, self._log, self._result, common.FIGURE_ROOT,
                                       self._shared, self._next_shared))
        self._proc.start()
        self._t0 = time.time()
        atexit.register(self.close)

    def run_shared(self, run):
        """Run the shared blocks the other process has not taken, through ``run``; returns
        how many this process ran."""
        return run_shared_blocks(run, self._shared, self._next_shared)

    def join(self, run):
        """Show the blocks' output (as it is written, until they end), add their counts and
        times to ``run`` and return fn's result. A failed block raises RuntimeError here
        (its traceback is in the output shown)."""
        waited = time.time()
        print('\n== output of the blocks run in parallel:', flush=True)
        # incremental: a read may end inside a multi-byte character (tqdm's bars)
        decode = codecs.getincrementaldecoder('utf-8')(errors='replace').decode
        with open(self._log, 'rb') as f:
            while True:
                alive = self._proc.is_alive()
                chunk = f.read()
                if chunk:
                    sys.stdout.write(decode(chunk))
                    sys.stdout.flush()
                if not alive:
                    break
                time.sleep(0.25)
        self._proc.join()
        # how well the two processes were balanced: the wait is time lost to one of them
        print('[the parallel blocks took {:.0f} s; this process waited {:.0f} s for them]'
              .format(time.time() - self._t0, time.time() - waited), flush=True)
        try:
            return self._merge(run)
        finally:
            self.close()

    def _merge(self, run):
        if self._proc.exitcode != 0:
            raise RuntimeError('the blocks run in parallel stopped with exit status {} (their '
                               'output is above)'.format(self._proc.exitcode))
        with open(self._result, 'rb') as f:
            child = pickle.load(f)
        run.done += child['done']
        run.skipped += child['skipped']
        run.reasons.update(child['reasons'])
        damage.DAMAGED.merge(child.get('damaged', {}))
        for label, (wall, cpu) in child['seconds'].items():
            w0, c0 = run.seconds.get(label, (0.0, 0.0))
            run.seconds[label] = (w0 + wall, c0 + cpu)
        return child['result']

    def close(self):
        """Stop the process if it still runs; remove the temporary files."""
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join()
        common.SESSION_THREADS = self._threads_before
        atexit.unregister(self.close)
        for path in (self._log, self._result):
            if os.path.exists(path):
                os.remove(path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def run_shared_blocks(run, blocks, next_index):
    """Take blocks (fn, args, kwargs) in order from a list two processes share, each by
    the first that asks (next_index: a multiprocessing Value, the next block's index), and
    run them through ``run``; returns how many were run here."""
    n = 0
    while True:
        with next_index.get_lock():
            i = next_index.value
            next_index.value = i + 1
        if i >= len(blocks):
            return n
        fn, args, kwargs = blocks[i]
        run(fn, *args, **kwargs)
        n += 1


def _child(fn, args, log_path, result_path, figure_root, shared, next_shared):
    """ParallelBlocks' process: output to log_path, fn's counts and result to result_path;
    after fn, the shared blocks it can take."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)                       # TensorFlow's C++ lines too
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout.reconfigure(line_buffering=True)
    common.FIGURE_ROOT = figure_root      # a test's or the caller's figure folder
    common.SESSION_THREADS = 1
    run = BlockRunner()
    result = fn(run, *args)
    run_shared_blocks(run, shared, next_shared)
    tmp = result_path + '.tmp'
    with open(tmp, 'wb') as f:
        pickle.dump({'done': run.done, 'skipped': run.skipped, 'reasons': run.reasons,
                     'seconds': run.seconds, 'result': result,
                     'damaged': damage.DAMAGED.found}, f)
    os.replace(tmp, result_path)


def count_new_figures(model_dir, since):
    """(number of PNG files under figure/figure_<model>/ written since ``since`` (a
    time.time() value), that folder)."""
    root = os.path.join(common.FIGURE_ROOT, 'figure_' + common.model_name(model_dir))
    n = 0
    for folder, _, files in os.walk(root):
        n += sum(1 for f in files if f.endswith('.png')
                 and os.path.getmtime(os.path.join(folder, f)) >= since)
    return n, root


def log_on_disk(model_dir, log):
    """The training log of model_dir without the checkpoints it lists whose folder is
    missing (deleted by hand, a copy made halfway), named in one warning line, nor those
    whose files are damaged (damage.screen: one line each, counted in the summary).

    Every list of the log with one entry per checkpoint loses their entries, so that the
    stage selection, the trial lists made from the log and the figures never ask for them.
    """
    missing = common.warn_missing_checkpoints(model_dir, log)
    return without_checkpoints(log, missing + damage.screen(model_dir, log['trials']))


def without_checkpoints(log, trials):
    """Copy of a training log without the entries of the given checkpoints (in every list
    as long as log['trials'])."""
    drop = {int(t) for t in trials}
    if not drop:
        return log
    keep = [i for i, t in enumerate(log['trials']) if int(t) not in drop]
    n = len(log['trials'])
    return {k: ([v[i] for i in keep] if isinstance(v, list) and len(v) == n else v)
            for k, v in log.items()}
