"""Byte-bounded caches of hidden activity and its products, and their keys.

The original suite writes H pickles only when asked (compute_H, Get_H(save_H=True)); a
256-unit model's H takes 10–23 MB per rule and checkpoint, so writing them for every
analysed checkpoint fills gigabytes. Here an analysis that needs H reads an existing
pickle (ours or the original's) or computes H without writing it, and keeps in memory,
within byte budgets, least recently used first out. The caches themselves belong to an
analysis session (analysis/session.py); this module defines their kind and their keys:

    H       H (T, 128, n_rnn) float32 of a (model, checkpoint, rule)
    means   location means (T, n_loc, n_rnn) float64 (common.location_means)
    psth    PSTH rows (n_units, T) of gen_PSTH_log, per checkpoint

Entries are keyed by the model folder, checkpoint, rule and a stamp of where H comes from
(the H pickle's or else the checkpoint's modification time and size), so a pickle written
or a checkpoint re-trained later is never answered from a stale entry. PSTH rows also
carry the stamp of the neuron_info pickle that chose their units.
"""

import os
from collections import OrderedDict

import numpy as np

import tools
from analysis import common

MB = 1 << 20


class ByteLRU(object):
    """Mapping with a byte budget: putting an entry evicts the least recently used ones
    until the total fits; an entry larger than the whole budget is not kept."""

    def __init__(self, budget_bytes):
        self.budget = int(budget_bytes)
        self._items = OrderedDict()
        self.nbytes = 0

    def get(self, key, default=None):
        if key not in self._items:
            return default
        self._items.move_to_end(key)
        return self._items[key][0]

    def __contains__(self, key):
        return key in self._items

    def __len__(self):
        return len(self._items)

    def put(self, key, value, nbytes=None):
        nbytes = _nbytes(value) if nbytes is None else int(nbytes)
        self.pop(key)
        if nbytes > self.budget:
            return value
        self._items[key] = (value, nbytes)
        self.nbytes += nbytes
        while self.nbytes > self.budget:
            _, (_, n) = self._items.popitem(last=False)
            self.nbytes -= n
        return value

    def pop(self, key):
        if key in self._items:
            value, n = self._items.pop(key)
            self.nbytes -= n
            return value
        return None

    def clear(self):
        self._items.clear()
        self.nbytes = 0


def _nbytes(value):
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    return 64


def _stat(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def h_source(model_dir, trial, rule):
    """('pickle', stamp) if H_<rule>.pkl exists, else ('checkpoint', stamp)."""
    stamp = _stat(common.H_path(model_dir, trial, rule))
    if stamp is not None:
        return ('pickle', stamp)
    index = os.path.join(tools.checkpoint_dir(model_dir, trial), tools.CKPT_NAME + '.index')
    return ('checkpoint', _stat(index))


def h_key(model_dir, trial, rule):
    """Cache key of H (and its location means) of one checkpoint and rule."""
    return (os.path.abspath(model_dir), int(trial), rule, h_source(model_dir, trial, rule))


def psth_key(model_dir, trial, rule, epoch, n_types, norm, oppo):
    """Cache key of the PSTH rows of one checkpoint (see psth.gen_PSTH_log)."""
    ninfo = _stat(common.neuron_info_path(model_dir, trial, rule, epoch))
    return h_key(model_dir, trial, rule) + (epoch, tuple(n_types), bool(norm), bool(oppo),
                                            ninfo)
