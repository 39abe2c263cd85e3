"""Task information and hidden activity of trained checkpoints.

One graph per model: ``CheckpointRunner`` builds the network once and restores each
checkpoint into the same session, so a loop over checkpoints never rebuilds a graph.
H pickles hold numpy float32 arrays (T, 128, n_rnn): 'test' trials (16 per location,
location index = trial // 16), input noise off, recurrent noise on (sigma_rec). As in the
original they are written only when asked — compute_H(..., save_H_pickle=True) (its
default) or Get_H(..., save_H=True); every other reader of H goes through iter_H / Get_H,
which read an existing pickle or compute H without writing it (the analysis session's
caches keep it, and what is derived from it, in memory: analysis/session.py).
"""

import os

import numpy as np

import tools  # first: it keeps TensorFlow's start-up notices off (tf_quiet)
import tensorflow.compat.v1 as tf  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

import stages  # noqa: E402
import task  # noqa: E402
from analysis import cache, common, session  # noqa: E402
from analysis.blocks import block  # noqa: E402
from network import Model  # noqa: E402

# CheckpointRunner keeps the recurrent noise it draws, up to this many bytes (float32): the
# noise depends on its seed and shape only, so every checkpoint restored into the runner
# is fed the same arrays (8,192 distractor trials × 175 steps × 256 units: 1.5 GB).
NOISE_CACHE_BYTES = 2 * 1024 ** 3


# Distinct, fixed recurrent-noise streams per rule for analysis runs (training uses
# [seed, step*64 + k]; these never collide with it because they are negative).
def analysis_noise_seed(hp, rule_index):
    return np.array([hp['seed'], -1 - rule_index], dtype=np.int64)


class DamagedCheckpoint(common.DataUnavailable):
    """A checkpoint whose files do not restore (see analysis/damage.py)."""


