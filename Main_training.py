"""Train the paper's network (Liu et al., iScience 2021): six oculomotor tasks, one
checkpoint every 20 steps × 64 trials = 1,280 trials, until every task exceeds
target_perf.

    python Main_training.py                          # the paper run → data/6tasks
    python Main_training.py --modeldir data/demo --max-trials 6400

Running the same command again on a folder that holds a run continues it from its last
checkpoint. Edit ``hp`` below to train a variant (use a new --modeldir for it).

Exit status: 0 when the run is finished (target reached, or --max-trials trained); 2 for
bad arguments, an unusable hp or model folder (one line on stderr; nothing is written);
130 after Ctrl-C (the checkpoints on disk are complete: run the same command to resume).
"""

import argparse
import sys

import tools
import train  # imports no TensorFlow: --help answers at once

# The paper run (train.PAPER_HP): these override train.get_default_hp(ruleset).
# To train a variant, change them here, for example:
#     hp['n_rnn'] = 128
#     hp['activation'] = 'relu'
hp = dict(train.PAPER_HP)
ruleset = train.PAPER_RULESET
rule_trains = list(train.PAPER_RULE_TRAINS)
display_step = train.PAPER_DISPLAY_STEP  # steps between checkpoints: 20 * 64 = 1280 trials


def main(argv=None):
    """Command line; returns the exit status (0 finished, 130 interrupted). Errors a
    user can fix are raised (tools.UserError); run_script turns them into status 2."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--modeldir', default='data/6tasks',
                        help='output folder (default: data/6tasks)')
    parser.add_argument('--seed', type=tools.non_negative_int, default=0,
                        help='random seed (default: 0)')
    parser.add_argument('--max-trials', type=tools.positive_int, default=None,
                        help='stop after this many training trials (default: train until '
                             'every task exceeds target_perf)')
    args = parser.parse_args(argv)
    max_trials = 1e7 if args.max_trials is None else args.max_trials
    try:
        train.train(args.modeldir, hp=hp, ruleset=ruleset, rule_trains=rule_trains,
                    display_step=display_step, seed=args.seed, max_steps=max_trials)
    except KeyboardInterrupt:
        return 130  # train printed where the run stopped and how to resume it
    return 0


if __name__ == '__main__':
    sys.exit(tools.run_script(main))
