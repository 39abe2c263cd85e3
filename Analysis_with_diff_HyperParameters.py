"""Analyse the networks trained by Training_with_diff_HyperParameters.py: for every
experiment of its table, the basic analyses of Main_analysis.py on that model.

    python Analysis_with_diff_HyperParameters.py --list                # table + what is trained
    python Analysis_with_diff_HyperParameters.py                       # every trained experiment
    python Analysis_with_diff_HyperParameters.py --only 'set2_*' indi_odr
    python Analysis_with_diff_HyperParameters.py --root data_sweep --recompute
    python Analysis_with_diff_HyperParameters.py --report              # signatures, side by side
    python Analysis_with_diff_HyperParameters.py --report --only 'set2_*' set1_exp1 --no-figures

Per experiment (model folder <root>/<name>, figures in figure/figure_<name>/):
growth of performance with the checkpoints of each stage selected from the model's own
log (print_basic_info(auto_range_select=True) with the stage settings and fallback of
every command: stages differ between experiments, as their networks learn at different
speeds); task information; hidden activity H of each trained rule at its own stage
checkpoints (one pass planned from the calls, kept in memory, not written: see
analysis/plan.py); unit classification (neuron_info pickles) and the population PSTH of
every analysed epoch of every rule the experiment trained.
Experiments whose model folder holds no trained run yet are reported and skipped; a rule
with no checkpoint in any stage (not learned far enough yet) is reported and skipped, and
so is a block whose data the model does not hold (common.DataUnavailable); checkpoints
that log.json lists but whose folder is missing are named in one warning and left out.
Stored neuron_info pickles are reused unless --recompute; existing H pickles are read.

--report computes instead the paper's signatures on every selected trained experiment
(analysis.report.model_rows, as Main_report.py: each model's own report goes to
figure/report_<folder>/) and puts them side by side in figure/report_experiments/report.md
and experiments.csv: one row per experiment with each signature's verdict and main
effect size, the trial at which each task first exceeded 0.95 (or "not learned within
N", N the run's last checkpoint), and per family one sentence of what it changes.
Experiments not trained yet are named in one line of the report (and in the csv with
status "not trained") and left out of its tables. A model whose report exists for its
current log (figure/report_<folder>/signatures.csv written after log.json, for the same
folder and checkpoints) is read back, not recomputed, unless --recompute.
--no-figures writes no figure (the numbers are the same, in about half the time).
"""

import argparse
import contextlib
import io
import os
import sys
import time
import traceback

import tools
import experiments as thp
from stages import DataUnavailable, expand_trial_list, stages_with_fallback
from analysis.runner import log_on_disk

# Epochs whose selective units get a PSTH (and a neuron_info pickle), per rule; the
# delayed-response rules with other delays (odr500 … odr15000) use 'odr'. A rule not
# listed gets every epoch between fixation and response, in time order.
PSTH_EPOCHS = {
    'odr': ('stim1', 'delay1'),
    'odrd': ('stim1', 'delay1', 'delay2'),
    'overlap': ('stim1',),
    'zero_gap': ('stim1',),
    'gap': ('stim1',),
    'gap500': ('stim1',),
    'match_or_non': ('stim1', 'delay1', 'delay2'),
    'match_or_non_easy': ('stim1', 'delay1', 'delay2'),
    'match_or_non_passive': ('stim1', 'delay1', 'delay2'),
}
# Rules whose PSTH also shows the opposite location (dashed), as in Main_analysis.py.
OPPOSITE_LOCATION_RULES = ('odrd',)
# Epochs never analysed for selectivity: the baseline and the response.
NOT_ANALYSED = ('fix1', 'go1')
STATUSES = ('analysed', 'not trained', 'error')


def psth_epochs(rule, epoch_info):
    """Epoch names of ``rule`` analysed for selectivity and PSTHs (those that exist in its
    epoch_info {name: (start_step, end_step)})."""
    base = 'odr' if rule.startswith('odr') and rule[3:].isdigit() else rule
    if base in PSTH_EPOCHS:
        wanted = PSTH_EPOCHS[base]
    else:
        def start(name):
            s = epoch_info[name][0]
            return -1 if s is None else s
        wanted = sorted((e for e in epoch_info if e not in NOT_ANALYSED), key=start)
    return [e for e in wanted if e in epoch_info]


