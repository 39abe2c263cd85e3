"""The named hyper-parameter experiments of the original suite, as a table.

Every experiment starts from the paper run (``train.PAPER_HP``, the hp of
Main_training.py, one checkpoint every ``train.PAPER_DISPLAY_STEP`` = 20 steps × 64
trials = 1,280 trials) and changes only what its row says; it trains into <root>/<folder>
(default data/<name>). Training_with_diff_HyperParameters.py trains them from the command
line, Analysis_with_diff_HyperParameters.py analyses them; from Python:
``experiments.run_experiment('set1_exp1', root='data')``. To add an experiment, add a row
to EXPERIMENTS.
"""

import sweep
from sweep import Experiment

# Rules left to None train (and evaluate) every rule of the ruleset.
ALL = None

# One row per experiment: name (= model folder), description, hp changes on top of
# train.PAPER_HP, ruleset (fixes the rule input units), rules trained.
EXPERIMENTS = sweep.registry([
    # Single-task networks (the rule inputs of all six tasks exist; one or two are trained).
    Experiment('indi_odr', 'single task: ODR', {}, 'all_new', ('odr',)),
    Experiment('indi_odrd', 'single task: ODR with distractor', {}, 'all_new', ('odrd',)),
    Experiment('indi_odr_odrd', 'two tasks: ODR and ODRD', {}, 'all_new', ('odr', 'odrd')),
    Experiment('indi_gap', 'single task: gap anti-saccade', {}, 'all_new', ('gap',)),
    Experiment('indi_zero_gap', 'single task: zero-gap anti-saccade', {}, 'all_new',
               ('zero_gap',)),
    Experiment('indi_overlap', 'single task: overlap anti-saccade', {}, 'all_new',
               ('overlap',)),
    # Set 1: network size (paper: 256 units).
    Experiment('set1_exp1', 'network size 64', {'n_rnn': 64}, 'all_new', ALL),
    Experiment('set1_exp2', 'network size 128', {'n_rnn': 128}, 'all_new', ALL),
    Experiment('set1_exp3', 'network size 512', {'n_rnn': 512}, 'all_new', ALL),
    Experiment('set1_exp4', 'network size 1024', {'n_rnn': 1024}, 'all_new', ALL),
    # Set 2: activation function (paper: softplus).
    Experiment('set2_exp1', 'activation tanh', {'activation': 'tanh'}, 'all_new', ALL),
    Experiment('set2_exp2', 'activation relu', {'activation': 'relu'}, 'all_new', ALL),
    Experiment('set2_exp3', 'activation elu', {'activation': 'elu'}, 'all_new', ALL),
    Experiment('set2_exp4', 'activation power (relu squared)', {'activation': 'power'},
               'all_new', ALL),
    # Set 3: initial recurrent weights (paper: random orthogonal).
    Experiment('set3_exp1', 'recurrent init: scaled identity', {'w_rec_init': 'diag'},
               'all_new', ALL),
    Experiment('set3_exp2', 'recurrent init: random Gaussian', {'w_rec_init': 'randgauss'},
               'all_new', ALL),
    # Set 4: learning rate (paper: 1e-3).
    Experiment('set4_exp1', 'learning rate 1e-4', {'learning_rate': 1e-4}, 'all_new', ALL),
    Experiment('set4_exp2', 'learning rate 1e-2', {'learning_rate': 1e-2}, 'all_new', ALL),
    Experiment('set4_exp3', 'learning rate 1e-1', {'learning_rate': 1e-1}, 'all_new', ALL),
    # Set 5: the six tasks mixed with match-or-non-match tasks.
    Experiment('set5_exp1', 'six tasks + match-or-non (hard, easy)', {}, 'mix_MoN_6tasks',
               ALL),
    Experiment('set5_exp2', 'six tasks + match-or-non (hard, easy, passive)', {},
               'mix_p_MoN_6tasks', ALL),
    # Set 6: long ODR delays (ODR replaced by ODR with a 3, 6 or 15 s delay).
    Experiment('set6_exp1', 'ODR delay 3000 ms', {}, 'all_new_odr3000', ALL),
    Experiment('set6_exp2', 'ODR delay 6000 ms', {}, 'all_new_odr6000', ALL),
    Experiment('set6_exp3', 'ODR delay 15000 ms', {}, 'all_new_odr15000', ALL),
    # Set 7: gated cells instead of the leaky RNN.
    Experiment('set7_exp1', 'leaky GRU cell', {'rnn_type': 'LeakyGRU'}, 'all_new', ALL),
    Experiment('set7_exp2', 'GRU cell', {'rnn_type': 'GRU'}, 'all_new', ALL),
    # Seeds: the paper run itself with seeds 0-4, to tell properties of training from
    # accidents of one network (Main_report.py compares them). seed0 is exactly
    # `python Main_training.py` and shares its folder, data/6tasks.
    Experiment('seed0', 'the paper run, seed 0 (= Main_training.py)', {}, 'all_new', ALL,
               folder='6tasks', seed=0),
] + [
    Experiment('seed{}'.format(k), 'the paper run, seed {}'.format(k), {}, 'all_new', ALL,
               folder='6tasks_seed{}'.format(k), seed=k)
    for k in range(1, 5)
])


def get(name):
    """The Experiment called name; ValueError listing the valid names otherwise."""
    if name not in EXPERIMENTS:
        sweep.select([name], EXPERIMENTS)  # raises with the list of valid names
    return EXPERIMENTS[name]


def family(name):
    """The family of an experiment: its name up to the first '_' ('set2_exp1' → 'set2',
    'indi_odr' → 'indi'), a name without one less its trailing digits ('seed3' → 'seed')."""
    get(name)
    return name.split('_')[0] if '_' in name else name.rstrip('0123456789')


def select(patterns=None):
    """Experiment names matching names / shell patterns ('set2_*'); all for None."""
    return sweep.select(patterns, EXPERIMENTS)


def build_hp(name, seed=0, hp_overrides=None):
    """Complete hp of experiment ``name`` as training saves it (hp.json, plus 'rng')."""
    return sweep.build_hp(get(name), seed=seed, hp_overrides=hp_overrides)


def run_experiment(name, root='data', max_trials=None, hp_overrides=None, seed=0,
                   display_step=None, verbose=False):
    """Train (or continue) experiment ``name`` into <root>/<name>; returns its summary
    dict (see sweep: name, model_dir, status, already, trials, perf_min, seconds, error).

    hp_overrides change hp on top of the experiment's own changes (e.g. {'n_rnn': 16} for
    a quick try: use another root then, a folder keeps the hp it was started with).
    """
    return sweep.run_experiment(get(name), root, max_trials=max_trials,
                                hp_overrides=hp_overrides, seed=seed,
                                display_step=display_step, verbose=verbose)


def run_many(names=None, root='data', jobs=1, ray_address=None, ray_cpus=1, verbose=True,
             **kwargs):
    """Run the experiments matching ``names`` (names or shell patterns; None: all) with
    ``jobs`` worker processes, or as Ray tasks on ``ray_address`` ('local', 'auto', or a
    cluster address). kwargs go to run_experiment (max_trials, hp_overrides, seed,
    display_step). Returns the summaries in table order."""
    exps = [EXPERIMENTS[n] for n in select(names)]
    return sweep.run_many(exps, root=root, jobs=jobs, ray_address=ray_address,
                          ray_cpus=ray_cpus, verbose=verbose, **kwargs)
