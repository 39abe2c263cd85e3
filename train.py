"""Training: the hyper-parameters (defaults, the paper run, checks), the state of a run
in its model folder (resume, stop criteria), evaluation and the resumable training loop.

TensorFlow is imported only where a network is built (train, _configure_optimizer,
do_eval): the hp and run-state functions work without it, so that scripts parse their
arguments and sweeps inspect their folders without TensorFlow's start-up.
"""

import os
import shutil
import sys
import time
from collections import defaultdict

import numpy as np
from tqdm.auto import tqdm

import folder_lock
import prefetch
import stages
import task
import tools

# hp keys that may legitimately differ between a run and its resumption.
RESUME_IGNORED_KEYS = ('rng', 'model_dir')
# hp keys the code reads although get_default_hp does not set them.
OPTIONAL_HP_KEYS = ('w_rec_start', 'w_in_start', 'in_loc_type', 'mix_rule')
# hp keys prepare_hp sets from its arguments (a value given in hp is replaced; alpha is
# dt / tau and may only be given with that value).
DERIVED_HP_KEYS = ('seed', 'rng', 'rule_trains', 'rules', 'rule_probs', 'alpha')
# Values of train(trainables=...).
TRAINABLES = (None, 'all', 'input', 'rule')

# The paper run (Liu et al., iScience 2021), trained by Main_training.py and the base of
# every experiment of Training_with_diff_HyperParameters.py: these override
# get_default_hp(PAPER_RULESET).
PAPER_HP = {
    'activation': 'softplus',   # f of the leaky RNN
    'n_rnn': 256,               # recurrent units
    'learning_rate': 0.001,     # Adam
    'mix_rule': True,           # rotate rule inputs (only with use_separate_input)
    'l1_h': 0,                  # L1 penalty on activity
    'use_separate_input': False,
    'target_perf': 0.995,       # stop when every task exceeds this
    'mature_target_perf': 0.95,  # stage thresholds used by the analyses
    'mid_target_perf': 0.65,
    'early_target_perf': 0.35,
}
PAPER_RULESET = 'all_new'
PAPER_RULE_TRAINS = ('overlap', 'zero_gap', 'gap', 'odr', 'odrd', 'gap500')
PAPER_DISPLAY_STEP = 20  # steps between checkpoints: 20 * 64 = 1280 trials


def get_default_hp(ruleset):
    """Default hyper-parameters for a ruleset (SPEC §3). One flat dict.

    Raises ValueError naming the valid rulesets for an unknown one.
    """
    num_ring = 1
    n_rule = task.get_num_rule(ruleset)
    n_eachring = 8
    n_input, n_output = 1 + num_ring * n_eachring + n_rule, n_eachring + 1
    hp = {
        'batch_size_train': 64,      # trials per training step
        'batch_size_test': 512,      # trials per rule per evaluation (16 batches of 32)
        'in_type': 'normal',         # input encoding
        'rnn_type': 'LeakyRNN',      # LeakyRNN, LeakyGRU, GRU, LSTM
        'use_separate_input': False,  # sensory and rule inputs through separate layers
        'loss_type': 'lsq',          # least squares on sigmoid outputs
        'optimizer': 'adam',         # adam or sgd
        'activation': 'relu',        # softplus, relu, tanh, power, retanh, elu
        'tau': 100,                  # neuronal time constant (ms)
        'dt': 20,                    # integration step (ms)
        'alpha': 0.2,                # dt / tau
        'sigma_rec': 0.05,           # recurrent noise
        'sigma_x': 0.01,             # input noise
        'w_rec_init': 'randortho',   # diag, randortho, randgauss
        'l1_h': 0,                   # L1 on activity
        'l2_h': 0,                   # L2 on activity
        'l1_weight': 0,              # L1 on weights
        'l2_weight': 0,              # L2 on weights
        'l2_weight_init': 0,         # L2 on the deviation from the initial weights
        'p_weight_train': None,      # fraction of weights trained (None: all)
        'target_perf': 0.95,         # stop when the worst rule exceeds this
        'mature_target_perf': 0.95,  # stage thresholds (SPEC §7)
        'mid_target_perf': 0.65,
        'early_target_perf': 0.35,
        'n_eachring': n_eachring,    # ring units (directions)
        'num_ring': num_ring,
        'n_rule': n_rule,
        'rule_start': 1 + num_ring * n_eachring,  # first rule input unit
        'n_input': n_input,
        'n_output': n_output,
        'n_rnn': 256,                # recurrent units
        'ruleset': ruleset,
        'save_name': 'test',
        'learning_rate': 0.001,
        'c_intsyn': 0,               # intelligent-synapses strength (unused here)
        'ksi_intsyn': 0,
    }
    return hp


