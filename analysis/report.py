"""Maturation report: the paper's six signatures on one model or across models (seeds).

``model_rows(model_dir)`` runs the suite's own analyses — stages auto-selected from the
model's log with Main_analysis's defaults — and turns each signature of PAPER.md into
rows: one per signature and variant, each with its statistic, p-value, effect size and
verdict. ``write_model_report`` writes them as ``figure/report_<model>/report.md`` (the
table, then the figures each row used) and ``signatures.csv``; ``write_seed_report``
summarises several models in ``figure/report_seeds/``: how many reproduce each signature
and the effect size mean ± sd across them.

Verdicts: 'holds', 'does not hold', 'not available' (the model lacks what the test needs,
or the statistic is undefined on it: the row's note always says why) and 'descriptive'
(context, not part of the signature's test). A signature holds on a model when every one
of its test rows holds; it is not available when any test row is. Thresholds are module
constants of ``analysis.signatures``; nothing here is tuned to a particular run.

Any model of experiments.py works: a network trained on fewer tasks gets "not available"
for the signatures that need the others; the ODR task is the model's delayed-response
task (``odr_rule``: odr, or odr3000 / odr6000 / odr15000 in the long-delay rulesets);
other rule inputs (match-or-non-match rulesets), sizes, activations and cells (GRU,
LeakyGRU) need nothing special.
"""

import csv
import functools
import io
import math
import os

import numpy as np

import stages as stages_mod
import task
import tools
from analysis import common, figsave, session, signatures as sig
from analysis.basic import print_basic_info
from analysis.behaviour import odrd_distractor_analysis, saccade_distribut_analysis
from analysis.decoding import Decoder_analysis
from analysis.plan import AnalysisPlan, Deferred
from analysis.psth import neuron_period_activity_analysis
from analysis.runner import log_on_disk
from analysis.tuning import tunning_analysis

SIGNATURES = {
    1: 'learning order',
    2: 'working memory',
    3: 'distractor',
    4: 'anti-saccade',
    5: 'coding',
    6: 'tuning',
}
HOLDS, FAILS, NA, DESCRIPTIVE = 'holds', 'does not hold', 'not available', 'descriptive'
COLUMNS = ('model', 'signature', 'name', 'variant', 'statistic', 'value', 'p', 'effect',
           'effect_name', 'verdict', 'note', 'figures')
_FLOAT_COLUMNS = ('value', 'p', 'effect')

ANTI_RULES = ('overlap', 'zero_gap', 'gap', 'gap500')
WM_RULES = ('odr', 'odrd')
SACCADE_RULES = ('overlap', 'zero_gap', 'gap')
# Stim-period window (ms) of the anti-saccade activation test: cue onset → +250 ms, as the
# anti-saccade blocks of Main_analysis and the original.
STIM_WINDOW_MS = {'overlap': (1000, 1250), 'zero_gap': (1000, 1250), 'gap': (1100, 1350)}
# Working-memory delay of each rule (signature 2): units selective in that epoch, as the
# original's neuron_period_activity_analysis lines. 'odr' stands for the model's ODR task
# (odr_rule), whose delay is also delay1 in the long-delay rulesets.
WM_DELAY = {'odr': 'delay1', 'odrd': 'delay2'}
BEHAVIOUR_CHECKPOINTS = 5   # per stage, as Main_analysis --behaviour-checkpoints
DECODER_WINDOW = 10         # steps, as Main_analysis
# Trials of the behavioural tests, the analyses' defaults (as Main_analysis): ODRD with
# distractor, trials per (cue, distractor) pair; anti-saccades, 128-trial test batches per
# checkpoint.
DISTRACTOR_BATCH = 128
SACCADE_BATCHES = 8
REPORT_ROOT = 'figure'