class CheckpointRunner(object):
    """Restore checkpoints of one model into one graph and run trials on them.

    Usage::

        with CheckpointRunner(model_dir, hp) as runner:
            for trial_num in trials:
                runner.restore(trial_num)
                h, y_hat = runner.run(trial, ['h', 'y_hat'])
    """

    def __init__(self, model_dir, hp=None, sigma_rec=None):
        if not os.path.isdir(model_dir):
            raise FileNotFoundError('Model folder {!r} does not exist'.format(model_dir))
        hp = tools.load_hp(model_dir) if hp is None else hp
        self.model_dir = model_dir
        self.model = Model(model_dir, hp=hp, sigma_rec=sigma_rec, restore_only=True)
        self.hp = self.model.hp
        threads = session.current().threads
        self.sess = tf.Session(config=None if threads is None else tf.ConfigProto(
            intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads))
        self._ctx = self.sess.as_default()
        self._ctx.__enter__()
        self.model.initialize()
        self.trial_num = None
        self._noise, self._noise_bytes = {}, 0

    def restore(self, trial_num):
        """Load checkpoint <model_dir>/<trial_num> (a clear error lists the valid ones).

        A checkpoint that does not restore raises DamagedCheckpoint (a DataUnavailable)
        and is recorded in the session's damaged list (one line the first time); loops over
        checkpoints skip it (restore_or_skip)."""
        folder = tools.checkpoint_dir(self.model_dir, trial_num)
        if not tools.has_checkpoint(folder):
            raise common.DataUnavailable('No checkpoint at trial {} in {}; checkpoints: {}'.format(
                trial_num, self.model_dir, _short_list(tools.list_checkpoints(self.model_dir))))
        self.trial_num = None
        try:
            self.model.restore(folder)
        except tools.DamagedCheckpointError as exc:
            session.current().damaged.add(self.model_dir, trial_num, exc.reason)
            raise DamagedCheckpoint(str(exc)) from None
        self.trial_num = int(trial_num)

    def restore_or_skip(self, trial_num):
        """restore(trial_num); False (nothing restored) for a damaged checkpoint."""
        try:
            self.restore(trial_num)
        except DamagedCheckpoint:
            return False
        return True

    def noise_for(self, x, seed):
        """The recurrent noise (T, B, n_rnn) float32 the graph would draw for input x
        (T, B, n_input) and int64 (2,) seed — drawn in numpy (Model.draw_noise) and kept
        (within NOISE_CACHE_BYTES), so that the next checkpoints reuse it. None when the
        network takes no recurrent noise."""
        key = (int(seed[0]), int(seed[1]), x.shape[0], x.shape[1])
        noise = self._noise.get(key)
        if noise is None:
            noise = self.model.draw_noise(x, seed)
            if noise is not None and self._noise_bytes + noise.nbytes <= NOISE_CACHE_BYTES:
                self._noise[key] = noise
                self._noise_bytes += noise.nbytes
        return noise

    def _noise_to_feed(self, trial, noise_seed, noise):
        """The recurrent noise to feed: `noise` if given, else that of noise_seed (default
        [hp['seed'], 0], as the graph's) from noise_for; None without recurrent noise."""
        if noise is not None:
            return noise
        if noise_seed is None:
            noise_seed = np.array([self.hp['seed'], 0], dtype=np.int64)
        return self.noise_for(trial.x, noise_seed)

    def run(self, trial, fetch=('h',), noise_seed=None, noise=None):
        """Run a Trial; returns the requested arrays ('h' (T, B, n_rnn), 'y_hat'
        (T, B, n_output), 'y_hat_loc' (T, B), 'noise' (T, B, n_rnn): the recurrent noise
        the run used) in the order asked. The recurrent noise is that of noise_seed
        (default [hp['seed'], 0], as the graph's), from noise_for; or `noise`
        (T, B, n_rnn), fed as given."""
        m = self.model
        tensors = {'h': m.h, 'y_hat': m.y_hat, 'y_hat_loc': m.y_hat_loc, 'noise': m.noise}
        feed = {m.x: trial.x}
        noise = self._noise_to_feed(trial, noise_seed, noise)
        if noise is not None:
            feed[m.noise] = noise
        return self.sess.run([tensors[f] for f in fetch], feed_dict=feed)

    def run_last_step(self, trial, noise_seed=None, noise=None):
        """The output at the last step, y_hat[-1:] (1, B, n_output), by a forward pass
        that keeps nothing of the earlier steps (Model.last_step_slot); noise as in run."""
        slot = self.model.last_step_slot()
        feed = {slot['x']: trial.x}
        noise = self._noise_to_feed(trial, noise_seed, noise)
        if noise is not None:
            feed[slot['noise']] = noise
        return self.sess.run(slot['y_hat_last'], feed_dict=feed)

    def run_concurrently(self, trials, noise_seeds, fetch='h'):
        """One array per Trial ('h' (T, B, n_rnn) or 'y_hat' (T, B, n_output)), all
        trials run in one session call so that TensorFlow computes them side by side.
        noise_seeds: one int64 (2,) recurrent-noise seed per trial (noise from noise_for)."""
        slots = self.model.eval_slots(len(trials))
        feed = {}
        for slot, trial, seed in zip(slots, trials, noise_seeds):
            feed[slot['x']] = trial.x
            noise = self.noise_for(trial.x, seed)
            if noise is not None:
                feed[slot['noise']] = noise
        return self.sess.run([slot[fetch] for slot in slots[:len(trials)]], feed_dict=feed)

    def close(self):
        if self.sess is not None:
            self._ctx.__exit__(None, None, None)
            self.sess.close()
            self.sess = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _short_list(values, n=6):
    values = list(values)
    if len(values) <= 2 * n:
        return values
    return '{} ... {} ({} in all)'.format(values[:n], values[-n:], len(values))


def test_trials(hp, rules):
    """{rule: Trial} of 'test' trials with input noise off (the analysis input)."""
    return {rule: task.generate_trials(rule, hp, 'test', noise_on=False) for rule in rules}


def _task_info_entry(trial):
    B = trial.batch_size
    entry = {'epoch_info': dict(trial.epochs)}
    n_stim = len(trial.input_loc) // B
    for k in range(n_stim):
        key = 'in_loc' if k == 0 else 'in_loc_{}'.format(k + 1)
        entry[key] = np.argmax(np.asarray(trial.input_loc[k * B:(k + 1) * B]), axis=1)
    entry['in_loc_set'] = sorted(set(entry['in_loc'].tolist())) if n_stim else []
    return entry


def _write_task_info(hp, model_dir, rules):
    """Add the entries of ``rules`` to model_dir/task_info.pkl (others kept); returns
    (task_info, {rule: Trial} of the test trials)."""
    for rule in rules:
        common.check_rule(hp, rule)
    path = common.task_info_path(model_dir)
    task_info = tools.load_pickle(path) if os.path.isfile(path) else {}
    store = test_trials(hp, rules)
    for rule, trial in store.items():
        task_info[rule] = _task_info_entry(trial)
    tools.save_pickle(task_info, path)
    return task_info, store