def growth_label(perf, hp):
    """Growth label of one rule's performance at one evaluation (log['growth']): '=>E',
    'E=>MID', 'MID=>A' or 'MATURE', defined in stages.py."""
    return stages.growth_label(perf, hp)


def _eval_noise_seed(hp, step, i_rule):
    # Distinct stateless streams for training (slot 0) and each evaluated rule.
    return np.array([hp['seed'], step * 64 + 1 + i_rule], dtype=np.int64)


def _train_noise_seed(hp, step):
    return np.array([hp['seed'], step * 64], dtype=np.int64)


def _concatenate_aligned(arrays):
    """np.concatenate along the batch axis (1) into an array TensorFlow feeds in place."""
    shape = list(arrays[0].shape)
    shape[1] = sum(a.shape[1] for a in arrays)
    return np.concatenate(arrays, axis=1, out=tools.aligned_empty(shape, arrays[0].dtype))


def eval_batches(hp, step=0):
    """The trials of one evaluation, drawn from hp['rng'] exactly as the original.

    Per rule (hp['rules'] order) 16 'random' batches of batch_size_test // 16 (input noise
    on), concatenated along the batch axis. Returns one dict per rule: x (T, B, n_input),
    y (T, B, n_output), c_mask (T*B, n_output), y_loc (1, B) at the last step, noise_seed
    (the stateless seed of this evaluation's recurrent noise for the rule) and noise
    (None: drawn inside the evaluation; draw_eval_noise draws it ahead).
    """
    n_rep = 16
    batch = hp['batch_size_test'] // n_rep
    batches = []
    for i_rule, rule in enumerate(hp['rules']):
        trials = [task.generate_trials(rule, hp, 'random', batch_size=batch)
                  for _ in range(n_rep)]
        x = _concatenate_aligned([t.x for t in trials])
        T = x.shape[0]
        c_mask = _concatenate_aligned([t.c_mask.reshape(T, batch, -1) for t in trials])
        batches.append({'x': x, 'y': _concatenate_aligned([t.y for t in trials]),
                        'c_mask': c_mask.reshape(T * x.shape[1], -1),
                        'y_loc': np.concatenate([t.y_loc[-1:] for t in trials], axis=1),
                        'noise_seed': _eval_noise_seed(hp, step, i_rule), 'noise': None})
    return batches


def draw_eval_noise(model, batches):
    """Draw the recurrent noise of eval_batches' batches now, into batch['noise'].

    Exactly the noise the evaluation graph would draw for the batches' shapes and seeds
    (Model.draw_noise), so do_eval gets the numbers it would have drawn itself. No-op for
    a network without recurrent noise.
    """
    for b in batches:
        b['noise'] = model.draw_noise(b['x'], b['noise_seed'])
    return batches


def do_eval(sess, model, log, rule_train, step=0, batches=None, options=None):
    """Evaluate every rule of hp['rules'] and append the results to log.

    batches: eval_batches(hp, step), perhaps with draw_eval_noise applied — train() draws
    them ahead in its background thread; by default they are drawn now. The 16 batches of
    a rule run as one forward pass (the means equal the means of the per-batch means) and
    all rules in one session call, concurrently; options: tf.RunOptions of that call
    (train() runs it on its session's evaluation thread pool, eval_run_options()).
    Appends log['cost_<rule>'], log['creg_<rule>'], log['perf_<rule>'], log['perf_avg'],
    log['perf_min'] (over rule_train) and log['growth']; returns log.
    """
    from network import get_perf  # network imports TensorFlow (see the module docstring)
    hp = model.hp
    if batches is None:
        batches = eval_batches(hp, step)
    slots = model.eval_slots(len(hp['rules']))
    feed, fetches = {}, []
    for b, slot in zip(batches, slots):
        feed.update({slot['x']: b['x'], slot['y']: b['y'], slot['c_mask']: b['c_mask'],
                     slot['noise_seed']: b['noise_seed']})
        if b['noise'] is not None:
            feed[slot['noise']] = b['noise']
        fetches.append((slot['cost_lsq'], slot['cost_reg'], slot['y_hat_last']))
    results = sess.run(fetches, feed_dict=feed, options=options)
    for rule, (c_lsq, c_reg, y_hat_last), b in zip(hp['rules'], results, batches):
        log['cost_' + rule].append(float(c_lsq))
        log['creg_' + rule].append(float(c_reg))
        log['perf_' + rule].append(float(np.mean(get_perf(y_hat_last, b['y_loc']))))
    rules = [rule_train] if isinstance(rule_train, str) else list(rule_train)
    perfs = [log['perf_' + r][-1] for r in rules]
    log['perf_avg'].append(float(np.mean(perfs)))
    log['perf_min'].append(float(np.min(perfs)))
    log['growth'].append({r: growth_label(log['perf_' + r][-1], hp) for r in hp['rules']})
    return log


