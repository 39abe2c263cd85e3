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

import os
import sys
import time

from analysis import common


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
    missing (deleted by hand, a copy made halfway); those are named in one warning line.

    Every list of the log with one entry per checkpoint loses their entries, so that the
    stage selection, the trial lists made from the log and the figures never ask for them.
    """
    return without_checkpoints(log, common.warn_missing_checkpoints(model_dir, log))


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
