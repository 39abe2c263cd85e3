"""Reproduce the paper's figures from a trained model.

    python Main_analysis.py                          # data/6tasks
    python Main_analysis.py --model-dir data/6tasks_paper

Like the original script, the analysis is a list of blocks: enable or disable a figure by
(un)commenting its line in main(); each line has the original's call form. Checkpoints are
grouped into early / mid / mature stages from the model's own training log
(print_basic_info(auto_range_select=True); stages.py says how); the checkpoint ranges of
the published model are kept below as commented examples. Checkpoints that log.json lists
but whose folder is missing are named in one warning and left out.
Each block runs through ``run(...)`` (analysis.runner.BlockRunner): a block whose data the
model does not hold (common.DataUnavailable: a rule it was not trained on, a stage without
checkpoints, a missing pickle) prints one [skipped] line and the run goes on; any other
error is a bug and stops the run with its traceback. The dPCA and decoding blocks are
queued with ``shared(...)`` instead (the same call form): with two cores or more each is
run by whichever of the script's two processes is free first. Figures go to
figure/figure_<model folder>/.
"""

import argparse
import os
import sys
import time

import numpy as np

import stages
import tools
from analysis import common
from analysis.runner import (BlockQueue, BlockRunner, ParallelBlocks, count_new_figures,
                             log_on_disk)

DEFAULT_MODEL_DIR = os.path.join('data', '6tasks')
MODELS_ROOT = 'data'

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model-dir', '--modeldir', dest='model_dir',
                        default=DEFAULT_MODEL_DIR,
                        help='trained model folder (default: %(default)s)')
    parser.add_argument('--recompute', action='store_true',
                        help='recompute H and neuron_info pickles that already exist')
    parser.add_argument('--behaviour-checkpoints', type=tools.positive_int, default=5,
                        help='checkpoints per stage in the distractor and saccade-error '
                             'analyses (default: %(default)s)')
    parser.add_argument('--serial', action='store_true',
                        help='run every block in this process, one after the other (by '
                             'default the behaviour blocks run in a second process beside '
                             'the others, and the decoding and dPCA blocks in whichever of '
                             'the two is free first)')
    parser.add_argument('--sample-neurons', type=tools.positive_int, default=3,
                        help='units drawn per checkpoint by sample_neuron_by_trial '
                             '(default: %(default)s)')
    args = parser.parse_args(argv)
    if not tools.is_valid_model_dir(args.model_dir):
        found = tools.valid_model_dirs(MODELS_ROOT)
        parent = os.path.dirname(os.path.normpath(args.model_dir))
        if parent and os.path.normpath(parent) != os.path.normpath(MODELS_ROOT):
            found += tools.valid_model_dirs(parent)
        parser.error('{!r} is not a trained model folder (it needs hp.json and log.json). '
                     'Models found: {}. Train one with `python Main_training.py` or pass '
                     '--model-dir.'.format(args.model_dir, ', '.join(found) or 'none'))
    return args


def main(argv=None):
    import matplotlib
    matplotlib.use('Agg')          # figures are only written to files
    args = parse_args(argv)
    start = time.time()
    model_dir = args.model_dir
    hp = tools.load_hp(model_dir)
    log = tools.load_log(model_dir)
    run = BlockRunner()
    log = log_on_disk(model_dir, log)      # one warning names checkpoints missing on disk
    # Figures are rendered by a worker process while the blocks compute (analysis/figsave.py);
    # every file is written when the with-block ends.
    from analysis import figsave
    with figsave.in_background():
        run_blocks(args, hp, log, model_dir, run)

    n_fig, root = count_new_figures(model_dir, start)
    elapsed = time.time() - start
    print('\nMain_analysis: ' + run.summary(n_fig, root, elapsed))
    return {'figures': n_fig, 'skipped': run.skipped, 'reasons': run.reasons,
            'seconds': elapsed, 'block_seconds': dict(run.seconds)}


