"""Basic information on a trained model: rules, checkpoints, growth of performance (Fig S7)
and the checkpoints of each training stage.

    python -m analysis.basic --modeldir data/6tasks [--auto-range-select]
"""

import itertools

import numpy as np

import stages
import tools
from analysis import common, session
from analysis.blocks import block

# Rule curves avoid the stage colours (green, blue, red) used for thresholds and marks.
RULE_COLORS = ('tab:orange', 'tab:purple', 'tab:brown', 'tab:pink', 'tab:olive',
               'tab:cyan', 'tab:gray', 'black', 'gold')

def _check_logged(log, rules):
    missing = [r for r in rules if 'perf_' + r not in log]
    if missing:
        raise common.DataUnavailable('No performance of rule(s) {} in the log; logged rules: '
                                     '{}'.format(missing, stages.logged_rules(log)))


def _interval_text(trials):
    steps = np.unique(np.diff(trials)) if len(trials) > 1 else []
    if len(steps) == 1:
        return 'every {}'.format(int(steps[0]))
    if len(steps) == 0:
        return 'a single checkpoint'
    return 'irregular intervals ({} to {})'.format(int(steps.min()), int(steps.max()))


def plot_growth(hp, log, model_dir, rules, smooth_growth=True, smooth_window=5,
                selection=None, name='growth_of_performance'):
    """Performance of each rule over training trials (Fig S7); returns the saved paths.

    Curves are log['perf_<rule>'] (smoothed with tools.smooth(.., smooth_window) if
    smooth_growth) against log['trials']; the early / mid / mature target performances
    are dashed lines; checkpoints of a stage selection {rule: {stage: [trials]}} are
    marked on their rule's curve in the stage colour; grey dashed vertical lines mark
    where a sequentially trained rule set starts (log['rule_now']).
    """
    import matplotlib.pyplot as plt

    trials = np.asarray(log['trials'])
    fig, ax = plt.subplots(figsize=(9, 5))
    curves = {}
    for i, rule in enumerate(rules):
        perf = np.asarray(log['perf_' + rule], dtype=float)
        curves[rule] = tools.smooth(perf, smooth_window) if smooth_growth else perf
        ax.plot(trials, curves[rule], label=rule, lw=1.5,
                color=RULE_COLORS[i % len(RULE_COLORS)])
    for stage, level in stages.targets(hp).items():
        ax.axhline(level, ls='--', lw=1, color=stages.STAGE_COLORS[stage],
                   label='{} target {:.2f}'.format(stage, level))
    if selection is not None:
        for stage in stages.STAGES:
            label = 'selected: ' + stage  # one legend entry per stage, not per rule
            for rule in rules:
                sel = np.isin(trials, selection[rule].get(stage, []))
                if sel.any():
                    ax.scatter(trials[sel], curves[rule][sel], s=18, zorder=3, label=label,
                               color=stages.STAGE_COLORS[stage])
                    label = None
    if 'rule_now' in log:
        seen = []
        for i, now in enumerate(log['rule_now']):
            tag = '_'.join(now) + '_start'
            if tag not in seen:
                seen.append(tag)
                ax.axvline(trials[i], color='grey', ls='--', lw=1)
                ax.text(trials[i], 0, tag, rotation=90, va='bottom', fontsize=7)
    ax.set_xlabel('trials trained')
    ax.set_ylabel('performance' + (' (smoothed, window {})'.format(smooth_window)
                                   if smooth_growth else ''))
    ax.set_ylim(bottom=-0.05, top=1.05)
    ax.set_title('Growth of performance')
    ax.legend(bbox_to_anchor=(1.02, 0), loc='lower left', borderaxespad=0, fontsize=8)
    return common.save_figure(fig, session.figure_path(model_dir, name))