def _evaluates(step, evaluated_step, display_step, max_steps, batch):
    """Whether the training loop evaluates (and saves a checkpoint) before step `step`."""
    return evaluated_step != step and (step % display_step == 0 or
                                       step * batch >= max_steps)


def _training_draws(model, hp, step, evaluated_step, display_step, max_steps):
    """Every draw of the training loop from `step` on, in the loop's order (SPEC §6).

    Yields ('eval', step, batches, rng) where the loop evaluates — batches from
    eval_batches with their noise drawn, rng a copy of hp['rng'] just after them (saved
    with the checkpoint) — and ('train', step, trial, noise) for every training step: the
    rule and trial drawn from hp['rng'], the recurrent noise of its seed (None without
    noise). Ends after the evaluation at max_steps. train() runs this in a background
    thread (prefetch.Prefetcher) while the session trains.
    """
    batch = hp['batch_size_train']
    while True:
        if _evaluates(step, evaluated_step, display_step, max_steps, batch):
            batches = eval_batches(hp, step)
            rng = np.random.RandomState()
            rng.set_state(hp['rng'].get_state())
            yield 'eval', step, draw_eval_noise(model, batches), rng
            evaluated_step = step
            if step * batch >= max_steps:
                return
        rule = hp['rng'].choice(hp['rule_trains'], p=hp['rule_probs'])
        trial = task.generate_trials(rule, hp, 'random', batch_size=batch)
        yield 'train', step, trial, model.draw_noise(trial.x, _train_noise_seed(hp, step))
        step += 1


def _next_draw(draws, kind, step):
    """The next item of _training_draws, checked to be the loop's next (kind, step)."""
    item = next(draws)
    if item[:2] != (kind, step):
        raise RuntimeError('training draws out of order: expected {} {}, got {} {}'.format(
            kind, step, *item[:2]))
    return item[2:]


# ----------------------------------------------------------------------------------------
# Hyper-parameters and the state of a run (no TensorFlow)
# ----------------------------------------------------------------------------------------
def valid_hp_keys(ruleset='all_new', derived=True):
    """Every hp key the code knows (sorted): get_default_hp's, OPTIONAL_HP_KEYS and, with
    derived, DERIVED_HP_KEYS."""
    keys = set(get_default_hp(ruleset)) | set(OPTIONAL_HP_KEYS)
    return sorted(keys | set(DERIVED_HP_KEYS) if derived else keys)


def check_hp_keys(hp, ruleset='all_new', what='hp', derived=True):
    """Raise InvalidHpError naming the valid keys if hp holds a key the code never reads
    (a typo such as 'n_rn' would otherwise be saved and silently ignored)."""
    valid = valid_hp_keys(ruleset, derived)
    unknown = sorted(k for k in hp if k not in valid)
    if unknown:
        raise tools.InvalidHpError('Unknown {} key(s) {}; valid keys: {}'.format(
            what, unknown, ', '.join(valid)))