def row(model, number, variant, statistic, value=float('nan'), p=float('nan'),
        effect=float('nan'), effect_name='', verdict=NA, note='', figures=()):
    """One table row (a dict with the COLUMNS keys). A 'not available' row must say why
    (note): ValueError otherwise."""
    if verdict == NA and not note:
        raise ValueError('signature {}, {!r}: a "not available" row needs a note saying '
                         'why'.format(number, variant))
    return {'model': model, 'signature': int(number), 'name': SIGNATURES[number],
            'variant': variant, 'statistic': statistic, 'value': _f(value), 'p': _f(p),
            'effect': _f(effect), 'effect_name': effect_name, 'verdict': verdict,
            'note': note, 'figures': [f for f in figures if str(f).endswith('.png')]}


def _f(x):
    return float('nan') if x is None else float(x)


def _verdict(flag):
    return NA if flag is None else (HOLDS if flag else FAILS)


def _verdict_note(flag, why):
    """(verdict, note) of a test whose result is flag (None: undefined, for reason why)."""
    return _verdict(flag), (why if flag is None else '')


def odr_rule(hp):
    """The model's ODR task: 'odr' if it was trained on it, else its delayed-response task
    with another delay ('odr3000', 'odr6000', 'odr15000' in the long-delay rulesets; the
    longest if several), or None."""
    rules = hp['rule_trains']
    if 'odr' in rules:
        return 'odr'
    delayed = [r for r in rules if r in task.ODR_DELAY_MS]
    return max(delayed, key=task.ODR_DELAY_MS.get) if delayed else None


def _rule_of(hp, rule):
    """The rule of the model standing for ``rule`` of the paper ('odr' → odr_rule)."""
    return (odr_rule(hp) or 'odr') if rule == 'odr' else rule


def _not_trained(hp, rule):
    if rule == 'odr' or rule in task.ODR_DELAY_MS:
        return 'model not trained on an ODR task (odr or odr with another delay); its ' \
               'tasks: {}'.format(', '.join(hp['rule_trains']))
    return 'model not trained on {}'.format(rule)


def _fmt(x, spec='{:.3g}'):
    return 'n/a' if x is None or (isinstance(x, float) and not math.isfinite(x)) \
        else spec.format(x)


def _stage_means_text(means):
    return ', '.join('{} {:.3g}'.format(s, means[s]) for s in common.STAGES if s in means)


def _missing_stages(stage_dict, rule, needed=('early', 'mature')):
    stages = stage_dict.get(rule, {})
    return [s for s in needed if not stages.get(s)]


# ----------------------------------------------------------------------------------------
# Signatures on one model
# ----------------------------------------------------------------------------------------
def learning_rows(model, hp, log, growth_figures=()):
    """Signature 1: first trial at which each task exceeds LEARNED_PERF."""
    rules = hp['rule_trains']
    anti = [r for r in ANTI_RULES if r in rules]
    wm = [r for r in (_rule_of(hp, w) for w in WM_RULES) if r in rules]
    if not anti or not wm:
        return [row(model, 1, 'anti-saccade before working-memory tasks', 'n/a',
                    note='needs anti-saccade and working-memory tasks; this model trained '
                         '{}'.format(', '.join(rules)))]
    crossing = {r: sig.first_crossing(log['trials'], log['perf_' + r]) for r in anti + wm}
    order = sig.learning_order(crossing, anti, wm)
    text = '; '.join('{} {}'.format(r, 'not by trial {}'.format(log['trials'][-1])
                                    if crossing[r] is None else crossing[r])
                     for r in anti + wm)
    return [row(model, 1, 'anti-saccade before working-memory tasks',
                'first trial > {}: {}'.format(sig.LEARNED_PERF, text),
                value=order['gap'], effect=order['gap'],
                effect_name='trials from the last anti-saccade task to the first WM task',
                verdict=_verdict(order['holds']), figures=growth_figures)]