def run_blocks(args, hp, log, model_dir, run):
    """The analysis blocks, in the order of the paper's figures: each runs through
    ``run(...)`` (BlockRunner) or, for dPCA and decoding, ``shared(...)`` (BlockQueue);
    uncomment a line to add its block."""
    # The analyses import TensorFlow (seconds of start-up): only now, so that --help, bad
    # arguments and unreadable model files are answered at once.
    from analysis.activity import compute_H  # noqa: F401  (the commented lines)
    from analysis.cache import plan_entry, prepare_activity
    from analysis.basic import print_basic_info
    from analysis.neuron_info import generate_neuron_info
    from analysis.pca import neuron_PCA
    from analysis.psth import (gen_PSTH_log, neuron_period_activity_analysis,
                               plot_epoch_mean_growth, plot_period_ttest_heatmap, plot_PSTH,
                               sample_neuron_by_trial)
    from analysis.seldir import seldir_analysis
    from analysis.tuning import tunning_analysis

    from analysis.decoding import Decoder_analysis, realneuron_Decoder_analysis  # noqa: F401
    from analysis.dpca_analysis import neuron_dPCA, real_neuron_dPCA  # noqa: F401
    from analysis.monkey import real_neuron_PCA  # noqa: F401
    recompute = args.recompute

    wm = [r for r in common.WM_RULES if r in hp['rule_trains']]
    anti = [r for r in common.ANTI_RULES if r in hp['rule_trains']]
    missing = [r for r in common.WM_RULES + common.ANTI_RULES if r not in hp['rule_trains']]
    if missing:
        common.note('this model was not trained on {}: their blocks will be skipped'.format(
            ', '.join(missing)))

    # ---------------------------------------------------------------- checkpoints -------
    # Fig S7 and the stage of every checkpoint, from this model's log:
    # {rule: {'early': [...], 'mid': [...], 'mature': [...]}}.
    selection = run(print_basic_info, hp, log, model_dir, smooth_growth=True,
                    smooth_window=5, auto_range_select=True, avr_window=9,
                    perf_margin=0.05, max_trial_num_limit=30)
    # A stage the selection left empty for a rule (a model still learning it, a short
    # demo run) gets the checkpoints whose own performance is in it: one line per rule
    # says so (the same rule as the notebook's and the report's).
    trial_selected = common.stages_with_fallback(hp, log, selection or {}, limit=30)
    trial_list_odr_odrd = common.sub_stages(trial_selected, wm)
    trial_list_antisacc = common.sub_stages(trial_selected, anti)
    trial_list_sample = common.last_of_each_stage(trial_selected)
    # Every checkpoint of the log (for the commented "over all checkpoints" lines):
    # trial_list_all = log['trials']
    # Ranges of the published model (data/6tasks_paper), as in the original script:
    # trial_list_odr_odrd = range(520960, log['trials'][-1] + 1, 1280)
    # trial_list_antisacc = range(0, 102400 + 1, 1280)
    # trial_list_all = range(log['trials'][0], log['trials'][-1] + 1, 1280)
    # trial_list_sample = [616960, 628480]

    # ---------------------------------------------------------------- H, neuron info ----
    # One pass over the checkpoints (analysis.cache): each one is restored once, all its
    # rules run in one session call, and from H the neuron_info pickles are written and
    # the PSTH rows, location means and decoding H the blocks below read are kept in
    # memory. H pickles are not written (~10–25 MB per rule and checkpoint for 256 units);
    # existing ones are read. To write them, as the original's commented lines did:
    # run(compute_H, hp, log, model_dir, rules=wm, trial_list=trial_list_odr_odrd,
    #     recompute=recompute)
    # run(compute_H, hp, log, model_dir, rules=anti, trial_list=trial_list_antisacc,
    #     recompute=recompute)
    # One network per stage for decoding and dPCA (Fig S5E, 5E): the checkpoint whose
    # performance is closest to the stage's target.
    decode_at = {rule: [common.representative_checkpoint(hp, log, trial_list_odr_odrd,
                                                         rule, s) for s in stages.STAGES]
                 for rule in wm}

    # ---------------------------------------------------------------- dPCA, Fig 5E ---
    # One network per stage (decode_at above; the published model: 616960 for mature
    # ODR). The dPCA and decoding blocks read the model folder only: they are queued here
    # with run's call form, shared(...), and each runs in whichever of the two processes
    # (below) is free first, after its own blocks — so that both end together on any
    # machine. (With --serial they run last, in this order.)
    shared = BlockQueue()
    for trial_num in decode_at.get('odr', []):
        if trial_num is not None:
            shared(neuron_dPCA, hp, log, model_dir, trial_num=trial_num, rule='odr',
                   task_mode='test')
    # shared(neuron_dPCA, hp, log, model_dir, trial_num=616960, rule='odr',
    #        task_mode='test', invert_tcomp_y=True)

    # ---------------------------------------------------------------- Fig S5E ---------
    # Cross-temporal decoding, one network per stage.
    decoding_blocks(shared, hp, model_dir, decode_at, ['odr', 'odrd'])
    # shared(Decoder_analysis, hp, model_dir, trial_num=616960, window_size=10, test_num=2)

    # The behaviour blocks (parallel_blocks below) need nothing the blocks of this
    # function compute and draw their trials from hp['rng'], which nothing here draws
    # from: on 2 cores they run in a second process meanwhile, and their output follows
    # (analysis.runner.ParallelBlocks).
    tail = (args, hp, log, model_dir, trial_list_odr_odrd, trial_list_antisacc)
    serial = args.serial or (os.cpu_count() or 1) < 2
    other = None if serial else ParallelBlocks(parallel_blocks, *tail, shared=shared.blocks)
    rng_start = hp['rng'].get_state()
    # seldir_analysis compares two rules of a family at the checkpoints of both: each
    # rule's neuron_info is made at its family's checkpoints in this one pass (instead of
    # a pass of its own per seldir block).
    family_trials = {}
    for family, trial_list in ((wm, trial_list_odr_odrd), (anti, trial_list_antisacc)):
        union = sorted({t for r in family for t in stages.expand_trial_list(trial_list, r)})
        family_trials.update({r: union for r in family})
    plan = {}
    for rule in wm + anti:
        trial_list = trial_list_odr_odrd if rule in wm else trial_list_antisacc
        epochs = (['stim1', 'delay1'] + (['delay2'] if rule == 'odrd' else [])
                  if rule in wm else ['stim1'])
        plan[rule] = plan_entry(
            family_trials[rule], epochs=epochs,
            psth=[(e, oppo) for e in epochs for oppo in ((False, True) if rule == 'odrd'
                                                         else (False,))],
            means=stages.expand_trial_list(trial_list_sample, rule),   # sample units, PCA
            # H kept for the shared dPCA and decoding blocks this process takes
            H=[t for t in decode_at.get(rule, []) if t is not None])
    run(prepare_activity, hp, model_dir, plan, recompute=recompute)
    run(generate_neuron_info, hp, model_dir, ['stim1', 'delay1'], trial_list_odr_odrd, wm,
        recompute=False)
    run(generate_neuron_info, hp, model_dir, ['delay2'], trial_list_odr_odrd, ['odrd'],
        recompute=False)
    run(generate_neuron_info, hp, model_dir, ['stim1'], trial_list_antisacc, anti,
        recompute=False)

    # One PSTH log per (rule, selective epoch), shared by the PSTH, growth, ANOVA and
    # t-test blocks below (each would otherwise rebuild it from the pickles).
    psth_logs = {}

    def psth(rule, epoch, trial_list):
        if (rule, epoch) not in psth_logs:
            psth_logs[rule, epoch] = run(gen_PSTH_log, hp, trial_list, model_dir, rule, epoch,
                                         log=log)
        return psth_logs[rule, epoch]

    # ---------------------------------------------------------------- Fig S3B tuning ----
    run(tunning_analysis, hp, log, model_dir, 'odr', 'stim1', trial_list_odr_odrd)
    run(tunning_analysis, hp, log, model_dir, 'odr', 'delay1', trial_list_odr_odrd)
    run(tunning_analysis, hp, log, model_dir, 'odrd', 'stim1', trial_list_odr_odrd)
    run(tunning_analysis, hp, log, model_dir, 'odrd', 'delay1', trial_list_odr_odrd)
    run(tunning_analysis, hp, log, model_dir, 'odrd', 'delay2', trial_list_odr_odrd)
    run(tunning_analysis, hp, log, model_dir, 'overlap', 'stim1', trial_list_antisacc)
    run(tunning_analysis, hp, log, model_dir, 'zero_gap', 'stim1', trial_list_antisacc)
    run(tunning_analysis, hp, log, model_dir, 'gap', 'stim1', trial_list_antisacc)
    run(tunning_analysis, hp, log, model_dir, 'gap500', 'stim1', trial_list_antisacc)

    # ---------------------------------------------------------------- Fig 4E–G PSTH -----
    run(plot_PSTH, hp, log, model_dir, 'odr', 'stim1', trial_list_odr_odrd, plot_oppo_dir=False,
        PSTH_log=psth('odr', 'stim1', trial_list_odr_odrd))
    run(plot_PSTH, hp, log, model_dir, 'odr', 'delay1', trial_list_odr_odrd, plot_oppo_dir=False,
        PSTH_log=psth('odr', 'delay1', trial_list_odr_odrd))
    run(plot_PSTH, hp, log, model_dir, 'odrd', 'stim1', trial_list_odr_odrd, plot_oppo_dir=True,
        PSTH_log=psth('odrd', 'stim1', trial_list_odr_odrd))
    run(plot_PSTH, hp, log, model_dir, 'odrd', 'delay1', trial_list_odr_odrd, plot_oppo_dir=True,
        PSTH_log=psth('odrd', 'delay1', trial_list_odr_odrd))
    run(plot_PSTH, hp, log, model_dir, 'odrd', 'delay2', trial_list_odr_odrd, plot_oppo_dir=True,
        PSTH_log=psth('odrd', 'delay2', trial_list_odr_odrd))
    run(plot_PSTH, hp, log, model_dir, 'overlap', 'stim1', trial_list_antisacc,
        PSTH_log=psth('overlap', 'stim1', trial_list_antisacc))
    run(plot_PSTH, hp, log, model_dir, 'zero_gap', 'stim1', trial_list_antisacc,
        PSTH_log=psth('zero_gap', 'stim1', trial_list_antisacc))
    run(plot_PSTH, hp, log, model_dir, 'gap', 'stim1', trial_list_antisacc,
        PSTH_log=psth('gap', 'stim1', trial_list_antisacc))
    run(plot_PSTH, hp, log, model_dir, 'gap500', 'stim1', trial_list_antisacc,
        PSTH_log=psth('gap500', 'stim1', trial_list_antisacc))

    # ---------------------------------------------------------------- Fig S2B growth ----
    run(plot_epoch_mean_growth, hp, log, trial_list_odr_odrd, model_dir,
        'odr', 'stim1', 'stim1', PSTH_log=psth('odr', 'stim1', trial_list_odr_odrd))
    run(plot_epoch_mean_growth, hp, log, trial_list_odr_odrd, model_dir,
        'odr', 'stim1', 'delay1', PSTH_log=psth('odr', 'stim1', trial_list_odr_odrd))
    run(plot_epoch_mean_growth, hp, log, trial_list_odr_odrd, model_dir,
        'odr', 'delay1', 'delay1', PSTH_log=psth('odr', 'delay1', trial_list_odr_odrd))
    run(plot_epoch_mean_growth, hp, log, trial_list_odr_odrd, model_dir,
        'odrd', 'stim1', 'stim1', PSTH_log=psth('odrd', 'stim1', trial_list_odr_odrd))
    run(plot_epoch_mean_growth, hp, log, trial_list_odr_odrd, model_dir,
        'odrd', 'stim1', 'delay2', PSTH_log=psth('odrd', 'stim1', trial_list_odr_odrd))
    run(plot_epoch_mean_growth, hp, log, trial_list_odr_odrd, model_dir,
        'odrd', 'delay1', 'delay1', PSTH_log=psth('odrd', 'delay1', trial_list_odr_odrd))
    run(plot_epoch_mean_growth, hp, log, trial_list_odr_odrd, model_dir,
        'odrd', 'delay2', 'delay2', PSTH_log=psth('odrd', 'delay2', trial_list_odr_odrd))
    run(plot_epoch_mean_growth, hp, log, trial_list_antisacc, model_dir,
        'overlap', 'stim1', 'stim1', PSTH_log=psth('overlap', 'stim1', trial_list_antisacc))
    run(plot_epoch_mean_growth, hp, log, trial_list_antisacc, model_dir,
        'zero_gap', 'stim1', 'stim1', PSTH_log=psth('zero_gap', 'stim1', trial_list_antisacc))
    run(plot_epoch_mean_growth, hp, log, trial_list_antisacc, model_dir,
        'gap', 'stim1', 'stim1', PSTH_log=psth('gap', 'stim1', trial_list_antisacc))
    run(plot_epoch_mean_growth, hp, log, trial_list_antisacc, model_dir,
        'gap500', 'stim1', 'stim1', PSTH_log=psth('gap500', 'stim1', trial_list_antisacc))
    # Over every checkpoint of the training run (computes H for all of them):
    # PSTH_log = run(gen_PSTH_log, hp, trial_list_all, model_dir, 'odr', 'stim1', log=log)
    # run(plot_epoch_mean_growth, hp, log, trial_list_all, model_dir,
    #     'odr', 'stim1', 'delay1', PSTH_log=PSTH_log)

    # ---------------------------------------------------------------- stage ANOVA -------
    # Analysed period: an epoch name or (start, end) in ms (cue onset → +250 ms below).
    run(neuron_period_activity_analysis, hp, log, trial_list_odr_odrd, model_dir,
        'odr', 'stim1', 'stim1', PSTH_log=psth('odr', 'stim1', trial_list_odr_odrd))
    run(neuron_period_activity_analysis, hp, log, trial_list_odr_odrd, model_dir,
        'odr', 'delay1', 'delay1', PSTH_log=psth('odr', 'delay1', trial_list_odr_odrd))
    run(neuron_period_activity_analysis, hp, log, trial_list_odr_odrd, model_dir,
        'odrd', 'stim1', 'stim1', PSTH_log=psth('odrd', 'stim1', trial_list_odr_odrd))
    run(neuron_period_activity_analysis, hp, log, trial_list_odr_odrd, model_dir,
        'odrd', 'delay1', 'delay1', PSTH_log=psth('odrd', 'delay1', trial_list_odr_odrd))
    run(neuron_period_activity_analysis, hp, log, trial_list_odr_odrd, model_dir,
        'odrd', 'delay2', 'delay2', PSTH_log=psth('odrd', 'delay2', trial_list_odr_odrd))
    run(neuron_period_activity_analysis, hp, log, trial_list_antisacc, model_dir,
        'overlap', 'stim1', (1000, 1250),
        PSTH_log=psth('overlap', 'stim1', trial_list_antisacc))
    run(neuron_period_activity_analysis, hp, log, trial_list_antisacc, model_dir,
        'zero_gap', 'stim1', (1000, 1250),
        PSTH_log=psth('zero_gap', 'stim1', trial_list_antisacc))
    run(neuron_period_activity_analysis, hp, log, trial_list_antisacc, model_dir,
        'gap', 'stim1', (1100, 1350),
        PSTH_log=psth('gap', 'stim1', trial_list_antisacc))
    run(neuron_period_activity_analysis, hp, log, trial_list_antisacc, model_dir,
        'gap500', 'stim1', (1500, 1750),
        PSTH_log=psth('gap500', 'stim1', trial_list_antisacc))
    # All checkpoints of each stage instead of the last one:
    # run(neuron_period_activity_analysis, hp, log, trial_list_odr_odrd, model_dir,
    #     'odrd', 'delay2', 'delay2', last_step=False)

    # ---------------------------------------------------------------- t-test heatmaps ---
    run(plot_period_ttest_heatmap, hp, log, trial_list_odr_odrd, model_dir,
        'odr', 'stim1', 'stim1', PSTH_log=psth('odr', 'stim1', trial_list_odr_odrd))
    run(plot_period_ttest_heatmap, hp, log, trial_list_odr_odrd, model_dir,
        'odr', 'delay1', 'delay1', PSTH_log=psth('odr', 'delay1', trial_list_odr_odrd))
    run(plot_period_ttest_heatmap, hp, log, trial_list_odr_odrd, model_dir,
        'odrd', 'stim1', 'stim1', PSTH_log=psth('odrd', 'stim1', trial_list_odr_odrd))
    run(plot_period_ttest_heatmap, hp, log, trial_list_odr_odrd, model_dir,
        'odrd', 'delay1', 'delay1', PSTH_log=psth('odrd', 'delay1', trial_list_odr_odrd))
    run(plot_period_ttest_heatmap, hp, log, trial_list_odr_odrd, model_dir,
        'odrd', 'delay2', 'delay2', PSTH_log=psth('odrd', 'delay2', trial_list_odr_odrd))
    run(plot_period_ttest_heatmap, hp, log, trial_list_antisacc, model_dir,
        'overlap', 'stim1', 'stim1', PSTH_log=psth('overlap', 'stim1', trial_list_antisacc))
    run(plot_period_ttest_heatmap, hp, log, trial_list_antisacc, model_dir,
        'zero_gap', 'stim1', 'stim1', PSTH_log=psth('zero_gap', 'stim1', trial_list_antisacc))
    run(plot_period_ttest_heatmap, hp, log, trial_list_antisacc, model_dir,
        'gap', 'stim1', 'stim1', PSTH_log=psth('gap', 'stim1', trial_list_antisacc))
    run(plot_period_ttest_heatmap, hp, log, trial_list_antisacc, model_dir,
        'gap500', 'stim1', 'stim1', PSTH_log=psth('gap500', 'stim1', trial_list_antisacc))

    # ---------------------------------------------------------------- preferred location
    run(seldir_analysis, model_dir, 'odr', 'stim1', 'odrd', 'stim1',
        trial_list_odr_odrd, ('exh_neurons', 'mix_neurons'))
    run(seldir_analysis, model_dir, 'odr', 'delay1', 'odrd', 'delay1',
        trial_list_odr_odrd, ('exh_neurons', 'mix_neurons'))
    run(seldir_analysis, model_dir, 'odr', 'delay1', 'odrd', 'delay2',
        trial_list_odr_odrd, ('exh_neurons', 'mix_neurons'))
    run(seldir_analysis, model_dir, 'odrd', 'delay1', 'odrd', 'delay2',
        trial_list_odr_odrd, ('exh_neurons', 'mix_neurons'))
    run(seldir_analysis, model_dir, 'odrd', 'stim1', 'odrd', 'delay2',
        trial_list_odr_odrd, ('exh_neurons', 'mix_neurons'))
    run(seldir_analysis, model_dir, 'overlap', 'stim1', 'gap', 'stim1',
        trial_list_antisacc, ('exh_neurons', 'mix_neurons'))
    # Across task families (computes H and neuron_info of each rule at the other's
    # checkpoints):
    # run(seldir_analysis, model_dir, 'overlap', 'stim1', 'odr', 'stim1', trial_list_all,
    #     ('exh_neurons', 'mix_neurons'))

    # ---------------------------------------------------------------- Fig 3B units ------
    # The last checkpoint of each stage; --sample-neurons units per checkpoint.
    n_sample = args.sample_neurons
    run(sample_neuron_by_trial, hp, log, model_dir, 'odr', 'stim1', trial_list_sample,
        'mix_neurons', max_neurons=n_sample)
    run(sample_neuron_by_trial, hp, log, model_dir, 'odr', 'delay1', trial_list_sample,
        'mix_neurons', max_neurons=n_sample)
    run(sample_neuron_by_trial, hp, log, model_dir, 'odrd', 'stim1', trial_list_sample,
        'mix_neurons', max_neurons=n_sample)
    run(sample_neuron_by_trial, hp, log, model_dir, 'odrd', 'delay1', trial_list_sample,
        'mix_neurons', max_neurons=n_sample)
    run(sample_neuron_by_trial, hp, log, model_dir, 'odrd', 'delay2', trial_list_sample,
        'mix_neurons', max_neurons=n_sample)
    run(sample_neuron_by_trial, hp, log, model_dir, 'overlap', 'stim1', trial_list_sample,
        'mix_neurons', max_neurons=n_sample)
    run(sample_neuron_by_trial, hp, log, model_dir, 'zero_gap', 'stim1', trial_list_sample,
        'mix_neurons', max_neurons=n_sample)
    run(sample_neuron_by_trial, hp, log, model_dir, 'gap', 'stim1', trial_list_sample,
        'mix_neurons', max_neurons=n_sample)
    run(sample_neuron_by_trial, hp, log, model_dir, 'gap500', 'stim1', trial_list_sample,
        'mix_neurons', max_neurons=n_sample)
    # run(sample_neuron_by_trial, hp, log, model_dir, 'odr', 'stim1', trial_list_sample,
    #     'exh_neurons', max_neurons=n_sample)
    # run(sample_neuron_by_trial, hp, log, model_dir, 'odrd', 'delay2', trial_list_sample,
    #     'exh_neurons', max_neurons=n_sample)

    # ---------------------------------------------------------------- PCA ---------------
    # trial_num: one checkpoint (the original's form) or, as here, the stages of a trial
    # list (the last checkpoint of each stage).
    run(neuron_PCA, hp, log, model_dir, trial_list_odr_odrd, 'odr')
    run(neuron_PCA, hp, log, model_dir, trial_list_odr_odrd, 'odrd')
    run(neuron_PCA, hp, log, model_dir, trial_list_antisacc, 'overlap')
    run(neuron_PCA, hp, log, model_dir, trial_list_antisacc, 'zero_gap')
    run(neuron_PCA, hp, log, model_dir, trial_list_antisacc, 'gap')
    run(neuron_PCA, hp, log, model_dir, trial_list_antisacc, 'gap500')
    # run(neuron_PCA, hp, log, model_dir, trial_list_odr_odrd, 'odr', n_components=3)

    # ---------------------------------------------------------------- behaviour -------
    # parallel_blocks (below): started beside the blocks above, or run now with --serial;
    # then the shared dPCA and decoding blocks.
    if other is None:
        parallel_blocks(run, *tail)
        shared.run_all(run)
    else:
        other.run_shared(run)
        if not _same_rng_state(rng_start, hp['rng'].get_state()):
            common.note('blocks of this process drew from hp[\'rng\']: the parallel '
                        'blocks drew from its state at their start (--serial keeps one '
                        'order)')
        hp['rng'].set_state(other.join(run))    # as if its draws had been made here

    # ---------------------------------------------------------------- monkey data -----
    # The recordings of Zhou et al. are not public; with your own files in the formats of
    # analysis/monkey.py (make_synthetic_recording writes an example):
    # run(realneuron_Decoder_analysis, neuron_file='data/adultFiringRate8trials.txt',
    #     window_size=10)
    # run(real_neuron_dPCA, neuron_file='data/adultFiringRate8trials.txt')
    # run(real_neuron_PCA, neuron_file='data/adultneuron.txt')


