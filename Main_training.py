"""Train the paper's network (Liu et al., iScience 2021): six oculomotor tasks, one
checkpoint every 20 steps × 64 trials = 1,280 trials, until every task exceeds
target_perf.

    python Main_training.py                          # the paper run → data/6tasks
    python Main_training.py --modeldir data/demo --max-trials 6400

Running the same command again on a folder that holds a run continues it from its last
checkpoint. Edit ``hp`` below to train a variant (use a new --modeldir for it).
"""

import argparse

import train

# The paper run: these override train.get_default_hp('all_new').
hp = {
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
ruleset = 'all_new'
rule_trains = ['overlap', 'zero_gap', 'gap', 'odr', 'odrd', 'gap500']
display_step = 20  # steps between checkpoints: 20 * 64 = 1280 trials


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--modeldir', default='data/6tasks',
                        help='output folder (default: data/6tasks)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: 0)')
    parser.add_argument('--max-trials', type=int, default=None,
                        help='stop after this many training trials (default: train until '
                             'every task exceeds target_perf)')
    args = parser.parse_args(argv)
    max_trials = 1e7 if args.max_trials is None else args.max_trials
    train.train(args.modeldir, hp=hp, ruleset=ruleset, rule_trains=rule_trains,
                display_step=display_step, seed=args.seed, max_steps=max_trials)


if __name__ == '__main__':
    main()