@block()
def gen_task_info(hp, log, model_dir, rules=None, return_trial_store=False):
    """Write model_dir/task_info.pkl: rule → {'in_loc' (128,) location index per test
    trial, 'in_loc_2'… for further stimuli, 'in_loc_set', 'epoch_info' (steps)}.

    rules: a rule or a list (default: hp['rule_trains']). Existing entries of other rules
    are kept. ``log`` is not read: task info depends on hp only (the parameter keeps the
    original's call form gen_task_info(hp, log, model_dir, rules)). Returns task_info
    (and the {rule: Trial} store if return_trial_store).
    """
    rules = hp['rule_trains'] if rules is None else common.as_list(rules, 'rules')
    task_info, store = _write_task_info(hp, model_dir, rules)
    return (task_info, store) if return_trial_store else task_info


def rule_task_info(hp, model_dir, rule):
    """task_info[rule] of the model (task_info.pkl extended first if it lacks the rule).

    Raises DataUnavailable naming the model's rules for a rule it was not trained on.
    """
    common.check_rule(hp, rule)
    return task_info_for(hp, model_dir, [rule])[rule]


def task_info_for(hp, model_dir, rules):
    """task_info dict holding every rule of ``rules`` (task_info.pkl extended if needed)."""
    rules = common.as_list(rules, 'rules')
    path = common.task_info_path(model_dir)
    task_info = tools.load_pickle(path) if os.path.isfile(path) else {}
    missing = [r for r in rules if r not in task_info]
    if missing:
        task_info, _ = _write_task_info(hp, model_dir, missing)
    return task_info


@block()
def compute_H(hp, log, model_dir, rules=None, trial_list=None, recompute=False,
              save_H_pickle=True, verbose=True):
    """Hidden activity of every (checkpoint, rule) → <trial>/H_<rule>.pkl.

    rules: default hp['rule_trains']; trial_list: list / range / stage dict (default:
    every checkpoint of ``log``, the only use of the log). See compute_H_at.
    Returns {trial: {rule: H}} when save_H_pickle is False, else None.
    """
    rules = hp['rule_trains'] if rules is None else common.as_list(rules, 'rules')
    trials = stages.expand_trial_list(log['trials'] if trial_list is None else trial_list)
    return compute_H_at(hp, model_dir, rules, trials, recompute=recompute,
                        save_H_pickle=save_H_pickle, verbose=verbose)


def compute_H_at(hp, model_dir, rules, trials, recompute=False, save_H_pickle=True,
                 verbose=True):
    """H (T, 128, n_rnn) float32 of every rule at every checkpoint of ``trials``.

    The graph is built once; each checkpoint is restored once and its rules run in one
    session call. Also writes task_info.pkl. With save_H_pickle the arrays go to
    <trial>/H_<rule>.pkl (existing pickles kept unless recompute) and None is returned;
    else {trial: {rule: H}} is returned and nothing but task_info.pkl is written.
    """
    rules = common.as_list(rules, 'rules')
    trials = stages.expand_trial_list(trials)
    _, store = _write_task_info(hp, model_dir, rules)
    rule_index = {r: i for i, r in enumerate(hp['rule_trains'])}
    todo = []
    for t in trials:
        missing = [r for r in rules if recompute or not save_H_pickle
                   or not os.path.isfile(common.H_path(model_dir, t, r))]
        if missing:
            todo.append((t, missing))
    out = {}
    if not todo:
        return None if save_H_pickle else out
    with CheckpointRunner(model_dir, hp) as runner:
        for t, missing in tqdm(todo, desc='compute_H', unit='ckpt', disable=not verbose):
            if not runner.restore_or_skip(t):
                continue
            Hs = runner.run_concurrently(
                [store[r] for r in missing],
                [analysis_noise_seed(hp, rule_index[r]) for r in missing])
            for rule, h in zip(missing, Hs):
                h = h.astype(np.float32)
                if save_H_pickle:
                    tools.save_pickle(h, common.H_path(model_dir, t, rule))
                else:
                    out.setdefault(t, {})[rule] = h
    if verbose:
        print('compute_H: {} checkpoint(s) × {} rule(s) in {}'.format(
            len(todo), len(rules), model_dir))
    return None if save_H_pickle else out