def working_memory_rows(model, hp, log, model_dir, stages, verbose=False, figures=True):
    """Signature 2: delay activity of delay-selective units (exh + mix) by stage."""
    rows = []
    for paper_rule, epoch in WM_DELAY.items():
        rule = _rule_of(hp, paper_rule)
        for last_step, how in ((True, 'last checkpoint of each stage'),
                               (False, 'every stage checkpoint')):
            variant = '{} {}, {}'.format(rule, epoch, how)
            if rule not in hp['rule_trains']:
                rows.append(row(model, 2, variant, 'n/a', note=_not_trained(hp, rule)))
                continue
            missing = _missing_stages(stages, rule)
            if missing:
                rows.append(row(model, 2, variant, 'n/a', note='no {} checkpoint for {}'
                                .format(' or '.join(missing), rule)))
                continue
            # Both variants read the same PSTH rows (made once by the plan's pass).
            res = neuron_period_activity_analysis(
                hp, log, {rule: stages[rule]}, model_dir, rule, epoch, epoch,
                last_step=last_step)
            rows.append(functools.partial(_anova_row_of, model, 2, variant, res))
    return rows


def _anova_row_of(model, number, variant, result):
    res = _value(result)
    return (_skipped_row(model, number, variant) if res is None
            else _anova_row(model, number, variant, res))


def _anova_row(model, number, variant, res):
    fire = res.get('fire_rate', {})
    if 'early' not in fire or 'mature' not in fire:
        return row(model, number, variant, 'n/a', note='no selected unit in the {} stage'
                   .format(' or '.join(s for s in ('early', 'mature') if s not in fire)),
                   figures=res.get('figures', ()))
    a = sig.stage_anova(fire)
    text = 'mean per stage: {}; F({}, {}) = {}'.format(
        _stage_means_text(a['means']), a['df_between'], a['df_within'], _fmt(a['F']))
    verdict, note = _verdict_note(sig.rises(a), 'the ANOVA is undefined ({} unit values '
                                  'in {} stages: too few, or no variation within stages)'
                                  .format(sum(a['n'].values()), len(a['n'])))
    return row(model, number, variant, text, value=a['means']['mature'] - a['means']['early'],
               p=a['p'], effect=a['eta2'], effect_name='η²', verdict=verdict, note=note,
               figures=res.get('figures', ()))


def distractor_rows(model, hp, log, model_dir, stages, verbose=False, figures=True):
    """Signature 3: ODRD performance by cue–distractor distance per stage."""
    variants = ('mature − early at every distance', 'slope over distance, early',
                'slope over distance, mid', 'slope over distance, mature')
    if 'odrd' not in hp['rule_trains']:
        return [row(model, 3, v, 'n/a', note='model not trained on odrd') for v in variants]
    present = [s for s in common.STAGES if stages.get('odrd', {}).get(s)]
    if not present:
        return [row(model, 3, v, 'n/a', note='no odrd checkpoint in any stage')
                for v in variants]
    thin = stages_mod.thin_stages({'odrd': stages['odrd']}, BEHAVIOUR_CHECKPOINTS)
    res = odrd_distractor_analysis(hp, log, model_dir, thin, batch_size=DISTRACTOR_BATCH,
                                   plot=figures, verbose=verbose)
    return [functools.partial(_distractor_rows_of, model, variants, res)]


def _distractor_rows_of(model, variants, result):
    res = _value(result)
    if res is None:
        return [_skipped_row(model, 3, v) for v in variants]
    figs = res.get('figures', ())
    slopes = sig.distance_slopes(res['perf'].values, res['stage'].values,
                                 res['distance_deg'])
    rows = []
    diff = sig.stage_difference(slopes)
    if diff is None:
        rows.append(row(model, 3, variants[0], 'n/a', figures=figs,
                        note='no {} checkpoint for odrd'.format(' or '.join(
                            s for s in ('early', 'mature') if s not in slopes))))
    else:
        text = 'mature − early perf at {}°: {}'.format(
            '/'.join('{:g}'.format(d) for d in res['distance_deg']),
            ' '.join('{:+.2f}'.format(v) for v in diff))
        rows.append(row(model, 3, variants[0], text, value=float(np.min(diff)),
                        effect=float(np.mean(diff)), effect_name='mean mature − early perf',
                        verdict=_verdict(bool(np.all(diff > 0))), figures=figs))
    for stage, variant in zip(common.STAGES, variants[1:]):
        if stage not in slopes:
            rows.append(row(model, 3, variant, 'n/a', note='no {} checkpoint for odrd'
                            .format(stage)))
            continue
        s = slopes[stage]
        text = 'perf {} from 0° to 180°; slope {} per 180° ({} checkpoints)'.format(
            ' → '.join('{:.2f}'.format(v) for v in s['mean'][[0, -1]]), _fmt(s['slope']),
            s['n_checkpoints'])
        # The signature asks for rising curves in the mid and mature stages; the early
        # stage's slope is context.
        verdict, note = _verdict_note(
            None if not np.isfinite(s['p']) else bool(s['slope'] > 0 and s['p'] < sig.ALPHA),
            'the slope\'s test is undefined: performance is the same at every distance')
        if stage == 'early':
            verdict, note = DESCRIPTIVE, ''
        rows.append(row(model, 3, variant, text, value=s['slope'], p=s['p'],
                        effect=s['slope'], effect_name='perf change per 180°',
                        verdict=verdict, note=note))
    return rows