def _check_hp_values(hp):
    """InvalidHpError for numbers the network or the evaluation cannot use. The names
    (activation, rnn_type, w_rec_init, loss_type, optimizer) are checked by
    network.Model, which train() builds before writing anything."""
    def bad(key, what):
        raise tools.InvalidHpError('hp[{!r}] = {!r} must be {}'.format(key, hp[key], what))

    for key in ('n_rnn', 'batch_size_train'):
        if not (isinstance(hp[key], (int, np.integer)) and hp[key] >= 1):
            bad(key, 'a positive integer')
    if not (isinstance(hp['batch_size_test'], (int, np.integer)) and
            hp['batch_size_test'] >= 16):
        bad('batch_size_test', 'an integer ≥ 16 (evaluation runs 16 batches per rule)')
    for key in ('dt', 'tau', 'learning_rate'):
        if not hp[key] > 0:
            bad(key, '> 0')
    for key in ('sigma_rec', 'sigma_x', 'l1_h', 'l2_h', 'l1_weight', 'l2_weight',
                'l2_weight_init'):
        if not hp.get(key, 0) >= 0:
            bad(key, '≥ 0')
    if hp['dt'] > hp['tau']:
        bad('dt', '≤ tau = {} (alpha = dt / tau ≤ 1)'.format(hp['tau']))
    p = hp.get('p_weight_train')
    if p is not None and not 0 < p <= 1:
        bad('p_weight_train', 'None or in (0, 1]')


def prepare_hp(hp=None, ruleset='all_new', rule_trains=None, rule_prob_map=None, seed=0):
    """The complete hp of a run, as train() uses it and saves it in hp.json (plus 'rng').

    get_default_hp(ruleset) ← hp, then seed, rng = RandomState(seed), alpha = dt / tau,
    rule_trains = rules = rule_trains (default: every rule of the ruleset) and rule_probs
    (rule_prob_map {rule: relative probability}, default 1 each, normalised).
    Reads no file and imports no TensorFlow. Raises InvalidHpError (a ValueError) for an
    unknown ruleset, hp key or rule, a bad number, or an alpha other than dt / tau.
    """
    if ruleset not in task.rules_dict:
        raise tools.InvalidHpError('Unknown ruleset {!r}; valid rulesets: {}'.format(
            ruleset, sorted(task.rules_dict)))
    full = get_default_hp(ruleset)
    if hp is not None:
        check_hp_keys(hp, ruleset)
        full.update(hp)
    _check_hp_values(full)
    alpha = 1.0 * full['dt'] / full['tau']
    if hp is not None and 'alpha' in hp and not np.isclose(hp['alpha'], alpha):
        raise tools.InvalidHpError(
            'hp alpha = {} but alpha is dt / tau = {} / {} = {}: change dt or tau '
            'instead'.format(hp['alpha'], full['dt'], full['tau'], alpha))
    # The network integrates with dt / tau; hp.json must say so (the analyses read it).
    full['alpha'] = alpha
    full['seed'] = seed
    full['rng'] = np.random.RandomState(seed)
    valid = task.rules_dict[ruleset]
    if rule_trains is None:
        rule_trains = valid
    elif isinstance(rule_trains, str):
        rule_trains = [rule_trains]
    unknown = [r for r in rule_trains if r not in valid]
    if unknown or not rule_trains:
        raise tools.InvalidHpError('Rules {} are not in ruleset {!r}; valid choices: '
                                   '{}'.format(unknown, ruleset, valid))
    full['rule_trains'] = list(rule_trains)
    full['rules'] = list(rule_trains)
    rule_prob_map = {} if rule_prob_map is None else rule_prob_map
    stray = sorted(r for r in rule_prob_map if r not in full['rule_trains'])
    if stray:
        raise tools.InvalidHpError('rule_prob_map names rules that are not trained: {}; '
                                   'trained rules: {}'.format(stray, full['rule_trains']))
    prob = np.array([rule_prob_map.get(r, 1.) for r in full['rule_trains']], dtype=float)
    if np.any(prob < 0) or not np.sum(prob) > 0:
        raise tools.InvalidHpError('rule_prob_map must give probabilities ≥ 0, not all 0: '
                                   '{}'.format(rule_prob_map))
    full['rule_probs'] = list(prob / np.sum(prob))
    return full


def hp_differences(new, saved):
    """[(key, saved value, new value)] of the keys whose values differ between two hp
    dicts as saved in hp.json (RESUME_IGNORED_KEYS aside), sorted by key; a missing key
    shows as '<absent>'."""
    new, saved = tools.hp_to_json(new), tools.hp_to_json(saved)
    keys = sorted(k for k in set(new) | set(saved)
                  if k not in RESUME_IGNORED_KEYS and new.get(k) != saved.get(k))
    return [(k, saved.get(k, '<absent>'), new.get(k, '<absent>')) for k in keys]


def check_model_dir(model_dir):
    """Raise NotAModelFolderError if model_dir, or the folder it would be created in, is a
    regular file."""
    path = os.path.abspath(model_dir)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    if not os.path.isdir(path):
        raise tools.NotAModelFolderError(
            model_dir if path == os.path.abspath(model_dir) else path)


