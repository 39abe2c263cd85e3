"""Behaviour of checkpoints: distractor resistance in ODRD and saccade-error distributions.

Both analyses run fresh trials through the network (input noise ON, drawn from
hp['rng']; recurrent noise sigma_rec of the model) and score the last time step as
network.get_perf does: the network fixates if its fixation output is > 0.5; its saccade
direction is the population vector of the ring outputs; the saccade error is the circular
distance (degrees, 0–180) between that direction and the target; a trial is correct if
the network does not fixate and the error is < 36° (= 0.2π, get_perf's criterion).

Speed: each checkpoint is restored once into one graph (activity.CheckpointRunner) and
all its trials run as a few large forward passes (the 64 cue/distractor batches of
odrd_distractor_analysis are concatenated along the batch axis). The next checkpoint's
trials are drawn in a background thread (prefetch.Prefetcher) while TensorFlow runs the
current one: the same draws from hp['rng'] in the same order, off the critical path.

Recurrent noise: chunk k of a checkpoint's trials gets the fixed stateless noise seed
[hp['seed'], −1000 − k], so different chunks see independent noise and every checkpoint
sees the same noise (checkpoints then differ only by their weights and input noise); the
runner draws it once and feeds it to every checkpoint (CheckpointRunner.noise_for).
"""

import types

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

import stages
import task
from analysis import activity, common, session
from analysis.blocks import block
from prefetch import Prefetcher
from network import get_perf, popvec

CORRECT_DEG = 36.0  # get_perf's 0.2π
HIST_BINS = 30      # 6° bins over 0–180°, so 36° is a bin edge
DEFAULT_CHUNK = 2048


def saccade_error_deg(y_hat_last, y_loc_last):
    """Saccade error (B,) in degrees [0, 180] and fixating (B,) bool.

    y_hat_last: (B, n_output) network output at the last step; y_loc_last: (B,) target
    angle (rad). Error = circular distance between the population-vector angle of the
    ring outputs and the target; fixating = fixation output > 0.5.
    """
    angle = popvec(y_hat_last[:, 1:])
    diff = np.abs(y_loc_last - angle)
    err = np.degrees(np.minimum(diff, 2 * np.pi - diff))
    return err, y_hat_last[:, 0] > 0.5


def _noise_seed(hp, k):
    return np.array([hp.get('seed', 0), -1000 - k], dtype=np.int64)


def _run_last_step(runner, hp, x, chunk_size):
    """Network output at the last step (B, n_output) for inputs x (T, B, n_input), run in
    chunks of at most chunk_size trials; chunk k gets the recurrent noise of seed
    _noise_seed(hp, k) (the runner keeps it for the next checkpoints)."""
    out = []
    for k, start in enumerate(range(0, x.shape[1], chunk_size)):
        trial = types.SimpleNamespace(x=x[:, start:start + chunk_size])
        out.append(runner.run_last_step(trial, noise_seed=_noise_seed(hp, k))[0])
    return np.concatenate(out, axis=0)


def _score(y_hat_last, y_loc_last):
    """(perf (B,), error deg (B,), fixating (B,)) of last-step outputs."""
    perf = get_perf(y_hat_last[None], y_loc_last[None]).astype(float)
    err, fix = saccade_error_deg(y_hat_last, y_loc_last)
    return perf, err, fix


def circular_steps(a, b, n):
    """Circular distance in ring steps between location indices a and b (0 … n//2)."""
    d = np.abs(np.asarray(a) - np.asarray(b))
    return np.minimum(d, n - d)


def distractor_trials(hp, batch_size=task.TEST_A_B_BATCH_SIZE):
    """All n × n 'test-a-b' ODRD batches (input noise on, from hp['rng']; a = cue
    index outer loop, b = distractor index inner loop), concatenated along the batch axis.

    Returns x (T, n·n·batch_size, n_input) and y_loc at the last step (n·n·batch_size,);
    trials of (a, b) are at [(a·n + b)·batch_size, (a·n + b + 1)·batch_size).
    """
    n = hp['n_eachring']
    xs, ys = [], []
    for a in range(n):
        for b in range(n):
            trial = task.generate_trials('odrd', hp, 'test-a-b', a=a, b=b,
                                         batch_size=batch_size)
            xs.append(trial.x)
            ys.append(trial.y_loc[-1])
    return np.concatenate(xs, axis=1), np.concatenate(ys)