def anti_saccade_rows(model, hp, log, model_dir, stages, verbose=False, figures=True):
    """Signature 4: saccade errors within 36° and stim-period activation, by stage."""
    rows = []
    for rule in SACCADE_RULES:
        v_err = '{}: saccades within {:g}°, early vs mature'.format(rule, sig.CORRECT_DEG)
        v_act = '{}: stim-period activation of stim1-selective units'.format(rule)
        if rule not in hp['rule_trains']:
            rows += [row(model, 4, v, 'n/a', note=_not_trained(hp, rule))
                     for v in (v_err, v_act)]
            continue
        missing = _missing_stages(stages, rule)
        if missing:
            note = 'no {} checkpoint for {}'.format(' or '.join(missing), rule)
            rows += [row(model, 4, v, 'n/a', note=note) for v in (v_err, v_act)]
            continue
        thin = stages_mod.thin_stages({rule: stages[rule]}, BEHAVIOUR_CHECKPOINTS)
        res = saccade_distribut_analysis(hp, log, rule, model_dir, thin,
                                         n_batches=SACCADE_BATCHES, plot=figures,
                                         verbose=verbose)
        rows.append(functools.partial(_saccade_row_of, model, v_err, res))
        act = neuron_period_activity_analysis(hp, log, {rule: stages[rule]}, model_dir, rule,
                                              'stim1', STIM_WINDOW_MS[rule])
        rows.append(functools.partial(_anova_row_of, model, 4, v_act, act))
    return rows


def _saccade_row_of(model, variant, result):
    res = _value(result)
    if res is None:
        return _skipped_row(model, 4, variant)
    frac = {s: sig.fraction_within(res['errors'][s]) for s in common.STAGES
            if np.size(res['errors'].get(s, []))}
    (f_hi, n_hi), (f_lo, n_lo) = frac['mature'], frac['early']
    test = sig.two_proportion_test(round(f_hi * n_hi), n_hi, round(f_lo * n_lo), n_lo)
    text = 'within {:g}°: {} (z = {})'.format(
        sig.CORRECT_DEG, ', '.join('{} {:.0%}'.format(s, frac[s][0]) for s in frac),
        _fmt(test['z']))
    return row(model, 4, variant, text, value=test['diff'], p=test['p'],
               effect=test['diff'], effect_name='mature − early fraction',
               verdict=_verdict(test['diff'] > 0 and test['p'] < sig.ALPHA),
               figures=res.get('figures', ()))


def coding_rows(model, hp, log, model_dir, stages, verbose=False, figures=True):
    """Signature 5: cross-temporal decoding of the cue on a mature ODR network."""
    rule = _rule_of(hp, 'odr')
    variant = '{}, mature checkpoint closest to the mature target'.format(rule)
    if rule not in hp['rule_trains']:
        return [row(model, 5, variant, 'n/a', note=_not_trained(hp, rule))]
    if not stages.get(rule, {}).get('mature'):
        return [row(model, 5, variant, 'n/a', note='no mature {} checkpoint'.format(rule))]
    trial = _decoded_checkpoint(hp, log, stages)
    res = Decoder_analysis(hp, model_dir, trial, rule=rule, window_size=DECODER_WINDOW,
                           test_num=2, plot=figures, verbose=verbose)
    return [functools.partial(_coding_row_of, model, hp, rule, variant, trial, res)]