def training_state(model_dir):
    """(trained, text): whether model_dir holds a run with at least one checkpoint, and a
    short description ('not trained yet', or checkpoints, last trial, min performance)."""
    if not tools.is_valid_model_dir(model_dir):
        return False, 'not trained yet'
    log = tools.load_log(model_dir)
    if not log.get('trials'):
        return False, 'not trained yet (no checkpoint in the log)'
    return True, '{} checkpoint(s), last at trial {}, min perf {:.3f}'.format(
        len(log['trials']), log['trials'][-1], log['perf_min'][-1])


def format_list(names, root):
    """The --list table: name, description, model folder, rules trained, training state."""
    rows = [('name', 'what', 'model dir', 'rules', 'state')]
    for name in names:
        exp = thp.EXPERIMENTS[name]
        model_dir = exp.model_dir(root)
        rows.append((name, exp.what, model_dir, ','.join(exp.rules),
                     training_state(model_dir)[1]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def _summary(name, model_dir, status, seconds=0.0, figures=0, done=0, skipped=(),
             stages=None, error=None):
    return {'name': name, 'model_dir': model_dir, 'status': status, 'seconds': seconds,
            'figures': figures, 'blocks_done': done, 'skipped': list(skipped),
            'stages': stages, 'error': error}


def analyse_experiment(name, root='data', recompute=False, serial=False):
    """Run the analyses of one experiment of Training_with_diff_HyperParameters.EXPERIMENTS
    on its model folder <root>/<folder>; figures into figure/figure_<folder>/.

    Returns a summary dict: 'name', 'model_dir', 'status' ('analysed' or 'not trained'),
    'seconds', 'figures' (PNG files written), 'blocks_done', 'skipped' (labels of the
    blocks that could not run, e.g. a rule without stage checkpoints), 'stages' (the
    stage dict {rule: {'early', 'mid', 'mature': [trials]}} used) and 'error' (None).
    Raises ValueError naming the valid experiments for an unknown name.
    """
    # The analyses import TensorFlow (seconds of start-up): only here, so that --help and
    # --list answer at once.
    from analysis.activity import task_info_for
    from analysis.basic import print_basic_info
    from analysis.neuron_info import generate_neuron_info
    from analysis.plan import AnalysisPlan
    from analysis.psth import plot_PSTH
    exp = thp.get(name)
    model_dir = exp.model_dir(root)
    trained, state = training_state(model_dir)
    if not trained:
        print('{}: {} ({}): skipped'.format(name, state, model_dir), flush=True)
        return _summary(name, model_dir, 'not trained')
    start = time.time()
    print('\n=== {} — {} [{}]'.format(name, exp.what, model_dir), flush=True)
    hp = tools.load_hp(model_dir)
    rules = list(hp['rule_trains'])     # what this folder was trained on
    # The calls below are collected and run when the with-block ends, planned as those of
    # Main_analysis.py: one pass over the stage checkpoints (each restored once with all
    # its rules) writes the neuron_info pickles and keeps the PSTH rows in memory (no H
    # pickle: ~10–25 MB per rule and checkpoint at 256 units; compute_H writes them).
    with AnalysisPlan(recompute=recompute, serial=serial) as plan:
        log = log_on_disk(model_dir, tools.load_log(model_dir))   # missing / damaged out
        # Stages from this model's own performance curves (Fig S7), with the settings and
        # the fallback of every command (a stage the selection left empty is filled from
        # the checkpoints' own performance).
        selection = print_basic_info(hp, log, model_dir, smooth_growth=True,
                                     smooth_window=5, auto_range_select=True)
        stage_dict = stages_with_fallback(hp, log, selection or {})
        task_info = task_info_for(hp, model_dir, rules)
        for rule in rules:
            if not expand_trial_list(stage_dict, rule):
                label = '{}: rule {}'.format(name, rule)
                print('[skipped] {}: no checkpoint in any stage; no activity analysis for '
                      'it'.format(label), file=sys.stderr, flush=True)
                plan.runner.skipped.append(label)
                continue
            trial_list = {rule: stage_dict[rule]}
            epochs = psth_epochs(rule, task_info[rule]['epoch_info'])
            generate_neuron_info(hp, model_dir, epochs, trial_list, [rule])
            for epoch in epochs:
                plot_PSTH(hp, log, model_dir, rule, epoch, trial_list,
                          plot_oppo_dir=rule in OPPOSITE_LOCATION_RULES)
    seconds = time.time() - start
    n_fig, summary = plan.summary(model_dir, start, seconds)
    print('{}: {}'.format(name, summary.splitlines()[0]), flush=True)
    return _summary(name, model_dir, 'analysed', seconds, n_fig, plan.runner.done,
                    plan.runner.skipped, stage_dict)


def analyse_many(names=None, root='data', recompute=False, serial=False):
    """analyse_experiment for every experiment matching ``names`` (names or shell
    patterns such as 'set2_*'; None: all), in table order. An experiment whose analysis
    fails is reported (status 'error', the message in 'error') and the others go on.
    Returns the summaries."""
    summaries = []
    selected = thp.select(names)
    for name in selected:
        t0 = time.time()
        try:
            summaries.append(analyse_experiment(name, root, recompute=recompute,
                                                serial=serial))
        except Exception as exc:  # one broken model must not end the sweep's analysis
            traceback.print_exc()
            exp = thp.EXPERIMENTS[name]
            summaries.append(_summary(name, exp.model_dir(root), 'error', time.time() - t0,
                                      error='{}: {}'.format(type(exc).__name__, exc)))
    return summaries


def format_summary(summaries, seconds):
    """One line per experiment, then the one-line total."""
    lines = ['', 'Summary:']
    for s in summaries:
        if s['status'] == 'analysed':
            text = '{} figure(s), {} block(s) skipped'.format(s['figures'], len(s['skipped']))
        elif s['status'] == 'error':
            text = 'FAILED: ' + s['error'].splitlines()[0]
        else:
            text = 'not trained yet, skipped'
        lines.append('{:<14s} {}  [{}]'.format(s['name'], text, s['model_dir']))
    count = {st: sum(1 for s in summaries if s['status'] == st) for st in STATUSES}
    lines.append('Analysis_with_diff_HyperParameters: {} experiment(s) analysed, {} not '
                 'trained yet, {} failed; {} figure(s) in {:.1f} s'.format(
                     count['analysed'], count['not trained'], count['error'],
                     sum(s['figures'] for s in summaries), seconds))
    return '\n'.join(lines)


# ----------------------------------------------------------------------------------------
# --report: the signatures of every experiment, side by side
# ----------------------------------------------------------------------------------------
def _stored_rows(model_dir, log, out_dir):
    """The rows of model_dir's own report if it was computed for this log (same folder,
    same checkpoints, signatures.csv not older than log.json); None otherwise."""
    from analysis import report
    csv_path = os.path.join(out_dir, 'signatures.csv')
    md_path = os.path.join(out_dir, 'report.md')
    if not (os.path.isfile(csv_path) and os.path.isfile(md_path)):
        return None
    if os.path.getmtime(csv_path) < os.path.getmtime(os.path.join(model_dir, tools.LOG_FILE)):
        return None
    stamp = report.folder_line(model_dir, log)
    with open(md_path, encoding='utf-8') as f:
        if stamp not in f.read():
            return None
    return report.read_csv(csv_path)


def report_experiment(name, root='data', recompute=False, figures=True, serial=False):
    """The family-report line (analysis.family_report.experiment_row) of one experiment;
    its model's own report is written to figure/report_<folder>/ (or read back from there,
    see _stored_rows). An experiment without a trained model gets status 'not trained'."""
    from analysis import family_report, figsave, report
    exp = thp.get(name)
    model_dir = exp.model_dir(root)
    trained, state = training_state(model_dir)
    if not trained:
        return family_report.experiment_row(name, model_dir, 'not trained', note=state)
    log = tools.load_log(model_dir)
    out_dir = report.report_dir(model_dir)
    rows = None if recompute else _stored_rows(model_dir, log, out_dir)
    if rows is None:
        t0 = time.time()
        background = figsave.in_background() if figures else contextlib.nullcontext()
        # print_basic_info's stage tables go to the model's report, not the console
        with background, contextlib.redirect_stdout(io.StringIO()):
            rows = report.model_rows(model_dir, figures=figures, serial=serial)
        report.write_model_report(rows, out_dir, model_dir, seconds=time.time() - t0)
    return family_report.experiment_row(name, model_dir, 'reported', rows, log)


def report_many(names, root='data', recompute=False, figures=True, verbose=True,
                serial=False):
    """report_experiment for every name (tqdm progress); an experiment whose report fails
    gets status 'error' and the others go on. Writes figure/report_experiments/report.md
    and experiments.csv; returns (lines, md path, csv path)."""
    from tqdm.auto import tqdm
    from analysis import family_report
    start = time.time()
    lines = []
    bar = tqdm(names, desc='report', unit='experiment', disable=not verbose)
    for name in bar:
        bar.set_postfix_str(name)
        try:
            lines.append(report_experiment(name, root, recompute=recompute, figures=figures,
                                           serial=serial))
        except Exception as exc:  # one broken model must not end the family report
            if not isinstance(exc, (tools.UserError, DataUnavailable)):
                traceback.print_exc()     # a bug: its traceback; the model's fault: a line
            lines.append(family_report.experiment_row(
                name, thp.EXPERIMENTS[name].model_dir(root), 'error',
                note='{}: {}'.format(type(exc).__name__, exc)))
            bar.write('{}: the report failed: {}'.format(name, lines[-1]['note']))
    bar.close()
    md, csv_path = family_report.write_family_report(lines, root,
                                                     seconds=time.time() - start)
    return lines, md, csv_path


def format_report_summary(lines, md, seconds):
    """The closing line of --report (and the names of the experiments not trained)."""
    count = {st: [ln['name'] for ln in lines if ln['status'] == st]
             for st in ('reported', 'not trained', 'error')}
    out = []
    if count['not trained']:
        out.append('Not trained yet, left out of the tables: {}'.format(
            ', '.join(count['not trained'])))
    out.append('Analysis_with_diff_HyperParameters --report: {} experiment(s) reported, {} '
               'not trained, {} failed — {} and experiments.csv ({:.0f} s)'.format(
                   len(count['reported']), len(count['not trained']), len(count['error']),
                   md, seconds))
    return '\n'.join(out)


def main(argv=None):
    """Command line; returns the exit status (0 when no analysis failed)."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        epilog='Experiments: ' + ', '.join(thp.EXPERIMENTS))
    parser.add_argument('--list', action='store_true',
                        help='print the experiments and whether each is trained, and exit')
    parser.add_argument('--only', nargs='+', metavar='NAME',
                        help="experiments to analyse: names or shell patterns such as "
                             "'set2_*' (default: all)")
    parser.add_argument('--root', default='data',
                        help='folder of the model folders (default: %(default)s)')
    parser.add_argument('--recompute', action='store_true',
                        help='recompute H and neuron_info pickles that already exist (with '
                             '--report: recompute every model\'s report)')
    parser.add_argument('--report', action='store_true',
                        help='instead of the analyses, the signature report of the selected '
                             'experiments: figure/report_experiments/report.md and '
                             'experiments.csv')
    parser.add_argument('--no-figures', action='store_true',
                        help='with --report: write no figure (same numbers, faster)')
    parser.add_argument('--serial', action='store_true',
                        help='run every analysis in this process (by default, on two cores or '
                             'more, the behaviour analyses run in a second process)')
    args = parser.parse_args(argv)
    if args.no_figures and not args.report:
        parser.error('--no-figures goes with --report')
    try:
        names = thp.select(args.only)
    except ValueError as exc:
        parser.error(str(exc))
    if args.list:
        print(format_list(names, args.root))
        return 0
    for name in names:  # an unreadable hp.json / log.json stops here, before any analysis
        model_dir = thp.EXPERIMENTS[name].model_dir(args.root)
        if tools.is_valid_model_dir(model_dir):
            tools.load_hp(model_dir)
            tools.load_log(model_dir)
    import matplotlib
    matplotlib.use('Agg')          # figures are only written to files
    start = time.time()
    if args.report:
        lines, md, _ = report_many(names, root=args.root, recompute=args.recompute,
                                   figures=not args.no_figures, serial=args.serial)
        print(format_report_summary(lines, md, time.time() - start))
        return 1 if any(ln['status'] == 'error' for ln in lines) else 0
    summaries = analyse_many(names, root=args.root, recompute=args.recompute,
                             serial=args.serial)
    print(format_summary(summaries, time.time() - start))
    return 1 if any(s['status'] == 'error' for s in summaries) else 0


if __name__ == '__main__':
    sys.exit(tools.run_script(main))
