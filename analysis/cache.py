"""Hidden activity kept in memory, not on disk: H and the small products derived from it.

The original suite writes H pickles only when asked (compute_H, Get_H(save_H=True)); a
256-unit model's H takes 10–23 MB per rule and checkpoint, so writing them for every
analysed checkpoint fills gigabytes. Here an analysis that needs H reads an existing
pickle (ours or the original's) or computes H without writing it, and keeps in memory,
within byte budgets, least recently used first out:

    H_CACHE      H (T, 128, n_rnn) float32 of a (model, checkpoint, rule)        256 MB
    MEANS_CACHE  location means (T, n_loc, n_rnn) float64 (common.location_means) 768 MB
    PSTH_CACHE   PSTH rows (n_units, T) of gen_PSTH_log, per checkpoint            256 MB

Entries are keyed by the model folder, checkpoint, rule and a stamp of where H comes from
(the H pickle's or else the checkpoint's modification time and size), so a pickle written
or a checkpoint re-trained later is never answered from a stale entry. PSTH rows also
carry the stamp of the neuron_info pickle that chose their units.

prepare_activity(hp, model_dir, plan) is the single pass Main_analysis makes: every
checkpoint it needs is restored once (one graph), all its rules run in one session call,
and from each H it writes the missing neuron_info pickles and fills the caches with what
the later blocks read (PSTH rows, location means, H for decoding) — H itself is dropped.
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


H_CACHE = ByteLRU(256 * MB)
MEANS_CACHE = ByteLRU(768 * MB)
PSTH_CACHE = ByteLRU(256 * MB)


def clear():
    """Empty every cache (e.g. to free memory in a notebook)."""
    for c in (H_CACHE, MEANS_CACHE, PSTH_CACHE):
        c.clear()


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


# ----------------------------------------------------------------------------------------
# Location means
# ----------------------------------------------------------------------------------------
def location_means_at(hp, model_dir, rule, trials, verbose=True):
    """{trial: location means (T, n_loc, n_rnn) float64} of ``rule`` at ``trials``.

    From MEANS_CACHE, else from H (a pickle if present, else computed without writing it,
    one graph for all missing checkpoints); new means are cached.
    """
    from analysis import activity
    info = common.rule_task_info(hp, model_dir, rule)
    n = len(info['in_loc_set'])
    out, missing = {}, []
    for t in trials:
        M = MEANS_CACHE.get(h_key(model_dir, t, rule))
        if M is None:
            missing.append(int(t))
        else:
            out[int(t)] = M
    for t, Hs in activity.iter_H(hp, model_dir, {t: [rule] for t in missing},
                                 verbose=verbose, desc='H {}'.format(rule)):
        M = common.location_means(Hs[rule], info['in_loc'], n)
        out[t] = MEANS_CACHE.put(h_key(model_dir, t, rule), M)
    return out


# ----------------------------------------------------------------------------------------
# The single pass of Main_analysis
# ----------------------------------------------------------------------------------------
def plan_entry(trials, epochs=(), psth=(), means=(), H=()):
    """One rule's part of a prepare_activity plan.

    trials: checkpoints (a list of trial numbers) whose neuron_info (``epochs``) and PSTH rows (``psth``: pairs
    (selective epoch, opposite direction?), default neuron types and norm) are wanted;
    means: checkpoints whose location means are kept (sample units, PCA); H: checkpoints
    whose whole H is kept (decoding, dPCA).
    """
    def ints(ts):
        return sorted({int(t) for t in ts})
    return {'trials': ints(trials), 'epochs': list(epochs),
            'psth': [(e, bool(o)) for e, o in psth], 'means': ints(means), 'H': ints(H)}


def prepare_activity(hp, model_dir, plan, recompute=False, verbose=True):
    """Compute, in one pass over checkpoints, what the analyses of ``plan`` will read.

    plan: {rule: plan_entry(...)}. For every checkpoint of the plan, H of the rules that
    still need something there comes from an existing pickle or is computed (the
    checkpoint restored once, its rules run in one session call) and is not written;
    from it: the missing neuron_info_<rule>_<epoch>.pkl are written (all of them with
    recompute), PSTH rows go to PSTH_CACHE, location means to MEANS_CACHE, H to H_CACHE.
    Returns {'checkpoints': n restored or read, 'neuron_info': n written}.
    """
    from analysis import activity, neuron_info, psth
    rules = [r for r in plan if r in hp['rule_trains']]
    task_info = activity.task_info_for(hp, model_dir, rules) if rules else {}
    work = {}          # trial → {rule: what to derive there}
    for rule in rules:
        entry = plan[rule]
        for t in sorted(set(entry['trials']) | set(entry['means']) | set(entry['H'])):
            todo = {'epochs': [], 'psth': [], 'means': False, 'H': False}
            if t in entry['trials']:
                todo['epochs'] = [e for e in entry['epochs'] if recompute or not os.path.isfile(
                    common.neuron_info_path(model_dir, t, rule, e))]
                todo['psth'] = list(entry['psth'])     # keys checked once neuron_info exists
            todo['means'] = (t in entry['means']
                             and h_key(model_dir, t, rule) not in MEANS_CACHE)
            todo['H'] = t in entry['H'] and h_key(model_dir, t, rule) not in H_CACHE
            if todo['psth'] and not todo['epochs']:
                todo['psth'] = [(e, o) for e, o in todo['psth'] if psth_key(
                    model_dir, t, rule, e, common.N_TYPES, True, o) not in PSTH_CACHE]
            if todo['epochs'] or todo['psth'] or todo['means'] or todo['H']:
                work.setdefault(t, {})[rule] = todo
    written = 0
    wanted = {t: sorted(by_rule, key=hp['rule_trains'].index) for t, by_rule in work.items()}
    for t, Hs in activity.iter_H(hp, model_dir, wanted, verbose=verbose, desc='activity',
                                 cache=False):
        for rule, H in Hs.items():
            todo, info = work[t][rule], task_info[rule]
            for epoch in todo['epochs']:
                tools.save_pickle(
                    neuron_info.neuron_info_from_H(H, info['in_loc'], info['epoch_info'], epoch,
                                                   in_loc_set=info['in_loc_set']),
                    common.neuron_info_path(model_dir, t, rule, epoch))
                written += 1
            if todo['psth'] or todo['means']:
                M = common.location_means(H, info['in_loc'], len(info['in_loc_set']))
                for epoch, oppo in todo['psth']:
                    units, prefs = common.selected_units(
                        common.load_neuron_info(model_dir, t, rule, epoch), common.N_TYPES)
                    PSTH_CACHE.put(
                        psth_key(model_dir, t, rule, epoch, common.N_TYPES, True, oppo),
                        psth.psth_from_means(M, info, units, prefs, norm=True,
                                             oppo_sel_dir=oppo))
                if todo['means']:
                    MEANS_CACHE.put(h_key(model_dir, t, rule), M)
            if todo['H']:
                H_CACHE.put(h_key(model_dir, t, rule), H)
    if verbose:
        print('prepare_activity: {} checkpoint(s), {} neuron_info pickle(s) written; H kept '
              'in memory only ({} MB of location means, {} MB of PSTH rows)'.format(
                  len(wanted), written, MEANS_CACHE.nbytes // MB, PSTH_CACHE.nbytes // MB))
    return {'checkpoints': len(wanted), 'neuron_info': written}