def _coding_row_of(model, hp, rule, variant, trial, result):
    res = _value(result)
    if res is None:
        return _skipped_row(model, 5, variant)
    epochs = task.generate_trials(rule, hp, 'test', noise_on=False).epochs
    starts = np.round(np.asarray(res['times']) * 1000.0 / hp['dt']).astype(int)
    n_classes = hp['n_eachring']
    s = sig.decoding_summary(res['accuracy'], starts, DECODER_WINDOW, epochs['delay1'],
                             (0, epochs['stim1'][0]), n_classes)
    text = ('checkpoint {}: diagonal accuracy {} over the delay ({} windows), {} before '
            'the cue ({} windows); chance {:.3f}'.format(
                trial, _fmt(s['delay'], '{:.2f}'), s['n_delay'], _fmt(s['pre_cue'], '{:.2f}'),
                s['n_pre_cue'], s['chance']))
    verdict, note = _verdict_note(sig.decodes(s), 'no decoding window of {} steps fits in '
                                  'the {}'.format(DECODER_WINDOW, ' or '.join(
                                      w for w, n in (('delay', s['n_delay']),
                                                     ('time before the cue', s['n_pre_cue']))
                                      if not n) or 'delay or before the cue'))
    return row(model, 5, variant, text, value=s['delay'], effect=s['delay'] - s['pre_cue'],
               effect_name='delay − pre-cue accuracy', verdict=verdict, note=note,
               figures=res.get('figures', ()))


def tuning_rows(model, hp, log, model_dir, stages, verbose=False, figures=True):
    """Signature 6: cue-period (stim1) tuning height of ODR units by stage."""
    rule = _rule_of(hp, 'odr')
    variant = '{} stim1 height, mature vs early'.format(rule)
    if rule not in hp['rule_trains']:
        return [row(model, 6, variant, 'n/a', note=_not_trained(hp, rule))]
    missing = _missing_stages(stages, rule)
    if missing:
        return [row(model, 6, variant, 'n/a', note='no {} checkpoint for {}'.format(
            ' or '.join(missing), rule))]
    res = tunning_analysis(hp, log, model_dir, rule, 'stim1', {rule: stages[rule]},
                           verbose=verbose)
    return [functools.partial(_tuning_row_of, model, variant, res)]


def _tuning_row_of(model, variant, result):
    res = _value(result)
    if res is None:
        return _skipped_row(model, 6, variant)
    heights = res.get('heights', {})
    figs = res.get('figures', ())
    if 'early' not in heights or 'mature' not in heights:
        return row(model, 6, variant, 'n/a', figures=figs,
                   note='no selected unit in the {} stage'.format(' or '.join(
                       s for s in ('early', 'mature') if s not in heights)))
    t = sig.height_test(heights['mature'], heights['early'])
    text = 'mean height: {} (t = {}; pairwise p {})'.format(
        ', '.join('{} {:.3g}'.format(s, np.nanmean(h)) for s, h in heights.items()),
        _fmt(t['t']), ', '.join('{} {}'.format(k, _fmt(v, '{:.1e}'))
                                for k, v in res.get('ttest_p', {}).items()))
    flag = None if not np.isfinite(t['p']) else bool(t['mean_high'] > t['mean_low']
                                                     and t['p'] < sig.ALPHA)
    verdict, note = _verdict_note(flag, 'the t-test is undefined (fewer than two units '
                                  'with a fitted height in a stage, or no variation)')
    return row(model, 6, variant, text, value=t['mean_high'] - t['mean_low'], p=t['p'],
               effect=t['d'], effect_name='Cohen d', verdict=verdict, note=note,
               figures=figs)


def _decoded_checkpoint(hp, log, stages):
    """The mature ODR checkpoint closest to the mature target (as Main_analysis)."""
    rule = _rule_of(hp, 'odr')
    return stages_mod.representative_checkpoint(hp, log, {rule: stages[rule]}, rule, 'mature')


