"""The signatures across the experiments of experiments.py, side by side.

``experiment_row`` turns one experiment's report rows (analysis.report.model_rows, or its
signatures.csv read back) and its log into one line: per signature the verdict and the
main effect size, per task the first trial above sig.LEARNED_PERF. ``family_sentence``
says in words what a family changes, from the experiment table itself.
``write_family_report`` writes figure/report_experiments/report.md and experiments.csv.
Nothing here runs a network: Analysis_with_diff_HyperParameters.py --report does.
"""

import csv
import io
import math
import os

import experiments
import tools
from analysis import report, session, signatures as sig

REPORT_NAME = 'experiments'          # figure/report_experiments/
STATUSES = ('reported', 'not trained', 'error')
# Words for the hp keys, ruleset, rules and seed an experiment changes.
CHANGE_WORDS = {
    'n_rnn': 'number of units',
    'activation': 'activation function',
    'w_rec_init': 'initial recurrent weights',
    'learning_rate': 'learning rate',
    'rnn_type': 'cell type',
    'ruleset': 'task set',
    'rules': 'tasks trained',
    'seed': 'random seed',
}
# The paper run's rules and seed in words (its hp: experiments.build_hp('seed0')).
PAPER_VALUES = {'rules': 'all six', 'seed': 0}


def main_effect(rows, number):
    """(effect, effect_name, variant) of signature ``number``: its first test row (not
    descriptive) with a defined effect size, or None."""
    for r in rows:
        if (r['signature'] == number and r['verdict'] != report.DESCRIPTIVE
                and math.isfinite(r['effect'])):
            return r['effect'], r['effect_name'], r['variant']
    return None


def na_reason(rows, number):
    """Why signature ``number`` is not available: the note of its first test row that is
    not ('' if none is)."""
    return next((r['note'] for r in rows if r['signature'] == number
                 and r['verdict'] == report.NA), '')


def learned_at(log, rule):
    """First checkpoint trial whose performance on ``rule`` exceeds sig.LEARNED_PERF, or
    None when none does."""
    return sig.first_crossing(log['trials'], log['perf_' + rule])


def learned_text(trial, trained_trials, spec='{:,}'):
    """'47,360' or 'not learned within 640,000' (spec '{}': without thousands commas)."""
    if trial is None:
        return 'not learned within ' + spec.format(int(trained_trials))
    return spec.format(int(trial))


def effect_text(x):
    """An effect size in a table cell: '317,440' for trials, '0.0491' otherwise."""
    return '{:,.0f}'.format(x) if abs(x) >= 1000 else report._fmt(x)


def experiment_row(name, model_dir, status, rows=(), log=None, note=''):
    """One experiment's line (dict): name, family, what, model_dir, status, trials (of the
    last checkpoint, or None), rules (trained), learned {rule: trial or None}, verdicts
    {signature: verdict}, effects {signature: main_effect or None}, reasons {signature:
    why it is not available, or ''}, note."""
    exp = experiments.get(name)
    out = {'name': name, 'family': experiments.family(name), 'what': exp.what,
           'model_dir': model_dir, 'status': status, 'trials': None, 'rules': exp.rules,
           'learned': {}, 'verdicts': {}, 'effects': {}, 'reasons': {}, 'note': note}
    if log and log.get('trials'):
        out['trials'] = int(log['trials'][-1])
        out['learned'] = {r: learned_at(log, r) for r in exp.rules if 'perf_' + r in log}
    if rows:
        out['verdicts'] = report.signature_verdicts(rows)
        out['effects'] = {n: main_effect(rows, n) for n in report.SIGNATURES}
        out['reasons'] = {n: na_reason(rows, n) for n in report.SIGNATURES}
    return out


# ----------------------------------------------------------------------------------------
# What a family changes
# ----------------------------------------------------------------------------------------
def family_title(family):
    """'Set 2' for set2, 'The indi family' otherwise."""
    if family.startswith('set') and family[3:].isdigit():
        return 'Set {}'.format(family[3:])
    return 'The {} family'.format(family)


