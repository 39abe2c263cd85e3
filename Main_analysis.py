"""Reproduce the paper's figures from a trained model.

    python Main_analysis.py                          # data/6tasks
    python Main_analysis.py --model-dir data/6tasks_paper

As in the original script, the analysis is a list of calls in main(), one per block, in
the original's call forms: comment a line out to leave its figure out, uncomment or add
one to draw it. The calls are made inside ``with AnalysisPlan(...)``: there they are
collected first and run when the with-block ends, so that the suite sees the whole list
and plans the work from it (analysis/plan.py): one pass over the checkpoints computes
what the listed blocks read, the behaviour blocks run in a second process meanwhile, the
decoding and dPCA blocks in whichever process is free first. Nothing in this file needs
to change for that: add a line and its data is planned; remove it and nothing is computed
for it. Every block draws its random trials from its own generator (seeded by the model's
seed and the block's arguments), so a block's numbers do not depend on which other lines
are enabled.

Checkpoints are grouped into early / mid / mature stages from the model's own training log
(print_basic_info(auto_range_select=True), which runs at once; stages.py says how); the
checkpoint ranges of the published model are kept below as commented examples.
Checkpoints that log.json lists but whose folder is missing are named in one warning and
left out. A block whose data the model does not hold (a rule it was not trained on, a
stage without checkpoints, a missing pickle) prints one [skipped] line and the run goes
on; any other error is a bug and stops the run with its traceback. Figures go to
figure/figure_<model folder>/.
"""

import argparse
import os
import sys
import time