@block(kind='eager')
def print_basic_info(hp, log, model_dir, smooth_growth=True, smooth_window=5,
                     auto_range_select=False, avr_window=stages.AVR_WINDOW,
                     perf_margin=stages.PERF_MARGIN, max_trial_num_limit=stages.MAX_PER_STAGE):
    """Print the rules and checkpoints of a model, plot its growth of performance (Fig S7)
    and summarise which checkpoints fall in each training stage.

    Figure: <figure root>/figure_<model>/growth_of_performance.{png,pdf}
    (growth_of_performance_range with auto_range_select, the selection marked).
    Stages (stages.py): with auto_range_select, stages.range_auto_select(hp, log, rules,
    avr_window, perf_margin, max_trial_num_limit) — windows of avr_window + 1 checkpoints
    whose mean performance is near a stage target; otherwise each checkpoint's own stage
    (stages.group_by_stage). Checkpoints that log.json lists but whose folder is missing
    are named in one warning and never selected. Empty stages and checkpoints selected
    for two stages are reported.

    Returns the stage dict {rule: {'early': [...], 'mid': [...], 'mature': [...]}}
    (trial numbers) if auto_range_select, else None.
    """
    rules = list(hp['rule_trains'])
    _check_logged(log, rules)
    trials = [int(t) for t in log['trials']]
    if not trials:
        raise common.DataUnavailable('The log of {} holds no checkpoint yet'.format(model_dir))
    missing = common.warn_missing_checkpoints(model_dir, log)

    print('Model: {}'.format(model_dir))
    print('Rules trained: {}'.format(', '.join(rules)))
    print('Checkpoints: {} from trial {} to {}, {}'.format(
        len(trials), trials[0], trials[-1], _interval_text(trials)))
    print('Final performance: {}'.format(', '.join(
        '{} {:.3f}'.format(r, log['perf_' + r][-1]) for r in rules)))

    selection = None
    if auto_range_select:
        selection = stages.range_auto_select(hp, log, rules, avr_window=avr_window,
                                             perf_margin=perf_margin,
                                             max_trial_num_limit=max_trial_num_limit,
                                             exclude=missing)
    paths = plot_growth(hp, log, model_dir, rules, smooth_growth, smooth_window, selection,
                        'growth_of_performance_range' if auto_range_select
                        else 'growth_of_performance')
    print('Figure: {}'.format(paths[0]))

    on_disk = [t for t in trials if t not in set(missing)]
    by_stage = selection if auto_range_select else {
        r: stages.group_by_stage(hp, log, on_disk, r) for r in rules}
    criteria = stages.criteria(hp, auto_range_select, avr_window, perf_margin)
    if auto_range_select:
        print('\nAuto-selected checkpoints (at most {} per stage):'.format(max_trial_num_limit))
    else:
        print('\nCheckpoints by stage (own performance):')
    for stage in stages.STAGES:
        print('  {:<7s} {}'.format(stage, criteria[stage]))
    print('{:<12s} {:<7s} {:>5s}  {:<22s} {}'.format('rule', 'stage', 'n', 'trials',
                                                     'own performance'))
    empty, shared = [], []
    for rule in rules:
        perf = dict(zip(trials, log['perf_' + rule]))
        for stage in stages.STAGES:
            sel = sorted(by_stage[rule].get(stage, []))
            if sel:
                p = [perf[t] for t in sel if t in perf]
                span = '{} – {}'.format(sel[0], sel[-1])
                prange = '{:.2f} – {:.2f}'.format(min(p), max(p)) if p else 'n/a'
            else:
                span, prange = '—', '—'
                empty.append((rule, stage))
            print('{:<12s} {:<7s} {:>5d}  {:<22s} {}'.format(rule, stage, len(sel), span,
                                                             prange))
        for a, b in itertools.combinations(stages.STAGES, 2):
            both = sorted(set(by_stage[rule].get(a, [])) & set(by_stage[rule].get(b, [])))
            if both:
                shared.append('{} {}/{}: {}'.format(rule, a, b, both))
    if shared:
        print('Selected for two stages (analyses count them in the later stage): '
              + '; '.join(shared))
    for rule, stage in empty:
        common.note('WARNING: rule {!r} has no checkpoint in the {} stage ({}); analyses '
                    'by stage will have no {} group for it.'.format(
                        rule, stage, criteria[stage], stage))
    return selection


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description='Rules, checkpoints and growth of '
                                     'performance of a trained model')
    parser.add_argument('--modeldir', default='data/6tasks')
    parser.add_argument('--auto-range-select', action='store_true')
    args = parser.parse_args(argv)
    hp, log = tools.load_hp(args.modeldir), tools.load_log(args.modeldir)
    print_basic_info(hp, log, args.modeldir, auto_range_select=args.auto_range_select)


if __name__ == '__main__':
    main()