def _sem(values):
    values = np.asarray(values, dtype=float)
    if values.shape[0] < 2:
        return np.full(values.shape[1:], np.nan)
    return values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])


def _hist(ax, errors, fixating, color, title):
    """Saccade-error histogram: trials that saccaded, stacked with trials that kept
    fixating (their 'error' is the direction of the weak ring output; get_perf scores
    them wrong)."""
    errors = np.asarray(errors)
    fixating = np.asarray(fixating, dtype=bool)
    if errors.size:
        ax.hist([errors[~fixating], errors[fixating]], bins=HIST_BINS, range=(0, 180),
                stacked=True, color=[color, 'lightgrey'], alpha=0.8,
                label=['saccade', 'kept fixating'])
        correct = np.mean((errors < CORRECT_DEG) & ~fixating)
        ax.set_title('{}: {} trials, {:.0%} correct'.format(title, errors.size, correct))
        ax.legend(fontsize=8)
    else:
        ax.set_title('{}: no checkpoint'.format(title))
    ax.axvline(CORRECT_DEG, color='k', ls='--', lw=0.8)
    ax.set_xlim(0, 180)
    ax.set_xlabel('saccade error (deg)')


@block(kind='behaviour')
def odrd_distractor_analysis(hp, log, model_dir, trial_list, batch_size=128,
                             chunk_size=DEFAULT_CHUNK, sigma_rec=None, plot=True,
                             verbose=True):
    """ODRD performance as a function of the cue–distractor distance, by stage.

    For every checkpoint, one 'test-a-b' batch of batch_size trials for each cue a and
    distractor b (n × n = 64 batches; input noise on, drawn from hp['rng'] in that order).
    Performance of a distance d = |a − b| (circular, 0 … n/2 steps of 360/n degrees) is
    the mean over its (a, b) pairs of the pair's mean performance. Stages from
    stages.stage_of (rule 'odrd'). sigma_rec overrides the recurrent noise (None = the
    model's).

    Figures (figure/figure_<model>/odrd/distractor/): performance vs distance per stage
    (mean ± s.e.m. over the stage's checkpoints), and per distance the saccade-error
    histograms of each stage.

    Returns a dict:
        'perf'        DataFrame (checkpoints × distances 0 … n/2 steps), index 'trial'
        'stage'       Series trial → stage
        'stage_mean'  DataFrame (stages present × distances): mean over checkpoints
        'stage_sem'   same shape: s.e.m. over checkpoints (NaN for one checkpoint)
        'pair_perf'   (n_checkpoints, n, n) mean performance of each (a, b)
        'distance_deg' (n/2 + 1,) distances in degrees
        'errors', 'fixating'  {stage: {distance: (n_trials,) error deg / bool}}
        'figures'     list of written files
    """
    common.check_rule(hp, 'odrd')
    trials = common.checked_trials(log, trial_list, 'odrd')
    if not trials:
        raise common.DataUnavailable('trial_list selects no checkpoint for odrd')
    n = hp['n_eachring']
    n_dist = n // 2 + 1
    a_idx, b_idx = np.divmod(np.arange(n * n), n)
    dist_of_pair = circular_steps(a_idx, b_idx, n)               # (n·n,)
    dist_of_trial = np.repeat(dist_of_pair, batch_size)
    stage_of_trial = {t: stages.stage_of(hp, log, t, 'odrd', trial_list) for t in trials}

    pair_perf = np.empty((len(trials), n, n))
    errors = {s: {d: [] for d in range(n_dist)} for s in stages.STAGES}
    fixating = {s: {d: [] for d in range(n_dist)} for s in stages.STAGES}
    inputs = (distractor_trials(hp, batch_size) for _ in trials)   # drawn one ahead
    with activity.CheckpointRunner(model_dir, hp, sigma_rec=sigma_rec) as runner, \
            Prefetcher(inputs, depth=1) as inputs:
        for i, t in enumerate(tqdm(trials, desc='odrd distractor', unit='ckpt',
                                   disable=not verbose)):
            runner.restore(t)
            x, y_loc = next(inputs)
            perf, err, fix = _score(_run_last_step(runner, hp, x, chunk_size), y_loc)
            pair_perf[i] = perf.reshape(n, n, batch_size).mean(axis=2)
            for d in range(n_dist):
                sel = dist_of_trial == d
                errors[stage_of_trial[t]][d].append(err[sel])
                fixating[stage_of_trial[t]][d].append(fix[sel])
    errors = {s: {d: np.concatenate(v) if v else np.zeros(0) for d, v in e.items()}
              for s, e in errors.items()}
    fixating = {s: {d: np.concatenate(v) if v else np.zeros(0, bool) for d, v in e.items()}
                for s, e in fixating.items()}

    flat = pair_perf.reshape(len(trials), n * n)
    by_dist = np.stack([flat[:, dist_of_pair == d].mean(axis=1) for d in range(n_dist)],
                       axis=1)
    perf_df = pd.DataFrame(by_dist, index=pd.Index(trials, name='trial'),
                           columns=pd.Index(range(n_dist), name='distance'))
    stage_s = pd.Series(stage_of_trial, name='stage').rename_axis('trial')
    present = [s for s in stages.STAGES if (stage_s == s).any()]
    mean = pd.DataFrame([perf_df[stage_s == s].mean(axis=0) for s in present],
                        index=pd.Index(present, name='stage'))
    sem = pd.DataFrame([_sem(perf_df[stage_s == s].values) for s in present],
                       index=pd.Index(present, name='stage'), columns=perf_df.columns)
    res = {'perf': perf_df, 'stage': stage_s, 'stage_mean': mean, 'stage_sem': sem,
           'pair_perf': pair_perf, 'distance_deg': np.arange(n_dist) * 360.0 / n,
           'errors': errors, 'fixating': fixating, 'figures': []}
    if plot:
        res['figures'] = _plot_distractor(hp, log, model_dir, res)
        # The numbers behind the curves, for statistics elsewhere.
        path = session.figure_path(model_dir, 'odrd', 'distractor', 'odrd_distractor_perf')
        perf_df.assign(stage=stage_s.values).to_csv(path + '.csv')
        mean.to_csv(path + '_stage_mean.csv')
        res['csv'] = [path + '.csv', path + '_stage_mean.csv']
    if verbose:
        print('odrd_distractor_analysis: {} checkpoint(s) × {} cue/distractor pairs × {} '
              'trials; {}'.format(len(trials), n * n, batch_size, '; '.join(
                  '{} perf {}'.format(s, ' '.join('{:.2f}'.format(v) for v in mean.loc[s]))
                  for s in present)))
    return res


