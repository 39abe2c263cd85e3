"""Do units keep their preferred location between two (rule, epoch) selections?"""

import numpy as np
import pandas as pd

import stages
import tools
from analysis import common, session
from analysis.blocks import block
from analysis.common import (N_TYPES, check_n_types, checked_trials, epoch_bounds, pyplot,
                             selected_units, type_tag)
from analysis.activity import rule_task_info
from analysis.neuron_info import ensure_neuron_info


def _stage_column(hp, log, trial_list, rule, trials):
    """Stage of each trial for ``rule`` ('' if a stage dict does not place it)."""
    if stages.is_stage_dict(trial_list):
        groups = stages.group_by_stage(hp, log, trial_list, rule)
        where = {t: s for s, ts in groups.items() for t in ts}
        return [where.get(t, '') for t in trials]
    return [stages.stage_of(hp, log, t, rule) for t in trials]


def _seldir_needs(need, a):
    both = (a.rule1, a.rule2)          # a stage dict gives the checkpoints of both rules
    need.neuron_info(a.model_dir, a.rule1, a.epoch1, a.trial_list, trials_of=both)
    need.neuron_info(a.model_dir, a.rule2, a.epoch2, a.trial_list, trials_of=both)

@block(needs=_seldir_needs)
def seldir_analysis(model_dir, rule1, epoch1, rule2, epoch2, trial_list, n_types=N_TYPES,
                    verbose=True):
    """Per checkpoint: the units of ``n_types`` selective in both (rule1, epoch1) and
    (rule2, epoch2), and how many of them keep ('samedir') or change ('diffdir') their
    preferred location. neuron_info generated where missing; hp and log are read from
    model_dir (the original's call form takes neither).

    trial_list: list / range, or a stage dict (the checkpoints of rule1 and rule2 joined).
    Writes a plot (counts against trials trained, points coloured by the stage of rule1)
    and a CSV table <rule1>_<epoch1>_<rule2>_<epoch2>_<types>_seldir_analysis.csv in
    figure/figure_<model>/<rule1>/<epoch1>/.
    Returns {'table': pandas.DataFrame indexed by trial with columns n_<rule1>_<epoch1>,
    n_<rule2>_<epoch2>, inter, samedir, diffdir, perf_<rule>, stage_<rule>;
    'figures': [png, pdf], 'csv': path}.
    """
    hp, log = tools.load_hp(model_dir), tools.load_log(model_dir)
    what = 'seldir_analysis'
    n_types = check_n_types(n_types)
    for rule, epoch in ((rule1, epoch1), (rule2, epoch2)):
        info = rule_task_info(hp, model_dir, rule)
        epoch_bounds(info['epoch_info'], epoch, rule=rule)
    trials = checked_trials(log, trial_list, (rule1, rule2))
    result = {'table': None, 'figures': [], 'csv': None}
    if not trials:
        common.note('{}: empty trial list'.format(what))
        return result
    for rule, epoch in ((rule1, epoch1), (rule2, epoch2)):
        ensure_neuron_info(hp, model_dir, rule, epoch, trials, verbose=verbose)

    key1, key2 = 'n_{}_{}'.format(rule1, epoch1), 'n_{}_{}'.format(rule2, epoch2)
    if key1 == key2:
        key2 += '_2'
    rows = {key1: [], key2: [], 'inter': [], 'samedir': [], 'diffdir': []}
    for t in trials:
        u1, p1 = selected_units(common.load_neuron_info(model_dir, t, rule1, epoch1), n_types)
        u2, p2 = selected_units(common.load_neuron_info(model_dir, t, rule2, epoch2), n_types)
        common_units, i1, i2 = np.intersect1d(u1, u2, return_indices=True)
        same = int(np.sum(p1[i1] == p2[i2]))
        rows[key1].append(u1.size)
        rows[key2].append(u2.size)
        rows['inter'].append(common_units.size)
        rows['samedir'].append(same)
        rows['diffdir'].append(common_units.size - same)
    table = pd.DataFrame(rows, index=pd.Index(trials, name='trial'))
    for rule in dict.fromkeys((rule1, rule2)):
        table['perf_' + rule] = [stages.perf_at(log, rule, t) for t in trials]
        table['stage_' + rule] = _stage_column(hp, log, trial_list, rule, trials)
    result['table'] = table
    if table['inter'].sum() == 0:
        common.note('{}: no unit is selective in both {} {} and {} {} at any checkpoint'
                    .format(what, rule1, epoch1, rule2, epoch2))

    name = '{}_{}_{}_{}_{}_seldir_analysis'.format(rule1, epoch1, rule2, epoch2,
                                                   type_tag(n_types))
    path = session.figure_path(model_dir, rule1, epoch1, name)
    table.to_csv(path + '.csv')
    result['csv'] = path + '.csv'

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.plot(trials, table['inter'], color='black', label='selective in both')
    ax.plot(trials, table['samedir'], color='tab:purple', label='same preferred location')
    ax.plot(trials, table['diffdir'], color='tab:orange', label='different preferred location')
    stage1 = table['stage_' + rule1].tolist()
    for stage in stages.STAGES:
        sel = [i for i, s in enumerate(stage1) if s == stage]
        if sel:
            ax.scatter(np.asarray(trials)[sel], table['inter'].to_numpy()[sel], s=18,
                       color=stages.STAGE_COLORS[stage], zorder=3,
                       label='{} ({})'.format(stage, rule1))
    ax.set_xlabel('trials trained')
    ax.set_ylabel('number of units')
    ax.set_title('{} {} vs {} {} ({})'.format(rule1, epoch1, rule2, epoch2, type_tag(n_types)))
    ax.legend(fontsize=8)
    result['figures'] = common.save_figure(fig, path)
    return result
