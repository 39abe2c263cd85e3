"""Training: default hyper-parameters, evaluation, and the resumable training loop."""

import os
import time
from collections import defaultdict

import numpy as np
import tensorflow.compat.v1 as tf
from tqdm.auto import tqdm

import stages
import task
import tools
from network import Model, get_perf

# hp keys that may legitimately differ between a run and its resumption.
_RESUME_IGNORED_KEYS = ('rng', 'model_dir')


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


def do_eval(sess, model, log, rule_train, step=0):
    """Evaluate every rule of hp['rules'] and append the results to log.

    Trials are drawn exactly as the original: per rule (hp['rules'] order) 16 'random'
    batches of batch_size_test // 16 from hp['rng'] (input noise on). The 16 batches run
    as one forward pass; the means equal the means of the per-batch means.
    Appends log['cost_<rule>'], log['creg_<rule>'], log['perf_<rule>'], log['perf_avg'],
    log['perf_min'] (over rule_train) and log['growth']; returns log.
    """
    hp = model.hp
    n_rep = 16
    batch = hp['batch_size_test'] // n_rep
    slots = model.eval_slots(len(hp['rules']))
    feed, fetches, y_locs = {}, [], []
    for i_rule, (rule, slot) in enumerate(zip(hp['rules'], slots)):
        trials = [task.generate_trials(rule, hp, 'random', batch_size=batch)
                  for _ in range(n_rep)]
        x = np.concatenate([t.x for t in trials], axis=1)
        T = x.shape[0]
        c_mask = np.concatenate([t.c_mask.reshape(T, batch, -1) for t in trials], axis=1)
        feed.update({slot['x']: x,
                     slot['y']: np.concatenate([t.y for t in trials], axis=1),
                     slot['c_mask']: c_mask.reshape(T * x.shape[1], -1),
                     slot['noise_seed']: _eval_noise_seed(hp, step, i_rule)})
        fetches.append((slot['cost_lsq'], slot['cost_reg'], slot['y_hat_last']))
        y_locs.append(np.concatenate([t.y_loc[-1:] for t in trials], axis=1))
    # Every rule in one call, so that TensorFlow runs the rules' passes concurrently.
    results = sess.run(fetches, feed_dict=feed)
    for rule, (c_lsq, c_reg, y_hat_last), y_loc in zip(hp['rules'], results, y_locs):
        log['cost_' + rule].append(float(c_lsq))
        log['creg_' + rule].append(float(c_reg))
        log['perf_' + rule].append(float(np.mean(get_perf(y_hat_last, y_loc))))
    rules = [rule_train] if isinstance(rule_train, str) else list(rule_train)
    perfs = [log['perf_' + r][-1] for r in rules]
    log['perf_avg'].append(float(np.mean(perfs)))
    log['perf_min'].append(float(np.min(perfs)))
    log['growth'].append({r: growth_label(log['perf_' + r][-1], hp) for r in hp['rules']})
    return log


def _prepare_hp(hp, ruleset, rule_trains, rule_prob_map, seed):
    full = get_default_hp(ruleset)
    if hp is not None:
        full.update(hp)
    full['seed'] = seed
    full['rng'] = np.random.RandomState(seed)
    if rule_trains is None:
        rule_trains = task.rules_dict[ruleset]
    elif isinstance(rule_trains, str):
        rule_trains = [rule_trains]
    valid = task.rules_dict[ruleset]
    unknown = [r for r in rule_trains if r not in valid]
    if unknown:
        raise ValueError('Rules {} are not in ruleset {!r}; valid choices: {}'.format(
            unknown, ruleset, valid))
    full['rule_trains'] = list(rule_trains)
    full['rules'] = list(rule_trains)
    rule_prob_map = {} if rule_prob_map is None else rule_prob_map
    prob = np.array([rule_prob_map.get(r, 1.) for r in full['rule_trains']])
    full['rule_probs'] = list(prob / np.sum(prob))
    return full


def _check_resume_hp(model_dir, hp):
    """Refuse to continue a run whose saved hp.json differs from hp."""
    saved = tools.load_hp(model_dir)
    new, old = tools.hp_to_json(hp), tools.hp_to_json(saved)
    keys = sorted(k for k in set(new) | set(old)
                  if k not in _RESUME_IGNORED_KEYS and new.get(k) != old.get(k))
    if keys:
        diffs = '; '.join('{}: saved {!r}, new {!r}'.format(k, old.get(k, '<absent>'),
                                                           new.get(k, '<absent>'))
                          for k in keys)
        raise ValueError(
            'Model folder {!r} already holds a run with different hyper-parameters ({}). '
            'Use another --modeldir, or the same hp to resume.'.format(model_dir, diffs))


