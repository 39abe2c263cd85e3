"""The paper's analyses, one module per figure family. The training stages (early, mid,
mature: thresholds, stage of a checkpoint, automatic selection, stage dicts) are defined
in stages.py.

The modules in layers; each imports only modules of the layers above it in this list
(tests/test_layers.py checks it, imports inside functions included):

  foundations
    figsave       writing figure files, in a background worker process when asked
    unit_figures  the example-unit figures of Fig 3B, drawn on re-used figures
    stats         the statistical tests the figures share (one-way ANOVA, t-tests)
    signatures    the paper's signatures as numbers (pure functions of analysis results)
    common        shared helpers: trial lists, rules and epochs, neuron types, file
                  paths, loading pickles, DataUnavailable, notices
    blocks        @block: each analysis's own random draws, and what it reads (needs)
    cache         byte-bounded LRU caches and their keys
    session       Session: figure folder, TensorFlow threads and caches of one process
  activity and its products
    activity      task info, hidden activity H (one graph per model), CheckpointRunner,
                  iter_H (H of many checkpoints, read or computed, never written)
    neuron_info   generate_neuron_info: responsive / selective / exc / inh / mixed units
  figures, one module per family
    basic         print_basic_info: performance over training, stage selection (Fig S7)
    psth          PSTHs by stage (Fig 4E–G), epoch-mean growth (Fig S2B), example units
                  (Fig 3B), stage ANOVA and t-test heatmaps
    tuning        tunning_analysis: tuning curves and Gaussian fits (Fig S3B)
    seldir        seldir_analysis: preferred locations across rules / epochs
    pca           neuron_PCA
    behaviour     odrd_distractor_analysis, saccade_distribut_analysis
    monkey        readers of the monkey-recording text formats, a synthetic generator,
                  real_neuron_PCA
    decoding      Decoder_analysis (Fig S5E), realneuron_Decoder_analysis
    dpca_analysis neuron_dPCA (Fig 5E), real_neuron_dPCA
  running many
    runner        BlockRunner (counts and skips blocks), ParallelBlocks (a second
                  process), count_new_figures, log_on_disk
    plan          AnalysisPlan: the calls of a with-block seen whole, then run planned
                  (one activity pass, a second process); prepare_activity
    report        the signature report of Main_report.py
"""