def _same_rng_state(a, b):
    return a[0] == b[0] and all(np.array_equal(x, y) for x, y in zip(a[1:], b[1:]))


def parallel_blocks(run, args, hp, log, model_dir, trial_list_odr_odrd, trial_list_antisacc):
    """The behaviour blocks (distractor, saccade errors): they draw their trials from
    hp['rng'] and need nothing else the other blocks compute, so Main_analysis runs them
    in a second process beside those (--serial: after them). Returns the state hp['rng']
    is left in."""
    from analysis.behaviour import odrd_distractor_analysis, saccade_distribut_analysis
    anti = [r for r in common.ANTI_RULES if r in hp['rule_trains']]

    # ---------------------------------------------------------------- behaviour -------
    # A few evenly spaced checkpoints per stage: each one runs 64 cue/distractor
    # conditions (odrd) or 8 noisy test batches (anti-saccades).
    n_behaviour = args.behaviour_checkpoints
    wm_behaviour = common.thin_stages(trial_list_odr_odrd, n_behaviour)
    anti_behaviour = common.thin_stages(trial_list_antisacc, n_behaviour)
    run(odrd_distractor_analysis, hp, log, model_dir,
        common.sub_stages(wm_behaviour, ['odrd']))
    for rule in anti:
        run(saccade_distribut_analysis, hp, log, rule, model_dir, anti_behaviour)
    # Every stage checkpoint instead of a sample:
    # run(odrd_distractor_analysis, hp, log, model_dir, trial_list_odr_odrd)
    return hp['rng'].get_state()


def decoding_blocks(run, hp, model_dir, decode_at, rules):
    """Decoder_analysis of each rule in `rules` (if trained) at its networks of decode_at:
    one per stage, the checkpoint whose performance is closest to the stage's target (the
    published model: 616960 for mature ODR); a note names the stages without one. `run`:
    a BlockRunner or a BlockQueue."""
    from analysis.decoding import Decoder_analysis
    for rule in [r for r in rules if r in decode_at]:
        none = [s for s, t in zip(stages.STAGES, decode_at[rule]) if t is None]
        if none:
            common.note('Decoder_analysis / neuron_dPCA: rule {} has no {} checkpoint'.format(
                rule, '/'.join(none)))
        for trial_num in decode_at[rule]:
            if trial_num is not None:
                run(Decoder_analysis, hp, model_dir, trial_num=trial_num, rule=rule,
                    window_size=10, test_num=2)


if __name__ == '__main__':
    sys.exit(tools.run_script(main))