def _plot_distractor(hp, log, model_dir, res):
    import matplotlib.pyplot as plt
    deg = res['distance_deg']
    files = []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for s in res['stage_mean'].index:
        members = res['stage'].index[res['stage'] == s].tolist()
        label = '{} ({} ckpt)'.format(common.stage_label(hp, log, members, 'odrd', s),
                                      len(members))
        ax.errorbar(deg, res['stage_mean'].loc[s].values, yerr=res['stage_sem'].loc[s].values,
                    color=stages.STAGE_COLORS[s], marker='o', capsize=3, label=label)
    ax.set_xticks(deg)
    ax.set_xlabel('cue–distractor distance (deg)')
    ax.set_ylabel('performance')
    ax.set_ylim(-0.02, 1.02)
    ax.set_title('ODRD: performance by distractor distance (mean ± s.e.m.)')
    ax.legend(fontsize=8)
    files += common.save_figure(fig, session.figure_path(
        model_dir, 'odrd', 'distractor', 'odrd_distractor_analysis_by_growth'))
    for d, dd in enumerate(deg):
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), sharex=True)
        for ax, s in zip(axes, stages.STAGES):
            _hist(ax, res['errors'][s][d], res['fixating'][s][d], stages.STAGE_COLORS[s], s)
        axes[0].set_ylabel('trials')
        fig.suptitle('ODRD saccade error, cue–distractor distance {:g} deg'.format(dd))
        files += common.save_figure(fig, session.figure_path(
            model_dir, 'odrd', 'distractor', 'saccade_distribut_analysis_by_growth_dis_{}'
            .format(d)))
    return files