# Each takes (model, hp, log, model_dir, stage dict, verbose, figures) and returns a list
# of rows and of functions that build rows (or lists of rows) from the results of the
# analyses it called: inside model_rows's plan those results exist once the plan has run.
SIGNATURE_ROWS = (working_memory_rows, distractor_rows, anti_saccade_rows, coding_rows,
                  tuning_rows)


def select_stages(hp, log, model_dir):
    """Stage dict of every trained rule with the settings every command uses
    (stages.AVR_WINDOW, PERF_MARGIN, MAX_PER_STAGE), and the paths of the growth figure
    (Fig S7) it draws."""
    selection = print_basic_info(hp, log, model_dir, smooth_growth=True, smooth_window=5,
                                 auto_range_select=True)
    stage_dict = stages_mod.stages_with_fallback(hp, log, selection or {})
    growth = session.figure_path(model_dir, 'growth_of_performance_range') + '.png'
    return stage_dict, [growth]


def model_rows(model_dir, verbose=False, figures=True, serial=False):
    """Every signature's rows for one model (list of dicts with the COLUMNS keys).

    The analyses the signatures need are called inside an AnalysisPlan, as Main_analysis's
    lines are: one activity pass makes what they read, the behaviour analyses run in a
    second process meanwhile (analysis/plan.py); each signature's rows are built from the
    results afterwards. Checkpoints missing on disk or damaged are left out (one line
    each; the current session's list of damaged checkpoints names them).

    figures=False: no figure is written (figsave.discarded; the behavioural and decoding
    figures, the slowest, are not even built) and the rows name none; the numbers are
    the same. serial: every analysis in this process (AnalysisPlan's serial).
    """
    if figures:
        return _model_rows(model_dir, verbose, figures, serial)
    with figsave.discarded():
        rows = _model_rows(model_dir, verbose, figures, serial)
    for r in rows:
        r['figures'] = []
    return rows


def _model_rows(model_dir, verbose, figures, serial):
    hp = tools.load_hp(model_dir)
    model = common.model_name(model_dir)
    with AnalysisPlan(verbose=verbose, serial=serial):
        log = log_on_disk(model_dir, tools.load_log(model_dir))
        if not log.get('trials'):
            return [row(model, n, 'all', 'n/a', note='the log holds no checkpoint')
                    for n in SIGNATURES]
        stage_dict, growth = select_stages(hp, log, model_dir)
        pending = learning_rows(model, hp, log, growth)
        for fn in SIGNATURE_ROWS:
            pending += fn(model, hp, log, model_dir, stage_dict, verbose=False,
                          figures=figures)
    return built_rows(pending)


def built_rows(pending):
    """The rows of a signature function's list: its rows, and the rows (or lists of rows)
    built by its functions from the results of the analyses it called."""
    rows = []
    for item in pending:
        built = item() if callable(item) else item
        rows += built if isinstance(built, list) else [built]
    return rows


def _value(result):
    """An analysis result: itself, or the value of a plan's Deferred once it has run
    (None for a call the plan reported as skipped)."""
    return result.value if isinstance(result, Deferred) else result


def _skipped_row(model, number, variant):
    return row(model, number, variant, 'n/a', note='the analysis had no data for it (its '
               '[skipped] line says why)')


# ----------------------------------------------------------------------------------------
# Verdicts per signature
# ----------------------------------------------------------------------------------------
def signature_verdicts(rows):
    """{signature number: verdict} over the test rows (descriptive rows do not count)."""
    out = {}
    for number in SIGNATURES:
        tests = [r['verdict'] for r in rows if r['signature'] == number
                 and r['verdict'] != DESCRIPTIVE]
        if not tests or NA in tests:
            out[number] = NA
        else:
            out[number] = HOLDS if all(v == HOLDS for v in tests) else FAILS
    return out