def _paper_hp():
    """The complete hp of the paper run (Main_training.py = experiment seed0)."""
    return experiments.build_hp('seed0')


def _changes(exp):
    """{key: value} of what exp changes from the paper run (CHANGE_WORDS keys)."""
    out = {k: v for k, v in exp.overrides.items() if v != _paper_hp().get(k)}
    if exp.ruleset != _paper_hp()['ruleset']:
        out['ruleset'] = exp.ruleset
    if exp.rule_trains is not None:
        out['rules'] = '+'.join(exp.rule_trains)
    if exp.seed is not None:
        out['seed'] = exp.seed
    return out


def family_sentence(family, table=None):
    """One plain sentence of what the experiments of ``family`` change, read from the
    table (experiments.EXPERIMENTS): 'Set 2 changes the activation function (paper:
    softplus): tanh, relu, elu, power; everything else is the paper run.'"""
    table = experiments.EXPERIMENTS if table is None else table
    members = [e for n, e in table.items() if experiments.family(n) == family]
    changes = [_changes(e) for e in members]
    keys = list(dict.fromkeys(k for c in changes for k in c))
    if not keys:
        return '{} is the paper run itself.'.format(family_title(family))
    parts = []
    for key in keys:
        paper = PAPER_VALUES[key] if key in PAPER_VALUES else _paper_hp()[key]
        values = list(dict.fromkeys('{:g}'.format(c[key]) if isinstance(c.get(key), float)
                                    else str(c.get(key, paper)) for c in changes))
        parts.append('the {} (paper: {}): {}'.format(
            CHANGE_WORDS.get(key, key), '{:g}'.format(paper) if isinstance(paper, float)
            else paper, ', '.join(values)))
    return '{} changes {}; everything else is the paper run.'.format(
        family_title(family), ' and '.join(parts))


# ----------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------
def _verdict_cell(line, number):
    verdict = line['verdicts'].get(number)
    if verdict is None:
        return ''
    if verdict == report.NA:
        reason = line['reasons'].get(number)
        return '{} ({})'.format(verdict, reason) if reason else verdict
    eff = line['effects'].get(number)
    if eff is None:
        return verdict
    return '{} ({} = {})'.format(verdict, eff[1] or 'effect', effect_text(eff[0]))


def _rule_columns(lines):
    """Every task of the experiments, in order of first appearance."""
    return list(dict.fromkeys(r for line in lines for r in line['rules']))


def _learned_cell(line, rule, spec='{:,}'):
    if rule not in line['rules'] or line['trials'] is None or rule not in line['learned']:
        return ''
    return learned_text(line['learned'][rule], line['trials'], spec)


def csv_columns(rules):
    cols = ['experiment', 'family', 'what', 'model_dir', 'status', 'trials']
    for n in report.SIGNATURES:
        cols += ['sig{}_verdict'.format(n), 'sig{}_effect'.format(n),
                 'sig{}_effect_name'.format(n), 'sig{}_effect_variant'.format(n),
                 'sig{}_not_available_because'.format(n)]
    cols += ['learned_' + r for r in rules]
    return cols + ['note']


def write_csv(lines, path):
    """experiments.csv: one line per experiment (csv_columns); learned_<task> is the
    first trial above LEARNED_PERF, 'not learned within N' or empty (task not trained)."""
    rules = _rule_columns(lines)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=csv_columns(rules), lineterminator='\n')
    w.writeheader()
    for line in lines:
        out = {'experiment': line['name'], 'family': line['family'], 'what': line['what'],
               'model_dir': line['model_dir'], 'status': line['status'],
               'trials': '' if line['trials'] is None else line['trials'],
               'note': line['note']}
        for n in report.SIGNATURES:
            eff = line['effects'].get(n)
            out['sig{}_verdict'.format(n)] = line['verdicts'].get(n, '')
            out['sig{}_effect'.format(n)] = '' if eff is None else repr(float(eff[0]))
            out['sig{}_effect_name'.format(n)] = '' if eff is None else eff[1]
            out['sig{}_effect_variant'.format(n)] = '' if eff is None else eff[2]
            out['sig{}_not_available_because'.format(n)] = line['reasons'].get(n, '')
        for r in rules:
            out['learned_' + r] = _learned_cell(line, r, '{}')
        w.writerow(out)
    tools.save_text(buf.getvalue(), path)
    return path