@block(kind='behaviour')
def saccade_distribut_analysis(hp, log, rule, model_dir, trial_list, n_batches=8,
                               chunk_size=DEFAULT_CHUNK, sigma_rec=None, plot=True,
                               verbose=True):
    """Saccade-error distributions of a rule by stage (anti-saccade rules: error from
    the anti-saccade target).

    Per checkpoint, n_batches 'test' batches (128 trials each, input noise on, from
    hp['rng']) run as one forward pass; the error (deg) is measured from the response
    target y_loc (for anti-saccade rules the point opposite the cue). Histograms per
    stage into figure/figure_<model>/<rule>/saccade_distribut_analysis_by_growth.

    Returns {'errors': {stage: (n,) deg}, 'fixating': {stage: (n,) bool},
    'per_checkpoint': DataFrame (index trial; stage, perf, median_error_deg,
    frac_within_36deg), 'figures': [...]}.
    """
    common.check_rule(hp, rule)
    trials = common.checked_trials(log, trial_list, rule)
    if not trials:
        raise common.DataUnavailable('trial_list selects no checkpoint for {}'.format(rule))
    stage_of_trial = {t: stages.stage_of(hp, log, t, rule, trial_list) for t in trials}
    errors = {s: [] for s in stages.STAGES}
    fixating = {s: [] for s in stages.STAGES}
    rows = []
    inputs = ([task.generate_trials(rule, hp, 'test') for _ in range(n_batches)]
              for _ in trials)                                        # drawn one ahead
    with activity.CheckpointRunner(model_dir, hp, sigma_rec=sigma_rec) as runner, \
            Prefetcher(inputs, depth=1) as inputs:
        for t in tqdm(trials, desc='saccades ' + rule, unit='ckpt', disable=not verbose):
            runner.restore(t)
            batches = next(inputs)
            y_loc = np.concatenate([b.y_loc[-1] for b in batches])
            if np.any(y_loc < 0):
                raise ValueError('Rule {!r} asks for no saccade at the end of its trials '
                                 '(y_loc < 0); choose a saccade rule'.format(rule))
            x = np.concatenate([b.x for b in batches], axis=1)
            perf, err, fix = _score(_run_last_step(runner, hp, x, chunk_size), y_loc)
            stage = stage_of_trial[t]
            errors[stage].append(err)
            fixating[stage].append(fix)
            rows.append({'trial': t, 'stage': stage, 'perf': perf.mean(),
                         'median_error_deg': np.median(err),
                         'frac_within_36deg': np.mean(err < CORRECT_DEG)})
    errors = {s: np.concatenate(v) if v else np.zeros(0) for s, v in errors.items()}
    fixating = {s: np.concatenate(v) if v else np.zeros(0, bool)
                for s, v in fixating.items()}
    table = pd.DataFrame(rows).set_index('trial')
    res = {'errors': errors, 'fixating': fixating, 'per_checkpoint': table, 'figures': []}
    if plot:
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), sharex=True)
        for ax, s in zip(axes, stages.STAGES):
            _hist(ax, errors[s], fixating[s], stages.STAGE_COLORS[s], s)
        axes[0].set_ylabel('trials')
        fig.suptitle('{}: saccade error from the target, by stage'.format(rule))
        path = session.figure_path(model_dir, rule, 'saccade_distribut_analysis_by_growth')
        res['figures'] = common.save_figure(fig, path)
        table.to_csv(path + '.csv')
        res['csv'] = path + '.csv'
    if verbose:
        print('saccade_distribut_analysis {}: {} checkpoint(s) × {} trials; median error '
              '{}'.format(rule, len(trials), n_batches * task.TEST_TRIALS_PER_LOC
                          * hp['n_eachring'], ', '.join(
                              '{} {:.0f} deg'.format(s, np.median(errors[s]))
                              for s in stages.STAGES if errors[s].size)))
    return res