def check_same_hp(model_dir, hp):
    """Raise HpMismatchError if model_dir/hp.json exists and differs from hp (the keys and
    both values in the message), CorruptFileError if it cannot be read."""
    if not os.path.isfile(os.path.join(model_dir, tools.HP_FILE)):
        return
    differences = hp_differences(hp, tools.load_hp(model_dir))
    if differences:
        raise tools.HpMismatchError(model_dir, differences)


def stop_reason(log, target_perf, max_trials=None):
    """Why a run whose log is ``log`` stops: 'done' (the worst trained rule's performance
    at the last evaluation exceeds target_perf), 'stopped' (its last evaluation is at
    max_trials trials or more), or None (training goes on; also for an empty log)."""
    if not log.get('trials'):
        return None
    if log['perf_min'][-1] > target_perf:
        return 'done'
    if max_trials is not None and log['trials'][-1] >= max_trials:
        return 'stopped'
    return None


def run_state(model_dir, hp, max_trials=None):
    """What train(model_dir, hp, max_steps=max_trials) would do, read from the folder
    (nothing written, no TensorFlow): (state, log) with state 'new' (no run yet),
    'partial' (a run to continue), 'done' or 'stopped' (see stop_reason), and log the
    log up to the checkpoint training would continue from (None for 'new').

    Raises NotAModelFolderError, CorruptFileError or HpMismatchError as train() would.
    """
    log, _ = _resume_point(model_dir, hp)
    if log is None:
        return 'new', None
    return stop_reason(log, hp['target_perf'], max_trials) or 'partial', log


def _resume_point(model_dir, hp):
    """(log, step) of the last complete checkpoint of an existing run, or (None, 0).

    Reads only; raises NotAModelFolderError, CorruptFileError or HpMismatchError.
    """
    check_model_dir(model_dir)
    check_same_hp(model_dir, hp)
    if not (os.path.isfile(os.path.join(model_dir, tools.HP_FILE)) and
            os.path.isfile(os.path.join(model_dir, tools.LOG_FILE))):
        return None, 0
    log = tools.load_log(model_dir)
    trials = log.get('trials', [])
    # The newest log entry whose checkpoint and RNG state are both on disk.
    for k in range(len(trials) - 1, -1, -1):
        d = tools.checkpoint_dir(model_dir, trials[k])
        if tools.has_checkpoint(d) and os.path.isfile(os.path.join(d, tools.RNG_FILE)):
            break
    else:
        return None, 0
    n_keep = k + 1
    log = defaultdict(list, {key: (val[:n_keep] if isinstance(val, list) else val)
                             for key, val in log.items()})
    return log, trials[k] // hp['batch_size_train']


def _summary_line(log, hp):
    perfs = '  '.join('{} {:.2f}'.format(r, log['perf_' + r][-1]) for r in hp['rules'])
    return 'trial {:>8d} | {:8.1f} s | {} | min {:.3f}'.format(
        log['trials'][-1], log['times'][-1], perfs, log['perf_min'][-1])


# TensorFlow's threads in train(). One thread per operation: the recurrence's small
# operations gain little from a second one. Two inter-op pools: a training step runs on
# one thread (it is a chain of small operations; a second inter-op thread shortened it by
# a few percent but, spinning between operations, took half a core from the background
# thread that draws the next trials and noise), the evaluation on one thread per core
# (its rules' forward passes are independent and run concurrently). See
# docs/PERFORMANCE.md.
INTRA_OP_THREADS = 1
TRAIN_POOL, EVAL_POOL = 0, 1


def session_config():
    """The tf.ConfigProto of train()'s session: INTRA_OP_THREADS per operation, inter-op
    pool TRAIN_POOL of one thread (the default of every session call) and EVAL_POOL of
    TensorFlow's choice — one thread per core, or TF_NUM_INTEROP_THREADS (a sweep's
    workers, sweep.limit_threads) — for do_eval with eval_run_options().

    TensorFlow sizes its per-operation thread pool once per process, from the first
    session's config; train() is the first session of Main_training.py."""
    import tensorflow.compat.v1 as tf
    config = tf.ConfigProto(intra_op_parallelism_threads=INTRA_OP_THREADS)
    threads = {TRAIN_POOL: 1, EVAL_POOL: 0}              # 0: TensorFlow's choice
    for pool in sorted(threads):                         # a pool's index is its place
        config.session_inter_op_thread_pool.add(num_threads=threads[pool])
    return config