import stages
import tools

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
                             'default, on two cores or more, the behaviour blocks run in a '
                             'second process beside the others, and the decoding and dPCA '
                             'blocks in whichever of the two is free first)')
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
    model_dir = args.model_dir
    hp = tools.load_hp(model_dir)
    log = tools.load_log(model_dir)
    # The analyses import TensorFlow (seconds of start-up): only now, so that --help, bad
    # arguments and unreadable model files are answered at once.
    from analysis.activity import compute_H  # noqa: F401  (the commented lines)
    from analysis.basic import print_basic_info
    from analysis.behaviour import odrd_distractor_analysis, saccade_distribut_analysis
    from analysis.decoding import Decoder_analysis, realneuron_Decoder_analysis  # noqa: F401
    from analysis.dpca_analysis import neuron_dPCA, real_neuron_dPCA  # noqa: F401
    from analysis.monkey import real_neuron_PCA  # noqa: F401
    from analysis.neuron_info import generate_neuron_info
    from analysis.pca import neuron_PCA
    from analysis.plan import AnalysisPlan
    from analysis.psth import (gen_PSTH_log, neuron_period_activity_analysis,  # noqa: F401
                               plot_epoch_mean_growth, plot_period_ttest_heatmap, plot_PSTH,
                               sample_neuron_by_trial)
    from analysis.runner import log_on_disk
    from analysis.seldir import seldir_analysis
    from analysis.tuning import tunning_analysis

    start = time.time()
    recompute = args.recompute
    # The rules of each task family this model was trained on (the others' lines skip).
    wm = [r for r in ('odr', 'odrd') if r in hp['rule_trains']]
    anti = [r for r in ('overlap', 'zero_gap', 'gap', 'gap500') if r in hp['rule_trains']]

    with AnalysisPlan(recompute=recompute, serial=args.serial) as plan:
        # The log without checkpoints that are missing on disk or damaged (one line each).
        log = log_on_disk(model_dir, log)

        # ------------------------------------------------------------ checkpoints -------
        # Fig S7 and the stage of every checkpoint, from this model's log:
        # {rule: {'early': [...], 'mid': [...], 'mature': [...]}}. A stage the selection
        # left empty for a rule (a model still learning it, a short demo run) gets the
        # checkpoints whose own performance is in it (one line per rule says so).
        selection = print_basic_info(hp, log, model_dir, smooth_growth=True, smooth_window=5,
                                     auto_range_select=True)
        trial_selected = stages.stages_with_fallback(hp, log, selection or {})
        trial_list_odr_odrd = stages.sub_stages(trial_selected, wm)
        trial_list_antisacc = stages.sub_stages(trial_selected, anti)
        trial_list_sample = stages.last_of_each_stage(trial_selected)
        # Every checkpoint of the log (for the commented "over all checkpoints" lines):
        # trial_list_all = log['trials']
        # Ranges of the published model (data/6tasks_paper), as in the original script:
        # trial_list_odr_odrd = range(520960, log['trials'][-1] + 1, 1280)
        # trial_list_antisacc = range(0, 102400 + 1, 1280)
        # trial_list_all = range(log['trials'][0], log['trials'][-1] + 1, 1280)
        # trial_list_sample = [616960, 628480]

        # ------------------------------------------------------------ H, neuron info ----
        # H is computed in memory and not written (~10–25 MB per rule and checkpoint for
        # 256 units); existing H pickles are read. To write them, as the original could:
        # compute_H(hp, log, model_dir, rules=wm, trial_list=trial_list_odr_odrd,
        #           recompute=recompute)
        # compute_H(hp, log, model_dir, rules=anti, trial_list=trial_list_antisacc,
        #           recompute=recompute)
        generate_neuron_info(hp, model_dir, ['stim1', 'delay1'], trial_list_odr_odrd, wm,
                             recompute=False)
        generate_neuron_info(hp, model_dir, ['delay2'], trial_list_odr_odrd, ['odrd'],
                             recompute=False)
        generate_neuron_info(hp, model_dir, ['stim1'], trial_list_antisacc, anti,
                             recompute=False)

        # ------------------------------------------------------------ Fig S3B tuning ----
        tunning_analysis(hp, log, model_dir, 'odr', 'stim1', trial_list_odr_odrd)
        tunning_analysis(hp, log, model_dir, 'odr', 'delay1', trial_list_odr_odrd)
        tunning_analysis(hp, log, model_dir, 'odrd', 'stim1', trial_list_odr_odrd)
        tunning_analysis(hp, log, model_dir, 'odrd', 'delay1', trial_list_odr_odrd)
        tunning_analysis(hp, log, model_dir, 'odrd', 'delay2', trial_list_odr_odrd)
        tunning_analysis(hp, log, model_dir, 'overlap', 'stim1', trial_list_antisacc)
        tunning_analysis(hp, log, model_dir, 'zero_gap', 'stim1', trial_list_antisacc)
        tunning_analysis(hp, log, model_dir, 'gap', 'stim1', trial_list_antisacc)
        tunning_analysis(hp, log, model_dir, 'gap500', 'stim1', trial_list_antisacc)

        # ------------------------------------------------------------ Fig 4E–G PSTH -----
        plot_PSTH(hp, log, model_dir, 'odr', 'stim1', trial_list_odr_odrd, plot_oppo_dir=False)
        plot_PSTH(hp, log, model_dir, 'odr', 'delay1', trial_list_odr_odrd, plot_oppo_dir=False)
        plot_PSTH(hp, log, model_dir, 'odrd', 'stim1', trial_list_odr_odrd, plot_oppo_dir=True)
        plot_PSTH(hp, log, model_dir, 'odrd', 'delay1', trial_list_odr_odrd, plot_oppo_dir=True)
        plot_PSTH(hp, log, model_dir, 'odrd', 'delay2', trial_list_odr_odrd, plot_oppo_dir=True)
        plot_PSTH(hp, log, model_dir, 'overlap', 'stim1', trial_list_antisacc)
        plot_PSTH(hp, log, model_dir, 'zero_gap', 'stim1', trial_list_antisacc)
        plot_PSTH(hp, log, model_dir, 'gap', 'stim1', trial_list_antisacc)
        plot_PSTH(hp, log, model_dir, 'gap500', 'stim1', trial_list_antisacc)

        # ------------------------------------------------------------ Fig S2B growth ----
        plot_epoch_mean_growth(hp, log, trial_list_odr_odrd, model_dir, 'odr', 'stim1', 'stim1')
        plot_epoch_mean_growth(hp, log, trial_list_odr_odrd, model_dir, 'odr', 'stim1', 'delay1')
        plot_epoch_mean_growth(hp, log, trial_list_odr_odrd, model_dir, 'odr', 'delay1', 'delay1')
        plot_epoch_mean_growth(hp, log, trial_list_odr_odrd, model_dir, 'odrd', 'stim1', 'stim1')
        plot_epoch_mean_growth(hp, log, trial_list_odr_odrd, model_dir, 'odrd', 'stim1', 'delay2')
        plot_epoch_mean_growth(hp, log, trial_list_odr_odrd, model_dir, 'odrd', 'delay1', 'delay1')
        plot_epoch_mean_growth(hp, log, trial_list_odr_odrd, model_dir, 'odrd', 'delay2', 'delay2')
        plot_epoch_mean_growth(hp, log, trial_list_antisacc, model_dir, 'overlap', 'stim1',
                               'stim1')
        plot_epoch_mean_growth(hp, log, trial_list_antisacc, model_dir, 'zero_gap', 'stim1',
                               'stim1')
        plot_epoch_mean_growth(hp, log, trial_list_antisacc, model_dir, 'gap', 'stim1', 'stim1')
        plot_epoch_mean_growth(hp, log, trial_list_antisacc, model_dir, 'gap500', 'stim1', 'stim1')
        # Over every checkpoint of the training run (computes H for all of them), with the
        # PSTH log made once for both lines, as in the original:
        # PSTH_log = gen_PSTH_log(hp, trial_list_all, model_dir, 'odr', 'stim1')
        # plot_epoch_mean_growth(hp, log, trial_list_all, model_dir, 'odr', 'stim1', 'stim1',
        #                        PSTH_log=PSTH_log)
        # plot_epoch_mean_growth(hp, log, trial_list_all, model_dir, 'odr', 'stim1', 'delay1',
        #                        PSTH_log=PSTH_log)

        # ------------------------------------------------------------ stage ANOVA -------
        # Analysed period: an epoch name or (start, end) in ms (cue onset → +250 ms below).
        neuron_period_activity_analysis(hp, log, trial_list_odr_odrd, model_dir,
                                        'odr', 'stim1', 'stim1')
        neuron_period_activity_analysis(hp, log, trial_list_odr_odrd, model_dir,
                                        'odr', 'delay1', 'delay1')
        neuron_period_activity_analysis(hp, log, trial_list_odr_odrd, model_dir,
                                        'odrd', 'stim1', 'stim1')
        neuron_period_activity_analysis(hp, log, trial_list_odr_odrd, model_dir,
                                        'odrd', 'delay1', 'delay1')
        neuron_period_activity_analysis(hp, log, trial_list_odr_odrd, model_dir,
                                        'odrd', 'delay2', 'delay2')
        neuron_period_activity_analysis(hp, log, trial_list_antisacc, model_dir,
                                        'overlap', 'stim1', (1000, 1250))
        neuron_period_activity_analysis(hp, log, trial_list_antisacc, model_dir,
                                        'zero_gap', 'stim1', (1000, 1250))
        neuron_period_activity_analysis(hp, log, trial_list_antisacc, model_dir,
                                        'gap', 'stim1', (1100, 1350))
        neuron_period_activity_analysis(hp, log, trial_list_antisacc, model_dir,
                                        'gap500', 'stim1', (1500, 1750))
        # All checkpoints of each stage instead of the last one:
        # neuron_period_activity_analysis(hp, log, trial_list_odr_odrd, model_dir,
        #                                 'odrd', 'delay2', 'delay2', last_step=False)

        # ------------------------------------------------------------ t-test heatmaps ---
        plot_period_ttest_heatmap(hp, log, trial_list_odr_odrd, model_dir, 'odr', 'stim1', 'stim1')
        plot_period_ttest_heatmap(hp, log, trial_list_odr_odrd, model_dir, 'odr', 'delay1',
                                  'delay1')
        plot_period_ttest_heatmap(hp, log, trial_list_odr_odrd, model_dir, 'odrd', 'stim1',
                                  'stim1')
        plot_period_ttest_heatmap(hp, log, trial_list_odr_odrd, model_dir, 'odrd', 'delay1',
                                  'delay1')
        plot_period_ttest_heatmap(hp, log, trial_list_odr_odrd, model_dir, 'odrd', 'delay2',
                                  'delay2')
        plot_period_ttest_heatmap(hp, log, trial_list_antisacc, model_dir, 'overlap', 'stim1',
                                  'stim1')
        plot_period_ttest_heatmap(hp, log, trial_list_antisacc, model_dir, 'zero_gap', 'stim1',
                                  'stim1')
        plot_period_ttest_heatmap(hp, log, trial_list_antisacc, model_dir, 'gap', 'stim1', 'stim1')
        plot_period_ttest_heatmap(hp, log, trial_list_antisacc, model_dir, 'gap500', 'stim1',
                                  'stim1')

        # ------------------------------------------------------------ preferred location
        seldir_analysis(model_dir, 'odr', 'stim1', 'odrd', 'stim1', trial_list_odr_odrd,
                        ('exh_neurons', 'mix_neurons'))
        seldir_analysis(model_dir, 'odr', 'delay1', 'odrd', 'delay1', trial_list_odr_odrd,
                        ('exh_neurons', 'mix_neurons'))
        seldir_analysis(model_dir, 'odr', 'delay1', 'odrd', 'delay2', trial_list_odr_odrd,
                        ('exh_neurons', 'mix_neurons'))
        seldir_analysis(model_dir, 'odrd', 'delay1', 'odrd', 'delay2', trial_list_odr_odrd,
                        ('exh_neurons', 'mix_neurons'))
        seldir_analysis(model_dir, 'odrd', 'stim1', 'odrd', 'delay2', trial_list_odr_odrd,
                        ('exh_neurons', 'mix_neurons'))
        seldir_analysis(model_dir, 'overlap', 'stim1', 'gap', 'stim1', trial_list_antisacc,
                        ('exh_neurons', 'mix_neurons'))
        # Across task families (computes H and neuron_info of each rule at the other's
        # checkpoints):
        # seldir_analysis(model_dir, 'overlap', 'stim1', 'odr', 'stim1', trial_list_all,
        #                 ('exh_neurons', 'mix_neurons'))

        # ------------------------------------------------------------ Fig 3B units ------
        # The last checkpoint of each stage; --sample-neurons units per checkpoint.
        n_sample = args.sample_neurons
        sample_neuron_by_trial(hp, log, model_dir, 'odr', 'stim1', trial_list_sample,
                               'mix_neurons', max_neurons=n_sample)
        sample_neuron_by_trial(hp, log, model_dir, 'odr', 'delay1', trial_list_sample,
                               'mix_neurons', max_neurons=n_sample)
        sample_neuron_by_trial(hp, log, model_dir, 'odrd', 'stim1', trial_list_sample,
                               'mix_neurons', max_neurons=n_sample)
        sample_neuron_by_trial(hp, log, model_dir, 'odrd', 'delay1', trial_list_sample,
                               'mix_neurons', max_neurons=n_sample)
        sample_neuron_by_trial(hp, log, model_dir, 'odrd', 'delay2', trial_list_sample,
                               'mix_neurons', max_neurons=n_sample)
        sample_neuron_by_trial(hp, log, model_dir, 'overlap', 'stim1', trial_list_sample,
                               'mix_neurons', max_neurons=n_sample)
        sample_neuron_by_trial(hp, log, model_dir, 'zero_gap', 'stim1', trial_list_sample,
                               'mix_neurons', max_neurons=n_sample)
        sample_neuron_by_trial(hp, log, model_dir, 'gap', 'stim1', trial_list_sample,
                               'mix_neurons', max_neurons=n_sample)
        sample_neuron_by_trial(hp, log, model_dir, 'gap500', 'stim1', trial_list_sample,
                               'mix_neurons', max_neurons=n_sample)
        # sample_neuron_by_trial(hp, log, model_dir, 'odr', 'stim1', trial_list_sample,
        #                        'exh_neurons', max_neurons=n_sample)

        # ------------------------------------------------------------ PCA ---------------
        # trial_num: one checkpoint (the original's form) or, as here, the stages of a
        # trial list (the last checkpoint of each stage).
        neuron_PCA(hp, log, model_dir, trial_list_odr_odrd, 'odr')
        neuron_PCA(hp, log, model_dir, trial_list_odr_odrd, 'odrd')
        neuron_PCA(hp, log, model_dir, trial_list_antisacc, 'overlap')
        neuron_PCA(hp, log, model_dir, trial_list_antisacc, 'zero_gap')
        neuron_PCA(hp, log, model_dir, trial_list_antisacc, 'gap')
        neuron_PCA(hp, log, model_dir, trial_list_antisacc, 'gap500')
        # neuron_PCA(hp, log, model_dir, trial_list_odr_odrd, 'odr', n_components=3)

        # ------------------------------------------------------------ behaviour ---------
        # A few evenly spaced checkpoints per stage (--behaviour-checkpoints): each one
        # runs 64 cue/distractor conditions (odrd) or 8 noisy test batches (anti-saccades).
        wm_behaviour = stages.thin_stages(trial_list_odr_odrd, args.behaviour_checkpoints)
        anti_behaviour = stages.thin_stages(trial_list_antisacc, args.behaviour_checkpoints)
        odrd_distractor_analysis(hp, log, model_dir, stages.sub_stages(wm_behaviour, ['odrd']))
        saccade_distribut_analysis(hp, log, 'overlap', model_dir, anti_behaviour)
        saccade_distribut_analysis(hp, log, 'zero_gap', model_dir, anti_behaviour)
        saccade_distribut_analysis(hp, log, 'gap', model_dir, anti_behaviour)
        saccade_distribut_analysis(hp, log, 'gap500', model_dir, anti_behaviour)
        # Every stage checkpoint instead of a sample:
        # odrd_distractor_analysis(hp, log, model_dir, trial_list_odr_odrd)

        # ------------------------------------------------------------ dPCA, Fig 5E ------
        # One network per stage: the checkpoint whose performance is closest to the
        # stage's target (the published model: 616960 for mature ODR).
        net_odr = stages.representative_checkpoints(hp, log, trial_list_odr_odrd, 'odr')
        net_odrd = stages.representative_checkpoints(hp, log, trial_list_odr_odrd, 'odrd')
        neuron_dPCA(hp, log, model_dir, trial_num=net_odr['early'], rule='odr', task_mode='test')
        neuron_dPCA(hp, log, model_dir, trial_num=net_odr['mid'], rule='odr', task_mode='test')
        neuron_dPCA(hp, log, model_dir, trial_num=net_odr['mature'], rule='odr', task_mode='test')
        # neuron_dPCA(hp, log, model_dir, trial_num=616960, rule='odr', task_mode='test',
        #             invert_tcomp_y=True)

        # ------------------------------------------------------------ Fig S5E decoding --
        # Cross-temporal decoding, one network per stage.
        Decoder_analysis(hp, model_dir, trial_num=net_odr['early'], rule='odr', window_size=10,
                         test_num=2)
        Decoder_analysis(hp, model_dir, trial_num=net_odr['mid'], rule='odr', window_size=10,
                         test_num=2)
        Decoder_analysis(hp, model_dir, trial_num=net_odr['mature'], rule='odr', window_size=10,
                         test_num=2)
        Decoder_analysis(hp, model_dir, trial_num=net_odrd['early'], rule='odrd', window_size=10,
                         test_num=2)
        Decoder_analysis(hp, model_dir, trial_num=net_odrd['mid'], rule='odrd', window_size=10,
                         test_num=2)
        Decoder_analysis(hp, model_dir, trial_num=net_odrd['mature'], rule='odrd',
                         window_size=10, test_num=2)

        # ------------------------------------------------------------ monkey data -------
        # The recordings of Zhou et al. are not public; with your own files in the formats
        # of analysis/monkey.py (make_synthetic_recording writes an example):
        # realneuron_Decoder_analysis(neuron_file='data/adultFiringRate8trials.txt',
        #                             window_size=10)
        # real_neuron_dPCA(neuron_file='data/adultFiringRate8trials.txt')
        # real_neuron_PCA(neuron_file='data/adultneuron.txt')

    elapsed = time.time() - start
    n_fig, summary = plan.summary(model_dir, start, elapsed)
    print('\nMain_analysis: ' + summary)
    return {'figures': n_fig, 'skipped': plan.runner.skipped, 'reasons': plan.runner.reasons,
            'seconds': elapsed, 'block_seconds': dict(plan.runner.seconds)}


if __name__ == '__main__':
    sys.exit(tools.run_script(main))