def iter_H(hp, model_dir, wanted, verbose=True, desc='H', keep=True):
    """Yield (trial, {rule: H (T, 128, n_rnn) float32}) for wanted = {trial: [rules]}, in
    trial order, one checkpoint at a time (memory: one checkpoint's H).

    Each H comes from the session's H cache, else an existing H_<rule>.pkl (ours or the
    original's), else is computed — nothing is written. The graph is built once, at the
    first checkpoint that needs computing; each checkpoint is restored once and its
    rules run in one session call. With ``keep`` computed H also go to the session's H
    cache (within its byte budget).
    """
    h_cache = session.current().H
    wanted = {int(t): list(rules) for t, rules in wanted.items() if rules}
    if not wanted:
        return
    rules_all = sorted({r for rs in wanted.values() for r in rs},
                       key=lambda r: hp['rule_trains'].index(r) if r in hp['rule_trains'] else -1)
    for rule in rules_all:
        common.check_rule(hp, rule)
    store = None
    rule_index = {r: i for i, r in enumerate(hp['rule_trains'])}
    runner = None
    try:
        for t in tqdm(sorted(wanted), desc=desc, unit='ckpt', disable=not verbose,
                      leave=False):
            out, todo = {}, []
            for rule in wanted[t]:
                H = h_cache.get(cache.h_key(model_dir, t, rule))
                if H is None and os.path.isfile(common.H_path(model_dir, t, rule)):
                    H = common.load_H(model_dir, t, rule)
                if H is None:
                    todo.append(rule)
                else:
                    out[rule] = H
            if todo:
                if runner is None:
                    store = test_trials(hp, rules_all)
                    runner = CheckpointRunner(model_dir, hp)
                if not runner.restore_or_skip(t):
                    continue           # named once in the session's damaged list
                Hs = runner.run_concurrently([store[r] for r in todo],
                                             [analysis_noise_seed(hp, rule_index[r])
                                              for r in todo])
                for rule, h in zip(todo, Hs):
                    out[rule] = h.astype(np.float32, copy=False)
                    if keep:
                        h_cache.put(cache.h_key(model_dir, t, rule), out[rule])
            yield t, {r: out[r] for r in wanted[t]}
    finally:
        if runner is not None:
            runner.close()


def Get_H(hp, model_dir, trial_num, rule, save_H=False, task_mode='test'):
    """H (T, 128, n_rnn) float32 of one checkpoint and rule on its 'test' trials: read
    from <trial_num>/H_<rule>.pkl if it exists, else computed — and written only if
    save_H (as the original); computed H are kept in memory (the session's H cache).

    task_mode: only 'test' (the trials H pickles hold) is supported.
    """
    if task_mode != 'test':
        raise ValueError("task_mode must be 'test' (the activity of 'test' trials in "
                         "H_<rule>.pkl); got {!r}".format(task_mode))
    common.check_rule(hp, rule)
    if trial_num is None:      # stages.representative_checkpoints of an empty stage
        raise common.DataUnavailable('no checkpoint given for rule {!r} (trial_num=None: the '
                                     'stage has no checkpoint)'.format(rule))
    if os.path.isfile(common.H_path(model_dir, trial_num, rule)):
        return common.load_H(model_dir, trial_num, rule)
    if save_H:
        compute_H_at(hp, model_dir, [rule], [trial_num], verbose=False)
        if not os.path.isfile(common.H_path(model_dir, trial_num, rule)):
            raise _damaged(model_dir, trial_num)
        return common.load_H(model_dir, trial_num, rule)
    task_info_for(hp, model_dir, [rule])
    for _, Hs in iter_H(hp, model_dir, {trial_num: [rule]}, verbose=False):
        return Hs[rule]
    raise _damaged(model_dir, trial_num)       # iter_H skipped it


def _damaged(model_dir, trial_num):
    reason = session.current().damaged.found.get((os.path.normpath(model_dir), int(trial_num)),
                                                 '?')
    return DamagedCheckpoint('Checkpoint {} of {} does not restore ({})'.format(
        int(trial_num), model_dir, reason))


def H_and_locations(hp, model_dir, trial_num, rule, task_mode='test'):
    """(H (T, 128, n_rnn), in_loc (128,) cue location index per test trial) of one
    checkpoint and rule (Get_H: a pickle if present, else computed and kept in memory,
    not written); task_info is computed if missing."""
    H = Get_H(hp, model_dir, trial_num, rule, task_mode=task_mode)
    in_loc = np.asarray(task_info_for(hp, model_dir, [rule])[rule]['in_loc'])
    return H, in_loc


def location_means_at(hp, model_dir, rule, trials, verbose=True):
    """{trial: location means (T, n_loc, n_rnn) float64} of ``rule`` at ``trials``.

    From the session's means cache, else from H (a pickle if present, else computed
    without writing it, one graph for all missing checkpoints); new means are cached.
    """
    means = session.current().means
    info = rule_task_info(hp, model_dir, rule)
    n = len(info['in_loc_set'])
    out, missing = {}, []
    for t in trials:
        M = means.get(cache.h_key(model_dir, t, rule))
        if M is None:
            missing.append(int(t))
        else:
            out[int(t)] = M
    for t, Hs in iter_H(hp, model_dir, {t: [rule] for t in missing},
                        verbose=verbose, desc='H {}'.format(rule)):
        M = common.location_means(Hs[rule], info['in_loc'], n)
        out[t] = means.put(cache.h_key(model_dir, t, rule), M)
    return out
