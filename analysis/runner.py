"""Running analysis blocks: counting, skipping, and a second process.

    run = BlockRunner()
    stages = run(print_basic_info, hp, log, model_dir, auto_range_select=True)
    run(plot_PSTH, hp, log, model_dir, 'odr', 'stim1', stages)
    print(run.summary(*count_new_figures(model_dir, start)))

A block that raises common.DataUnavailable (the model lacks a rule, a checkpoint, a stage
or a pickle) prints one [skipped] line and the run goes on; any other exception is a bug
and propagates with its traceback. An analysis plan (analysis/plan.py) runs its blocks
through a BlockRunner, and the ones it gives a second process through ParallelBlocks.
"""

import atexit
import codecs
import multiprocessing
import os
import pickle
import sys
import tempfile
import time

import tools
from analysis import common, damage, session


class BlockRunner(object):
    """Run analysis blocks; report and count the blocks whose data is unavailable.

    Calling ``run(fn, *args, **kwargs)`` prints '== <label>', calls fn and returns its
    result. A block is skipped — '[skipped] <label>: <reason>' on stderr, its label and
    reason recorded in ``skipped`` / ``reasons``, None returned — when fn raises
    common.DataUnavailable, or when it returns a result with an empty 'figures' list
    without being called with plot=False (a figure function that had nothing to draw;
    the reason is what it said through
    tools.note). ``done`` counts the other blocks.
    """

    def __init__(self, verbose=True):
        self.verbose = verbose     # False: no '== <label>' line before each block
        self.done = 0
        self.skipped = []
        self.reasons = {}
        self.seconds = {}          # label → (wall s, CPU s) of the block

    def __call__(self, fn, *args, **kwargs):
        label = block_label(fn, args, kwargs)
        if self.verbose:
            print('\n== {}'.format(label), flush=True)
        start, cpu = time.time(), time.process_time()
        try:
            with tools.collect_notes() as said:
                out = fn(*args, **kwargs)
        except common.DataUnavailable as exc:
            return self._skip(label, str(exc))
        finally:
            # wall and CPU time (all threads) of the block: on a loaded machine the CPU
            # time says what the block costs.
            self.seconds[label] = (self.seconds.get(label, (0.0, 0.0))[0] + time.time() - start,
                                   self.seconds.get(label, (0.0, 0.0))[1]
                                   + time.process_time() - cpu)
        if (isinstance(out, dict) and 'figures' in out and not out['figures']
                and kwargs.get('plot', True)):
            return self._skip(label, 'nothing to draw' + (' — ' + '; '.join(said[-2:])
                                                          if said else ''))
        self.done += 1
        return out

    def _skip(self, label, reason):
        print('[skipped] {}: {}'.format(label, reason), file=sys.stderr, flush=True)
        self.skipped.append(label)
        self.reasons[label] = reason
        return None

    def summary(self, n_figures=None, root=None, seconds=None, damaged=None):
        """Closing lines: figures written, blocks done and skipped, the skipped blocks
        grouped by reason, the damaged checkpoints left out (``damaged``, a
        damage.DamagedCheckpoints; default: the current session's)."""
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
        damaged = session.current().damaged if damaged is None else damaged
        if len(damaged):
            lines.append('  ' + damaged.summary())
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
        return v is None or isinstance(v, (str, int, float, bool)) or (
            isinstance(v, tuple) and len(v) <= 3 and all(isinstance(x, (str, int)) for x in v))
    parts = [fn.__name__]
    parts += [str(a) for a in args if short(a) and not (isinstance(a, str) and os.sep in a)]
    parts += ['{}={}'.format(k, v) for k, v in kwargs.items() if short(v)]
    return ' '.join(parts)