def read_csv(path):
    """The lines of write_csv as dicts of strings (for tests and notebooks)."""
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


def format_markdown(lines, root, seconds=None):
    """report.md of the family report (text)."""
    md = report._md_cell
    shown = [ln for ln in lines if ln['status'] == 'reported']
    missing = [ln for ln in lines if ln['status'] == 'not trained']
    failed = [ln for ln in lines if ln['status'] == 'error']
    families = list(dict.fromkeys(ln['family'] for ln in lines))
    out = ['# Maturation signatures across the hyper-parameter experiments', '',
           'Model folders under `{}`: {} experiment(s) selected, {} reported, {} not '
           'trained, {} failed.'.format(root, len(lines), len(shown), len(missing),
                                         len(failed)),
           'Each experiment is the paper run (Main_training.py) with the change of its '
           'row. Its signatures are those of `Main_report.py` (its own report: '
           '`figure/report_<folder>/report.md`, with every row); a cell gives the '
           'signature\'s verdict and its main effect size, the first test row of the '
           'signature with a defined effect, or why the signature is not available. '
           'Stages are selected from each model\'s own log.', '']
    if missing:
        out += ['Not trained yet (no checkpoint under `{}`), left out of the tables below '
                'and listed in the csv with status "not trained": {}.'.format(
                    root, ', '.join(ln['name'] for ln in missing)), '']
    for ln in failed:
        out += ['**{}: the report failed** — {}'.format(ln['name'], md(ln['note'])), '']
    out += ['## What each family changes', '']
    out += ['- ' + family_sentence(f) for f in families]
    out += ['', '## Signatures', '',
            '| experiment | what | trials | ' + ' | '.join(
                '{} {}'.format(n, report.SIGNATURES[n]) for n in report.SIGNATURES) + ' |',
            '|---|---|---|' + '---|' * len(report.SIGNATURES)]
    for ln in shown:
        out.append('| {} | {} | {:,} | {} |'.format(
            ln['name'], md(ln['what']), ln['trials'],
            ' | '.join(md(_verdict_cell(ln, n)) for n in report.SIGNATURES)))
    rules = _rule_columns(shown)
    out += ['', '## When each task was learned', '',
            'First checkpoint trial at which the task\'s performance exceeded {} ("not '
            'learned within N": not by the run\'s last checkpoint, trial N; empty: the '
            'experiment does not train the task).'.format(sig.LEARNED_PERF), '',
            '| experiment | ' + ' | '.join(rules) + ' |', '|---|' + '---|' * len(rules)]
    for ln in shown:
        out.append('| {} | {} |'.format(ln['name'], ' | '.join(
            _learned_cell(ln, r) for r in rules)))
    out += ['', 'Thresholds as in every model report: a task is learned above {}; tests at '
            'p < {}.'.format(sig.LEARNED_PERF, sig.ALPHA)]
    if seconds is not None:
        out.append('Computed in {:.0f} s.'.format(seconds))
    return '\n'.join(out) + '\n'


def report_dir(root=None):
    """<figure root>/report_experiments (the current analysis session's figure root
    unless root is given)."""
    return os.path.join(session.current().figure_root if root is None else root,
                        'report_' + REPORT_NAME)


def write_family_report(lines, model_root, out_dir=None, seconds=None):
    """report.md and experiments.csv in out_dir (default report_dir()); returns both
    paths."""
    out_dir = report_dir() if out_dir is None else out_dir
    tools.mkdir_p(out_dir)
    md = os.path.join(out_dir, 'report.md')
    tools.save_text(format_markdown(lines, model_root, seconds), md)
    return md, write_csv(lines, os.path.join(out_dir, 'experiments.csv'))