def _resume_point(model_dir, hp):
    """(log, step) of the last complete checkpoint of an existing run, or (None, 0)."""
    if not os.path.isfile(os.path.join(model_dir, tools.LOG_FILE)):
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
    checkpoint (weights, Adam state, trial RNG and log restored). Returns the log dict.
    """
    hp = _prepare_hp(hp, ruleset, rule_trains, rule_prob_map, seed)
    if trainables not in (None, 'all', 'input', 'rule'):
        raise ValueError("Unknown trainables {!r}; valid choices: None, 'all', 'input', "
                         "'rule'".format(trainables))
    tools.mkdir_p(model_dir)
    resuming = tools.is_valid_model_dir(model_dir) or os.path.isfile(
        os.path.join(model_dir, tools.HP_FILE))
    if resuming:
        _check_resume_hp(model_dir, hp)
    log, step = _resume_point(model_dir, hp) if resuming else (None, 0)
    if log is None:
        tools.save_hp(hp, model_dir)
        log = defaultdict(list)
        log['model_dir'] = model_dir
        step = 0
    else:
        hp['rng'] = tools.load_rng_state(os.path.join(
            tools.checkpoint_dir(model_dir, log['trials'][-1]), tools.RNG_FILE))

    model = Model(model_dir, hp=hp)
    hp = model.hp
    batch = hp['batch_size_train']
    target = hp['target_perf']

    def done(log):
        if log['perf_min'][-1] > target:
            return 'reached target performance {} (min over rules {:.3f})'.format(
                target, log['perf_min'][-1])
        if log['trials'][-1] >= max_steps:
            return 'reached max trials {}'.format(int(max_steps))
        return None

    sess_config = tf.ConfigProto(intra_op_parallelism_threads=0,
                                 inter_op_parallelism_threads=0)
    with tf.Session(config=sess_config) as sess:
        if step > 0:
            ckpt = tools.checkpoint_dir(model_dir, log['trials'][-1])
            model.initialize()
            model.restore(ckpt)
            if verbose:
                print('Resuming {} from checkpoint {} (trial {})'.format(
                    model_dir, ckpt, log['trials'][-1]))
        elif load_dir is not None:
            model.initialize()
            model.restore(load_dir)
        else:
            model.initialize()
        _configure_optimizer(sess, model, hp, trainables)

        t_offset = log['times'][-1] if log['times'] else 0.
        t_start = time.time() - t_offset
        reason = done(log) if log['trials'] else None
        start_trials = step * batch
        total = int(max_steps) if max_steps < 1e7 else None
        bar = tqdm(total=total, initial=start_trials, unit='trial', disable=not verbose,
                   dynamic_ncols=True, desc='training')
        evaluated_step = step if log['trials'] else -1
        try:
            while reason is None:
                trials_now = step * batch
                if evaluated_step != step and (step % display_step == 0 or
                                               trials_now >= max_steps):
                    log['trials'].append(trials_now)
                    log['times'].append(time.time() - t_start)
                    log = do_eval(sess, model, log, hp['rule_trains'], step=step)
                    ckpt = tools.checkpoint_dir(model_dir, trials_now)
                    model.save(ckpt)
                    tools.save_rng_state(hp['rng'], os.path.join(ckpt, tools.RNG_FILE))
                    tools.save_log(log, model_dir)
                    evaluated_step = step
                    if verbose:
                        bar.write(_summary_line(log, hp))
                    reason = done(log)
                    if reason is not None:
                        break
                rule = hp['rng'].choice(hp['rule_trains'], p=hp['rule_probs'])
                trial = task.generate_trials(rule, hp, 'random', batch_size=batch)
                feed = tools.gen_feed_dict(model, trial, hp)
                feed[model.noise_seed] = _train_noise_seed(hp, step)
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
                  'command again to resume from it.'.format(step * batch, last))
            return log
        bar.close()
    if verbose:
        print('Done: {} trials in {:.1f} s, min perf {:.3f} — {} ({}).'.format(
            log['trials'][-1], log['times'][-1], log['perf_min'][-1], reason, model_dir))
    return log


def _configure_optimizer(sess, model, hp, trainables):
    """Re-target the optimizer for trainables / l2_weight_init / p_weight_train."""
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
