"""Learning curve and milestones of a training run, for docs/results/.

    python docs/results/make_learning_curve.py data/6tasks

Writes docs/results/learning_curve_<model>.png and prints a markdown table: total
trials, wall time, and the first checkpoint at which each task exceeded 0.95.
"""

import os
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

import tools  # noqa: E402


def main(model_dir):
    hp, log = tools.load_hp(model_dir), tools.load_log(model_dir)
    trials = [t / 1000 for t in log['trials']]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for rule in hp['rule_trains']:
        ax.plot(trials, tools.smooth(log['perf_' + rule], 5), label=rule, lw=1.4)
    for key, style in (('early_target_perf', ':'), ('mid_target_perf', '--'),
                       ('mature_target_perf', '-.')):
        ax.axhline(hp[key], color='grey', ls=style, lw=0.8)
    ax.set_xlabel('training trials (thousands)')
    ax.set_ylabel('performance (smoothed, window 5)')
    ax.set_ylim(-0.02, 1.02)
    ax.set_title('{}: seed {}, {} units, {}'.format(os.path.basename(model_dir), hp['seed'],
                                                   hp['n_rnn'], hp['activation']))
    ax.legend(fontsize=8, ncol=3, loc='lower right')
    out = os.path.join(os.path.dirname(__file__),
                       'learning_curve_{}.png'.format(os.path.basename(model_dir)))
    fig.savefig(out, dpi=110, bbox_inches='tight')
    print('wrote', out)
    print('\n| | |\n|---|---|')
    print('| total trials | {:,} |'.format(log['trials'][-1]))
    print('| wall time | {:.1f} min |'.format(log['times'][-1] / 60))
    print('| final min performance | {:.3f} |'.format(log['perf_min'][-1]))
    for rule in hp['rule_trains']:
        first = next((t for t, p in zip(log['trials'], log['perf_' + rule]) if p > 0.95),
                     None)
        print('| {} first > 0.95 | {} |'.format(
            rule, 'never' if first is None else '{:,} trials'.format(first)))


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'data/6tasks')
