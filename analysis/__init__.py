"""The paper's analyses, one module per figure family. The training stages (early, mid,
mature: thresholds, stage of a checkpoint, automatic selection) are defined in stages.py.

    common        shared helpers: trial lists and stage dicts, rules and epochs, neuron
                  types, figure paths, loading pickles, DataUnavailable
    figsave       writing figure files, in a background worker process when asked
    runner        what the analysis scripts and the notebook share: BlockRunner,
                  count_new_figures, log_on_disk
    activity      task info, hidden activity H (one graph per model), CheckpointRunner,
                  iter_H (H of many checkpoints, read or computed, never written)
    cache         H and its small products kept in memory (byte-bounded LRU caches);
                  prepare_activity: Main_analysis's single pass over checkpoints
    basic         print_basic_info: performance over training, stage selection (Fig S7)
    neuron_info   generate_neuron_info: responsive / selective / exc / inh / mixed units
    psth          PSTHs by stage (Fig 4E–G), epoch-mean growth (Fig S2B), example units
                  (Fig 3B), stage ANOVA and t-test heatmaps
    unit_figures  the example-unit figures of Fig 3B, drawn on re-used figures
    tuning        tunning_analysis: tuning curves and Gaussian fits (Fig S3B)
    seldir        seldir_analysis: preferred locations across rules / epochs
    pca           neuron_PCA
    behaviour     odrd_distractor_analysis, saccade_distribut_analysis
    decoding      Decoder_analysis (Fig S5E), realneuron_Decoder_analysis
    dpca_analysis neuron_dPCA (Fig 5E), real_neuron_dPCA
    monkey        readers of the monkey-recording text formats, a synthetic generator,
                  real_neuron_PCA
"""