def eval_run_options():
    """tf.RunOptions that run do_eval's session call on session_config's EVAL_POOL."""
    import tensorflow.compat.v1 as tf
    return tf.RunOptions(inter_op_thread_pool=EVAL_POOL)


def train(model_dir, hp=None, max_steps=1e7, display_step=500, ruleset='all_new',
          rule_trains=None, rule_prob_map=None, seed=0, load_dir=None, trainables=None,
          verbose=True):
    """Train a network and save a checkpoint every display_step steps.

    Args:
        model_dir: output folder; hp.json, log.json and one folder per checkpoint named by
            the number of trials trained (<model_dir>/<trials>/model.ckpt).
        hp: overrides of get_default_hp(ruleset).
        max_steps: maximum number of training *trials* (the name is the original's).
        display_step: steps between evaluations / checkpoints.
        ruleset, rule_trains: rules to train (default: all rules of the ruleset).
        rule_prob_map: {rule: relative probability} (default 1 each).
        seed: seeds hp['rng'] (trials) and the initial weights.
        load_dir: start from this checkpoint folder instead of fresh weights.
        trainables: None/'all', 'input' or 'rule'.

    If model_dir already holds a run with the same hp, training continues from its last
    checkpoint (weights, Adam state, trial RNG and log restored); checkpoints of that run
    missing from the folder are named in one warning line. A newest checkpoint that does
    not restore is moved aside to <trials>.damaged (one line says so) and training
    continues from the newest one that does, log.json cut back to it. Returns the log.

    One writer per folder (folder_lock): a folder another live process trains raises
    folder_lock.FolderLockedError naming it; a lock left by a killed process is taken
    over. A full disk, permission denied or read-only file system while saving raises
    tools.StorageError naming the folder; log.json then still lists only complete
    checkpoints, and the same call resumes once the reason is gone.

    Everything is checked before anything is written: a bad hp or argument
    (InvalidHpError / ValueError, also from building the network), a model_dir that is a
    file (NotAModelFolderError), an unreadable hp.json, log.json or train_rng.json
    (CorruptFileError) or a folder holding a run with other hp (HpMismatchError) leave
    the folder as it was (no folder is created).
    Ctrl-C: prints the last checkpoint and re-raises KeyboardInterrupt, so that the
    caller does not go on as if the run were finished; the same call resumes it.
    """
    hp = prepare_hp(hp, ruleset, rule_trains, rule_prob_map, seed)
    if trainables not in TRAINABLES:
        raise ValueError("Unknown trainables {!r}; valid choices: {}".format(
            trainables, ', '.join(repr(t) for t in TRAINABLES)))
    if not display_step >= 1:
        raise ValueError('display_step must be at least 1, got {!r}'.format(display_step))
    _resume_point(model_dir, hp)           # the folder's checks, before TensorFlow
    # One writer per folder: an existing folder is locked at once (a second training is
    # refused in a second); a new one once the network is built (nothing is created for
    # a bad hp).
    locks = [folder_lock.acquire(model_dir, verbose)] if os.path.isdir(model_dir) else []
    try:
        return _train_locked(model_dir, hp, max_steps, display_step, load_dir, trainables,
                             verbose, locks)
    finally:
        for lock in locks:
            lock.release()


