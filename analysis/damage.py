"""Checkpoints that do not restore, left out of the analyses and counted.

A checkpoint folder can be damaged after training wrote it (an interrupted copy, a full
network share): its data file truncated, its index unreadable. The analyses never stop
for one: ``screen`` (called by runner.log_on_disk, before any block) finds truncated or
unreadable files from the index alone (about 0.1 ms per checkpoint), and
activity.CheckpointRunner.restore catches the rest (a checksum that does not match). Each
damaged checkpoint is named in one line on stderr, once per analysis session, and kept in
the session's ``damaged`` (a DamagedCheckpoints: analysis/session.py), whose count the
closing summaries give (BlockRunner.summary, Main_report).
Nothing is moved or deleted: analyses never write a checkpoint (training moves a damaged
newest checkpoint aside when it resumes).

This module imports no TensorFlow (screen imports it when called).
"""

import os
import sys

import numpy as np

import tools


class DamagedCheckpoints(object):
    """{(model folder, trial): what is wrong} of the checkpoints found damaged in one
    analysis session (a ParallelBlocks child's are merged into its parent's)."""

    def __init__(self):
        self.found = {}

    def add(self, model_dir, trial, reason, say=True):
        """Record a damaged checkpoint; the first time, one line on stderr names it."""
        key = (os.path.normpath(model_dir), int(trial))
        if key in self.found:
            return
        self.found[key] = reason
        if say:
            print('[skipped] checkpoint {} of {} does not restore ({}); the analyses leave '
                  'it out'.format(int(trial), model_dir, reason), file=sys.stderr, flush=True)

    def trials(self, model_dir):
        """Sorted trial numbers of the damaged checkpoints of one model."""
        folder = os.path.normpath(model_dir)
        return sorted(t for d, t in self.found if d == folder)

    def merge(self, found):
        """Add the entries of another process's ``found`` (not named again)."""
        for (model_dir, trial), reason in found.items():
            self.add(model_dir, trial, reason, say=False)

    def summary(self):
        """'2 damaged checkpoint(s) left out: data/6tasks 2560, 3840' or ''."""
        if not self.found:
            return ''
        by_model = {}
        for model_dir, trial in sorted(self.found):
            by_model.setdefault(model_dir, []).append(str(trial))
        return '{} damaged checkpoint(s) left out: {}'.format(
            len(self.found), '; '.join('{} {}'.format(d, ', '.join(ts))
                                       for d, ts in by_model.items()))

    def __len__(self):
        return len(self.found)



def problem(folder):
    """What is wrong with the checkpoint in ``folder`` as far as its index tells (an
    unreadable index, a data file missing or of another size than the index's tensors
    add up to), or None. Reads the index only."""
    import tensorflow.compat.v1 as tf
    import tf_quiet
    path = os.path.join(folder, tools.CKPT_NAME)
    data = path + '.data-00000-of-00001'
    with tf_quiet.captured_stderr_fd() as captured:
        captured.discard = True
        try:
            reader = tf.train.load_checkpoint(path)
            shapes = reader.get_variable_to_shape_map()
            dtypes = reader.get_variable_to_dtype_map()
        except tf.errors.OpError as exc:
            return '{}.index unreadable: {}'.format(
                tools.CKPT_NAME, (exc.message or type(exc).__name__).splitlines()[-1][:200])
    if not os.path.isfile(data):
        return '{} is missing'.format(os.path.basename(data))
    try:
        expected = sum(int(np.prod(shapes[k], dtype=np.int64)) * dtypes[k].size
                       for k in shapes)
    except (TypeError, ValueError):      # a tensor without a fixed size: not checked
        return None
    size = os.path.getsize(data)
    if size != expected:
        return '{} holds {} bytes, its index lists {}{}'.format(
            os.path.basename(data), size, expected, ' (truncated)' if size < expected else '')
    return None


def screen(model_dir, trials, found):
    """Sorted trial numbers among ``trials`` whose checkpoint is damaged (``problem``);
    each is recorded in ``found`` (a DamagedCheckpoints: one line the first time).
    Checkpoints without a folder are not looked at (runner.log_on_disk names those)."""
    damaged = []
    for t in trials:
        folder = tools.checkpoint_dir(model_dir, t)
        if not tools.has_checkpoint(folder):
            continue
        reason = problem(folder)
        if reason is not None:
            found.add(model_dir, t, reason)
            damaged.append(int(t))
    return sorted(damaged)
