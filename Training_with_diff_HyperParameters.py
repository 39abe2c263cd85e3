"""Train variants of the paper's network: other sizes, activations, initialisations,
learning rates, task sets and cell types (analysed by Analysis_with_diff_HyperParameters.py).

Every experiment below starts from the paper run (``train.PAPER_HP``, the hp of
Main_training.py, one checkpoint every ``train.PAPER_DISPLAY_STEP`` = 20 steps × 64
trials = 1,280 trials, seed 0) and changes only what its row says. It trains into <root>/<name> (default data/<name>) until
every trained rule exceeds target_perf (0.995), or for --max-trials trials.

    python Training_with_diff_HyperParameters.py --list                 # the table
    python Training_with_diff_HyperParameters.py --only set2_exp1       # one experiment
    python Training_with_diff_HyperParameters.py --only 'set2_*' indi_odr --jobs 2
    python Training_with_diff_HyperParameters.py --ray auto --ray-cpus 2  # on a Ray cluster
    python Training_with_diff_HyperParameters.py --only set1_exp1 --max-trials 12800

Launching a sweep again continues every unfinished run from its last checkpoint and skips
the finished ones (reported as "already done"). The table is experiments.EXPERIMENTS
(experiments.py): to add an experiment, add a row there; from Python:
``experiments.run_experiment('set1_exp1', root='data')``.

Exit status: 0 when every selected run is finished; 1 if one failed; 2 for bad arguments
or a model folder training would refuse (a run with other hp, a corrupt hp.json or
log.json, a file in its place: one line on stderr, nothing is trained); 130 after Ctrl-C.
"""

import argparse
import sys

import sweep
import tools
import train
# The table and its helpers live in the library (experiments.py); their names are
# re-exported here so that `Training_with_diff_HyperParameters.run_experiment(...)` works.
from experiments import (EXPERIMENTS, build_hp, get, run_experiment,  # noqa: F401
                         run_many, select)


def main(argv=None):
    """Command line; returns the exit status (0 every run finished, 1 one failed or was
    not started, 130 Ctrl-C). Folder errors (tools.UserError) are raised before anything
    is trained; run_script turns them into one line and status 2."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        epilog='Experiments: ' + ', '.join(EXPERIMENTS))
    parser.add_argument('--list', action='store_true',
                        help='print the experiments (name, model dir, hp overrides, '
                             'ruleset, rules) and exit')
    parser.add_argument('--only', nargs='+', metavar='NAME',
                        help="experiments to run: names or shell patterns such as "
                             "'set2_*' (default: all)")
    parser.add_argument('--root', default='data',
                        help='folder of the model folders (default: data)')
    parser.add_argument('--seed', type=tools.non_negative_int, default=0,
                        help='random seed (default: 0)')
    parser.add_argument('--max-trials', type=tools.positive_int, default=None,
                        help='stop each run after this many training trials (default: '
                             'train until every rule exceeds target_perf)')
    parser.add_argument('--display-step', type=tools.positive_int,
                        default=train.PAPER_DISPLAY_STEP,
                        help='training steps between checkpoints (default: %(default)s)')
    parser.add_argument('--set', nargs='+', default=[], metavar='KEY=VALUE',
                        help='extra hp changes for every selected experiment, e.g. '
                             '--set n_rnn=32 (use another --root for such variants)')
    where = parser.add_mutually_exclusive_group()
    where.add_argument('--jobs', type=tools.positive_int, default=2,
                       help='experiments trained at once, each in its own process '
                            '(default: 2, the faster on 2 cores; 1: in this process)')
    where.add_argument('--ray', metavar='ADDRESS',
                       help="run each experiment as a Ray task: 'local' starts Ray on this "
                            "machine, 'auto' joins the cluster started here with `ray "
                            "start`, or a cluster address such as ray://host:10001")
    parser.add_argument('--ray-cpus', type=tools.positive_int, default=1,
                        help='CPUs each Ray task reserves (= its TensorFlow threads; '
                             'default: 1)')
    args = parser.parse_args(argv)

    try:
        names = select(args.only)
        hp_overrides = sweep.parse_set(args.set)
        for name in names:
            sweep.check_hp_keys(hp_overrides, EXPERIMENTS[name].ruleset, what='--set')
    except ValueError as exc:
        parser.error(str(exc))
    if args.list:
        print(sweep.format_table([EXPERIMENTS[n] for n in names]))
        return 0
    try:
        summaries = run_many(names, root=args.root, jobs=1 if args.ray else args.jobs,
                             ray_address=args.ray,
                             ray_cpus=args.ray_cpus, max_trials=args.max_trials,
                             hp_overrides=hp_overrides or None, seed=args.seed,
                             display_step=args.display_step)
    except KeyboardInterrupt:
        print('\nInterrupted. Run the same command again to continue from the last '
              'checkpoints.')
        return 130
    if any(s['status'] == 'interrupted' for s in summaries):
        return 130
    failed = [s for s in summaries if s['status'] in ('error', 'not started')]
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(tools.run_script(main))