def _train_locked(model_dir, hp, max_steps, display_step, load_dir, trainables, verbose,
                  locks):
    """train() once the arguments are checked and the folder, if it exists, is locked
    (locks: [its FolderLock], or [] to lock it once created; train releases it)."""
    import tensorflow.compat.v1 as tf
    from network import Model

    model = Model(model_dir, hp=hp)  # checks activation, rnn_type, w_rec_init, ...
    hp = model.hp
    batch = hp['batch_size_train']
    target = hp['target_perf']
    # What is on disk now that this process is the folder's only writer (a folder that
    # does not exist yet is created and locked below, once everything is checked).
    log, step = _resume_point(model_dir, hp) if locks else (None, 0)

    def done(log):
        reason = stop_reason(log, target, max_steps)
        if reason == 'done':
            return 'reached target performance {} (min over rules {:.3f})'.format(
                target, log['perf_min'][-1])
        if reason == 'stopped':
            return 'reached max trials {}'.format(int(max_steps))
        return None

    with tf.Session(config=session_config()) as sess:
        model.initialize()
        if log is not None:
            # (a checkpoint that fails to restore assigns no variable: TensorFlow reads
            # every tensor before the first assignment)
            log, step = _restore_newest(model, model_dir, hp, log, verbose)
        if log is None and load_dir is not None:
            model.restore(load_dir)
        _configure_optimizer(sess, model, hp, trainables)
        # Everything is checked: the folder is written from here on.
        if not locks:
            _create_locked(model_dir, hp, locks, verbose)
        if log is None:
            tools.save_hp(hp, model_dir)  # the hp the model uses (alpha = dt / tau)
            log = defaultdict(list)
            log['model_dir'] = model_dir
        else:
            missing = tools.missing_checkpoints(model_dir, log)
            if missing:
                print(tools.missing_checkpoints_message(model_dir, missing),
                      file=sys.stderr, flush=True)

        t_offset = log['times'][-1] if log['times'] else 0.
        t_start = time.time() - t_offset
        reason = done(log) if log['trials'] else None
        start_trials = step * batch
        total = int(max_steps) if max_steps < 1e7 else None
        bar = tqdm(total=total, initial=start_trials, unit='trial', disable=not verbose,
                   dynamic_ncols=True, desc='training')
        evaluated_step = step if log['trials'] else -1
        # Trials and noise are drawn ahead, in order, while the session trains; at most
        # one interval ahead (memory: an evaluation's noise is T × 512 × n_rnn per rule).
        # The evaluation graph is built here, once, before the steps (the background
        # thread draws in numpy and never touches the graph).
        model.eval_slots(len(hp['rules']))
        eval_options = eval_run_options()
        draws = prefetch.Prefetcher(_training_draws(model, hp, step, evaluated_step,
                                                    display_step, max_steps),
                                    depth=display_step + 1)
        try:
            while reason is None:
                trials_now = step * batch
                if _evaluates(step, evaluated_step, display_step, max_steps, batch):
                    log['trials'].append(trials_now)
                    log['times'].append(time.time() - t_start)
                    batches, rng = _next_draw(draws, 'eval', step)
                    log = do_eval(sess, model, log, hp['rule_trains'], step=step,
                                  batches=batches, options=eval_options)
                    save_checkpoint(model, model_dir, trials_now, rng)
                    # log.json only lists complete checkpoints: written after it
                    tools.save_log(log, model_dir)
                    evaluated_step = step
                    if verbose:
                        bar.write(_summary_line(log, hp))
                    reason = done(log)
                    if reason is not None:
                        break
                trial, noise = _next_draw(draws, 'train', step)
                feed = tools.gen_feed_dict(model, trial, hp)
                feed[model.noise_seed] = _train_noise_seed(hp, step)
                if noise is not None:
                    feed[model.noise] = noise
                sess.run(model.train_step, feed_dict=feed)
                step += 1
                bar.update(batch)
        except KeyboardInterrupt:
            bar.close()
            # An evaluation may have been cut short: what is on disk is the truth.
            if os.path.isfile(os.path.join(model_dir, tools.LOG_FILE)):
                log = tools.load_log(model_dir)
            last = log['trials'][-1] if log['trials'] else None
            print('\nTraining interrupted at trial {}. Last checkpoint: {}. Run the same '
                  'command again to resume from it.'.format(step * batch, last), flush=True)
            raise
        finally:
            draws.close()
            bar.close()            # before an error's line, not under it
    if verbose:
        print('Done: {} trials in {:.1f} s, min perf {:.3f} — {} ({}).'.format(
            log['trials'][-1], log['times'][-1], log['perf_min'][-1], reason, model_dir))
    return log


def save_checkpoint(model, model_dir, trials, rng):
    """Save the session's variables and the trial RNG state ``rng`` as the checkpoint
    <model_dir>/<trials>/ (model.ckpt.*, checkpoint, train_rng.json).

    Written into the hidden folder <model_dir>/.<trials>.saving, then renamed: a folder
    named by a trial number is always complete, so an analysis never reads a checkpoint
    being written and a save cut short (a full disk, Ctrl-C, kill -9) leaves nothing a
    resume would take. A storage problem raises tools.StorageError naming the folder.
    A folder of the same name that log.json never listed (saved before the run was
    stopped, the log not yet written) is replaced.
    """
    final = tools.checkpoint_dir(model_dir, trials)
    tmp = os.path.join(model_dir, '.{}.saving'.format(int(trials)))
    try:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp)             # left by a save cut short
        model.save(tmp)
        tools.save_rng_state(rng, os.path.join(tmp, tools.RNG_FILE))
        tools.replace_dir(tmp, final)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno in tools.STORAGE_ADVICE:
            raise tools.StorageError(model_dir, exc.errno) from None
        raise
    return final