# ----------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------
def write_csv(rows, path):
    """signatures.csv: one line per row, COLUMNS in order, figures joined by ';'."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator='\n')
    w.writeheader()
    for r in rows:
        out = dict(r)
        out['figures'] = ';'.join(r['figures'])
        for k in _FLOAT_COLUMNS:
            out[k] = '' if not math.isfinite(r[k]) else repr(float(r[k]))
        w.writerow(out)
    tools.save_text(buf.getvalue(), path)
    return path


def read_csv(path):
    """The rows written by write_csv (floats, int signature, list of figures)."""
    rows = []
    with open(path, newline='', encoding='utf-8') as f:
        for r in csv.DictReader(f):
            r['signature'] = int(r['signature'])
            for k in _FLOAT_COLUMNS:
                r[k] = float(r[k]) if r[k] != '' else float('nan')
            r['figures'] = [p for p in r['figures'].split(';') if p]
            rows.append(r)
    return rows


def _md_cell(text):
    return str(text).replace('|', '\\|').replace('\n', ' ')


def _table_line(r):
    """One markdown table line of a row: #, variant, statistic, p, effect size, verdict."""
    effect = '' if not math.isfinite(r['effect']) else '{} = {}'.format(
        r['effect_name'], _fmt(r['effect']))
    verdict = r['verdict'] + (' ({})'.format(r['note']) if r['note'] else '')
    return '| {} | {} | {} | {} | {} | {} |'.format(
        r['signature'], _md_cell(r['variant']), _md_cell(r['statistic']),
        _fmt(r['p'], '{:.2g}'), _md_cell(effect), _md_cell(verdict))


def folder_line(model_dir, log):
    """'Model folder `<model_dir>`: <n> checkpoints up to trial <last>' (report.md's first
    line: which run the report describes)."""
    return 'Model folder `{}`: {} checkpoints up to trial {:,}'.format(
        model_dir, len(log['trials']), log['trials'][-1])


def write_model_report(rows, out_dir, model_dir=None, seconds=None):
    """report.md and signatures.csv of one model in out_dir; returns both paths."""
    tools.mkdir_p(out_dir)
    model = rows[0]['model'] if rows else common.model_name(model_dir or out_dir)
    verdicts = signature_verdicts(rows)
    lines = ['# Maturation signatures: {}'.format(model), '']
    if model_dir is not None:
        log = tools.load_log(model_dir)
        if log.get('trials'):
            lines.append(folder_line(model_dir, log) + '; stages auto-selected from its '
                         'log as in Main_analysis.')
            lines.append('')
    lines += ['| # | signature | verdict |', '|---|---|---|']
    lines += ['| {} | {} | {} |'.format(n, SIGNATURES[n], verdicts[n]) for n in SIGNATURES]
    lines += ['', '| # | variant | statistic | p | effect size | verdict |',
              '|---|---|---|---|---|---|']
    lines += [_table_line(r) for r in rows]
    lines += ['', 'Thresholds: a task is learned above {}; tests at p < {}; decoding holds '
              'at a delay accuracy ≥ {} with a pre-cue accuracy ≤ {} × chance; saccades '
              'within {:g}° are correct.'.format(sig.LEARNED_PERF, sig.ALPHA, sig.DECODE_MIN,
                                                 sig.NEAR_CHANCE_FACTOR, sig.CORRECT_DEG)]
    if seconds is not None:
        lines.append('Computed in {:.0f} s.'.format(seconds))
    lines += ['', '## Figures', '']
    for number in SIGNATURES:
        figs = list(dict.fromkeys(f for r in rows if r['signature'] == number
                                  for f in r['figures'] if os.path.isfile(f)))
        if not figs:
            continue
        lines.append('### {}. {}'.format(number, SIGNATURES[number]))
        lines.append('')
        for f in figs:
            rel = os.path.relpath(f, out_dir).replace(os.sep, '/')
            lines.append('![{}]({})'.format(os.path.basename(f), rel))
            lines.append('')
    md = os.path.join(out_dir, 'report.md')
    tools.save_text('\n'.join(lines) + '\n', md)
    return md, write_csv(rows, os.path.join(out_dir, 'signatures.csv'))