class ParallelBlocks(object):
    """Blocks run in a second process while this one runs others.

    On a 2-core machine the behaviour blocks of Main_analysis (TensorFlow forward passes
    of 8,192 trials per checkpoint) then compute beside the PSTH and figure blocks instead
    of after them, and its decoding and dPCA blocks are shared. The process is spawned
    (no TensorFlow state is inherited) and runs the blocks through a BlockRunner of its
    own, in a Session with figure_root and one TensorFlow thread (the two processes share
    the cores); everything it prints (TensorFlow's lines included) goes to a temporary
    file, shown here by ``join``. Blocks are (fn, args, kwargs) of module-level functions
    with picklable arguments; they must not need what this process computes meanwhile
    (they read the model folder), and draw from no shared generator (analysis blocks draw
    from their own: analysis/blocks.py).

    ``shared``: blocks that either process may run, in this order, each by the first
    process free to take it: the second process takes them after its own blocks, this
    one in ``run_shared`` (before join).

    Usage::

        with ParallelBlocks(blocks, shared=others, figure_root='figure') as other:
            run(...)                         # blocks of this process
            mine = other.run_shared(run)     # {index in shared: result} run here
            theirs = other.join(run)         # results of its blocks and shared blocks
    """

    def __init__(self, blocks, shared=(), figure_root='figure'):
        fd, self._log = tempfile.mkstemp(prefix='blocks_', suffix='.log')
        os.close(fd)
        fd, self._result = tempfile.mkstemp(prefix='blocks_', suffix='.pkl')
        os.close(fd)
        ctx = multiprocessing.get_context('spawn')
        self._shared = list(shared)
        self._next_shared = ctx.Value('i', 0)       # index of the next shared block to take
        # daemon: ended with this process if it stops early (an error in its own blocks)
        self._proc = ctx.Process(target=_child, name='parallel-blocks', daemon=True,
                                 args=(list(blocks), self._log, self._result, figure_root,
                                       self._shared, self._next_shared))
        self._proc.start()
        self._t0 = time.time()
        atexit.register(self.close)

    def run_shared(self, run):
        """Run the shared blocks the other process has not taken, through ``run``; returns
        {index in shared: result} of those run here."""
        return run_shared_blocks(run, self._shared, self._next_shared)

    def join(self, run):
        """Show the blocks' output (as it is written, until they end), add their counts and
        times to ``run`` and return {'blocks': [result of each own block], 'shared':
        {index: result}}. A failed block raises RuntimeError here (its traceback is in the
        output shown)."""
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
        session.current().damaged.merge(child.get('damaged', {}))
        for label, (wall, cpu) in child['seconds'].items():
            w0, c0 = run.seconds.get(label, (0.0, 0.0))
            run.seconds[label] = (w0 + wall, c0 + cpu)
        return {'blocks': child['blocks'], 'shared': child['shared']}

    def close(self):
        """Stop the process if it still runs; remove the temporary files."""
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join()
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
    run them through ``run``; returns {index: result} of the blocks run here."""
    out = {}
    while True:
        with next_index.get_lock():
            i = next_index.value
            next_index.value = i + 1
        if i >= len(blocks):
            return out
        fn, args, kwargs = blocks[i]
        out[i] = run(fn, *args, **kwargs)


def _child(blocks, log_path, result_path, figure_root, shared, next_shared):
    """ParallelBlocks' process: output to log_path; its blocks, then the shared blocks it
    can take; counts and results to result_path."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)                       # TensorFlow's C++ lines too
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout.reconfigure(line_buffering=True)
    run = BlockRunner()
    with session.Session(figure_root=figure_root, threads=1) as mine:
        results = [run(fn, *args, **kwargs) for fn, args, kwargs in blocks]
        taken = run_shared_blocks(run, shared, next_shared)
    tools.save_pickle({'done': run.done, 'skipped': run.skipped, 'reasons': run.reasons,
                       'seconds': run.seconds, 'blocks': results, 'shared': taken,
                       'damaged': mine.damaged.found}, result_path)


def count_new_figures(model_dir, since, within=None):
    """(number of PNG files in the figure folder of model_dir written since ``since`` (a
    time.time() value), that folder); the folder of session ``within`` (default: the
    current session)."""
    root = (within or session.current()).figure_folder(model_dir)
    n = 0
    for folder, _, files in os.walk(root):
        n += sum(1 for f in files if f.endswith('.png')
                 and os.path.getmtime(os.path.join(folder, f)) >= since)
    return n, root


def log_on_disk(model_dir, log):
    """The training log of model_dir without the checkpoints it lists whose folder is
    missing (deleted by hand, a copy made halfway), named in one warning line, nor those
    whose files are damaged (damage.screen: one line each, counted in the current
    session's damaged list and in the closing summary).

    Every list of the log with one entry per checkpoint loses their entries, so that the
    stage selection, the trial lists made from the log and the figures never ask for them.
    """
    missing = common.warn_missing_checkpoints(model_dir, log)
    damaged = damage.screen(model_dir, log['trials'], session.current().damaged)
    return without_checkpoints(log, missing + damaged)


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