def _create_locked(model_dir, hp, locks, verbose):
    """Create model_dir and append its lock to locks; a run another process started
    there meanwhile is refused (FolderLockedError while it runs, else ModelFolderError)."""
    try:
        tools.mkdir_p(model_dir)
    except OSError as exc:
        raise tools.storage_error(model_dir, exc) or exc
    locks.append(folder_lock.acquire(model_dir, verbose))
    if _resume_point(model_dir, hp)[0] is not None:
        raise tools.ModelFolderError(model_dir, 'Another process started a run in {!r} '
                                                'while this one started; run the command '
                                                'again to continue it.'.format(model_dir))


def _restore_newest(model, model_dir, hp, log, verbose=True):
    """Restore the newest checkpoint of ``log`` (from _resume_point) that restores, with
    its trial RNG into hp['rng']; returns (log, step) cut back to it, or (None, 0) if none
    does.

    A checkpoint whose TensorFlow files do not restore (truncated, overwritten, missing)
    is moved aside to <trials>.damaged (nothing is deleted), named in one
    line on stderr, and log.json is cut back to the checkpoint training continues from.
    """
    while log is not None:
        ckpt = tools.checkpoint_dir(model_dir, log['trials'][-1])
        try:
            rng = tools.load_rng_state(os.path.join(ckpt, tools.RNG_FILE))
            model.restore(ckpt)
        except tools.DamagedCheckpointError as exc:
            reason = exc.reason
            aside = tools.move_aside(ckpt, '.damaged')
            log, step = _resume_point(model_dir, hp)
            if log is not None:
                tools.save_log(log, model_dir)
            print('Checkpoint {} does not restore ({}): moved to {}; {}.'.format(
                ckpt, reason, aside, 'resuming from trial {}'.format(log['trials'][-1])
                if log is not None else 'no checkpoint left, training starts anew'),
                file=sys.stderr, flush=True)
            continue
        hp['rng'] = rng
        if verbose:
            print('Resuming {} from checkpoint {} (trial {})'.format(
                model_dir, ckpt, log['trials'][-1]))
        return log, log['trials'][-1] // hp['batch_size_train']
    return None, 0


def _configure_optimizer(sess, model, hp, trainables):
    """Re-target the optimizer for trainables / l2_weight_init / p_weight_train."""
    import tensorflow.compat.v1 as tf
    var_list = model.var_list
    if trainables == 'input':
        var_list = [v for v in model.var_list if 'input' in v.name and 'rnn' not in v.name]
    elif trainables == 'rule':
        var_list = [v for v in model.var_list if 'rule_input' in v.name]
    if trainables in ('input', 'rule') and not var_list:
        raise ValueError('trainables={!r} selects no variable of this network (use '
                         'use_separate_input=True)'.format(trainables))
    extra = None
    if hp.get('l2_weight_init', 0) > 0:
        anchors = sess.run(model.weight_list)
        extra = tf.add_n([hp['l2_weight_init'] * tf.nn.l2_loss(w - a)
                          for w, a in zip(model.weight_list, anchors)])
    p = hp.get('p_weight_train')
    if p is not None and p < 1.0:
        terms = []
        for w in model.weight_list:
            w_val = sess.run(w)
            mask = np.linspace(0, 1, w_val.size)
            hp['rng'].shuffle(mask)
            w_mask = np.zeros(w_val.size, dtype=np.float32)
            w_mask[mask > p] = 1e-1  # squared in l2_loss
            terms.append(tf.nn.l2_loss((w - w_val) * w_mask.reshape(w_val.shape)))
        extra = tf.add_n(terms) if extra is None else extra + tf.add_n(terms)
    if extra is not None or var_list is not model.var_list:
        model.set_optimizer(extra_cost=extra, var_list=var_list)
        # New optimizer slots (if any) need initial values.
        uninit = set(sess.run(tf.report_uninitialized_variables()))
        new_vars = [v for v in tf.global_variables() if v.op.name.encode() in uninit]
        if new_vars:
            sess.run(tf.variables_initializer(new_vars))