def seed_summary(rows):
    """Per signature and per variant across models: how many models hold, how many were
    tested, and the effect size mean ± sd over the models where it is defined.

    Returns a list of dicts (signature, name, variant — '(signature)' for the signature's
    own verdict — holds, tested, not_available, effect_name, effect_mean, effect_sd).
    """
    models = list(dict.fromkeys(r['model'] for r in rows))
    per_model = {m: signature_verdicts([r for r in rows if r['model'] == m]) for m in models}
    out = []
    for number in SIGNATURES:
        v = [per_model[m][number] for m in models]
        out.append({'signature': number, 'name': SIGNATURES[number], 'variant': '(signature)',
                    'holds': v.count(HOLDS), 'tested': len(v) - v.count(NA),
                    'not_available': v.count(NA), 'effect_name': '',
                    'effect_mean': float('nan'), 'effect_sd': float('nan')})
        variants = list(dict.fromkeys(r['variant'] for r in rows if r['signature'] == number))
        for variant in variants:
            sel = [r for r in rows if r['signature'] == number and r['variant'] == variant]
            verdicts = [r['verdict'] for r in sel]
            eff = np.array([r['effect'] for r in sel], dtype=float)
            eff = eff[np.isfinite(eff)]
            out.append({'signature': number, 'name': SIGNATURES[number], 'variant': variant,
                        'holds': verdicts.count(HOLDS),
                        'tested': len([x for x in verdicts if x in (HOLDS, FAILS)]),
                        'not_available': verdicts.count(NA),
                        'effect_name': next((r['effect_name'] for r in sel
                                             if r['effect_name']), ''),
                        'effect_mean': float(eff.mean()) if eff.size else float('nan'),
                        'effect_sd': float(eff.std(ddof=1)) if eff.size > 1
                        else float('nan')})
    return out


def write_seed_report(rows, out_dir):
    """report.md and signatures.csv (every model's rows) of several models in out_dir."""
    tools.mkdir_p(out_dir)
    models = list(dict.fromkeys(r['model'] for r in rows))
    per_model = {m: signature_verdicts([r for r in rows if r['model'] == m]) for m in models}
    summary = seed_summary(rows)
    lines = ['# Maturation signatures across {} models'.format(len(models)), '',
             'Models: {}.'.format(', '.join('`{}`'.format(m) for m in models)), '',
             '| # | signature | ' + ' | '.join(models) + ' | reproduced |',
             '|---|---|' + '---|' * len(models) + '---|']
    for s in summary:
        if s['variant'] != '(signature)':
            continue
        n = s['signature']
        lines.append('| {} | {} | {} | {} of {} |'.format(
            n, s['name'], ' | '.join(per_model[m][n] for m in models), s['holds'],
            s['tested']))
    lines += ['', '## Every variant', '',
              '| # | variant | models holding / tested | not available | effect size '
              '(mean ± sd) |', '|---|---|---|---|---|']
    for s in summary:
        if s['variant'] == '(signature)':
            continue
        eff = '' if not math.isfinite(s['effect_mean']) else '{} {} ± {}'.format(
            s['effect_name'], _fmt(s['effect_mean']), _fmt(s['effect_sd']))
        lines.append('| {} | {} | {} / {} | {} | {} |'.format(
            s['signature'], _md_cell(s['variant']), s['holds'], s['tested'],
            s['not_available'], _md_cell(eff)))
    lines += ['', '## Per model', '']
    for m in models:
        lines.append('### {}'.format(m))
        lines.append('')
        lines.append('| # | variant | statistic | p | effect size | verdict |')
        lines.append('|---|---|---|---|---|---|')
        lines += [_table_line(r) for r in rows if r['model'] == m]
        lines.append('')
    md = os.path.join(out_dir, 'report.md')
    tools.save_text('\n'.join(lines) + '\n', md)
    return md, write_csv(rows, os.path.join(out_dir, 'signatures.csv'))


def report_dir(model_dir=None, root=None):
    """figure/report_<model> (or figure/report_seeds when model_dir is None)."""
    root = session.current().figure_root if root is None else root
    name = 'seeds' if model_dir is None else common.model_name(model_dir)
    return os.path.join(root, 'report_' + name)
