"""task.py against the known answers of SPEC §4 (dt = 20 ms, 8 ring units, 'lsq' loss)."""

import functools

import numpy as np
import pytest

import task

DT = 20
N_RING = 8
SIGMA_X = 0.01
ALPHA = 0.2
TEST_B = N_RING * 16


def make_hp(ruleset='all_new', seed=0, **overrides):
    """The hp dict train.get_default_hp would give (paper settings), with a fresh rng."""
    n_rule = len(task.rules_dict[ruleset])
    hp = dict(batch_size_train=64, batch_size_test=512, in_type='normal', rnn_type='LeakyRNN',
              use_separate_input=False, loss_type='lsq', optimizer='adam',
              activation='softplus', tau=100, dt=DT, alpha=ALPHA, sigma_rec=0.05,
              sigma_x=SIGMA_X, w_rec_init='randortho', n_eachring=N_RING, num_ring=1,
              ruleset=ruleset, n_rule=n_rule, rule_start=1 + N_RING,
              n_input=1 + N_RING + n_rule, n_output=N_RING + 1, n_rnn=256,
              rng=np.random.RandomState(seed))
    hp.update(overrides)
    return hp


@pytest.fixture
def hp():
    return make_hp()


def ruleset_of(rule):
    """A ruleset holding `rule` (so that it has a rule input unit)."""
    return next(rs for rs, rules in task.rules_dict.items() if rule in rules)


def bump(angle):
    """SPEC §4 tuning bump (8,) float64: 0.8·exp(−(d/(π/8))²/2), d circular distance."""
    pref = np.arange(N_RING) * 2 * np.pi / N_RING
    d = np.abs(angle - pref)
    d = np.minimum(d, 2 * np.pi - d)
    return 0.8 * np.exp(-(d / (np.pi / 8)) ** 2 / 2)


# ---------------------------------------------------------------------------------------
# Known answers of SPEC §4, in ms.

def _odr_row(delay):
    fix_off = 1500 + delay
    return dict(T=fix_off + 500, fix_in_off=fix_off, response_on=fix_off, anti=False,
                stims=[(1000, 1500)], distractor=None,
                epochs={'fix1': (None, 1000), 'stim1': (1000, 1500),
                        'delay1': (1500, fix_off), 'go1': (fix_off, None)})


def _gap_row(gap):
    cue_on = 1000 + gap
    return dict(T=cue_on + 600, fix_in_off=1000, response_on=cue_on, anti=True,
                stims=[(cue_on, cue_on + 100)], distractor=None,
                epochs={'fix1': (None, 1000), 'delay1': (1000, cue_on),
                        'stim1': (cue_on, cue_on + 100), 'go1': (cue_on, None)})


_MON_ROW = dict(T=3500, fix_in_off=3000, response_on=3000, anti=False,
                stims=[(1000, 1500), (2000, 2500)], distractor=None,
                epochs={'fix1': (None, 1000), 'stim1': (1000, 1500), 'delay1': (1500, 2000),
                        'stim2': (2000, 2500), 'delay2': (2500, 3000), 'go1': (3000, None)})

EXPECTED_MS = {
    **{'odr%d' % d: _odr_row(d)
       for d in (500, 750, 1000, 1100, 1200, 1300, 1400, 3000, 6000, 15000)},
    'odr': _odr_row(1500),
    'odrd': dict(T=3500, fix_in_off=3000, response_on=3000, anti=False,
                 stims=[(1000, 1500)], distractor=(2000, 2500),
                 epochs={'fix1': (None, 1000), 'stim1': (1000, 1500), 'delay1': (1500, 2000),
                         'distract1': (2000, 2500), 'delay2': (2500, 3000),
                         'go1': (3000, None)}),
    'overlap': dict(T=1600, fix_in_off=1100, response_on=1100, anti=True,
                    stims=[(1000, 1100)], distractor=None,
                    epochs={'fix1': (None, 1000), 'stim1': (1000, 1100), 'go1': (1100, None)}),
    'zero_gap': dict(T=1600, fix_in_off=1000, response_on=1000, anti=True,
                     stims=[(1000, 1100)], distractor=None,
                     epochs={'fix1': (None, 1000), 'stim1': (1000, 1100),
                             'go1': (1000, None)}),
    'gap': _gap_row(100),
    'gap500': _gap_row(500),
    'match_or_non': _MON_ROW,
    'match_or_non_easy': _MON_ROW,
    # passive: the fixation input never ends
    'match_or_non_passive': dict(_MON_ROW, fix_in_off=3500),
}
MON_RULES = ('match_or_non', 'match_or_non_easy', 'match_or_non_passive')
ALL_RULES = sorted(EXPECTED_MS)
RULESET_RULE_PAIRS = [(rs, r) for rs, rules in task.rules_dict.items() for r in rules]


def steps(ms):
    return None if ms is None else ms // DT


@functools.lru_cache(maxsize=None)
def clean_trial(rule, mode, seed=0):
    """A noiseless batch (8 trials in 'random' mode). Shared between tests: do not modify."""
    kwargs = {'batch_size': 8} if mode == 'random' else {}
    return task.generate_trials(rule, make_hp(ruleset_of(rule), seed), mode, noise_on=False,
                                **kwargs)


def mon_test_layout(seed=0):
    """Target layouts of a match-or-non test batch: its only draw from hp['rng']."""
    return np.random.RandomState(seed).randint(0, 2, TEST_B)


def expected_test_locations(rule, seed=0):
    """Location indices of the 128 'test' trials: cue, sample, distractor, response."""
    cue = np.arange(TEST_B) // 16
    out = {'cue': cue, 'response': (cue + 4) % 8 if EXPECTED_MS[rule]['anti'] else cue}
    if rule == 'odrd':
        out['distractor'] = (cue + 4) % 8
    if rule in MON_RULES:
        non_match = (np.arange(TEST_B) // 8) % 2
        out['sample'] = (cue + 4 * non_match) % 8
        if rule == 'match_or_non_easy':
            out['response'] = 4 * non_match
        elif rule == 'match_or_non':
            out['response'] = 4 * np.abs(non_match - mon_test_layout(seed))
        else:
            out['response'] = None
    return out


# ---------------------------------------------------------------------------------------
# Rulesets and registry

def test_rulesets_are_those_of_the_spec():
    six = ['overlap', 'zero_gap', 'gap', 'odr', 'odrd', 'gap500']
    assert list(task.rules_dict) == [
        'all_new', 'ozg', 'odr_delay_check', 'all_new_odr3000', 'all_new_odr6000',
        'all_new_odr15000', 'MoN', 'mix_MoN_6tasks', 'mix_p_MoN_6tasks', 'seq_train_test']
    assert task.rules_dict['all_new'] == six
    assert task.rules_dict['ozg'] == ['overlap', 'zero_gap', 'gap']
    assert task.rules_dict['odr_delay_check'] == [
        'odr500', 'odr750', 'odr1000', 'odr1100', 'odr1200', 'odr1300', 'odr1400', 'odr']
    for delay in (3000, 6000, 15000):
        assert task.rules_dict['all_new_odr%d' % delay] == [
            'odr%d' % delay if r == 'odr' else r for r in six]
    assert task.rules_dict['MoN'] == ['match_or_non', 'match_or_non_easy']
    assert task.rules_dict['mix_MoN_6tasks'] == ['match_or_non', 'match_or_non_easy'] + six
    assert task.rules_dict['mix_p_MoN_6tasks'] == list(MON_RULES) + six
    assert task.rules_dict['seq_train_test'] == ['odr500', 'odrd', 'overlap', 'zero_gap', 'gap']


def test_registry_and_names_cover_every_rule():
    used = {r for rules in task.rules_dict.values() for r in rules}
    assert set(task.rule_mapping) == used == set(EXPECTED_MS)
    assert set(task.rule_name) == used
    assert task.rule_name['odr'] == 'ODR'
    assert task.rule_name['odrd'] == 'ODR with distractor'
    assert task.rule_name['overlap'] == 'Overlap anti-saccade'
    assert task.rule_name['odr3000'] == 'ODR 3000 ms delay'
    assert len(set(task.rule_name.values())) == len(used)


@pytest.mark.parametrize('ruleset,rule', RULESET_RULE_PAIRS)
def test_rule_index_and_rule_input(ruleset, rule):
    hp = make_hp(ruleset)
    position = task.rules_dict[ruleset].index(rule)
    assert task.get_num_rule(ruleset) == len(task.rules_dict[ruleset])
    assert task.get_rule_index(rule, hp) == hp['rule_start'] + position

    trial = task.generate_trials(rule, hp, 'random', batch_size=4, noise_on=False)
    rule_units = trial.x[:, :, hp['rule_start']:]
    assert rule_units.shape[2] == hp['n_rule']
    assert np.all(rule_units[:, :, position] == 1)  # the whole trial
    assert np.all(np.delete(rule_units, position, axis=2) == 0)


def test_get_dist_is_circular_and_elementwise():
    d = task.get_dist(np.array([0, np.pi / 2, 3 * np.pi / 2, -3 * np.pi / 2, 2 * np.pi, np.pi]))
    np.testing.assert_allclose(d, [0, np.pi / 2, np.pi / 2, np.pi / 2, 0, np.pi], atol=1e-12)


# ---------------------------------------------------------------------------------------
# Timing, inputs, targets and cost mask of every rule

@pytest.mark.parametrize('mode', ['random', 'test'])
@pytest.mark.parametrize('rule', ALL_RULES)
def test_shapes_timing_and_epochs(rule, mode):
    trial = clean_trial(rule, mode)
    exp = EXPECTED_MS[rule]
    T, B = steps(exp['T']), (8 if mode == 'random' else TEST_B)
    hp = make_hp(ruleset_of(rule))
    assert (trial.tdim, trial.batch_size) == (T, B)
    assert trial.x.shape == (T, B, hp['n_input']) and trial.x.dtype == np.float32
    assert trial.y.shape == (T, B, N_RING + 1) and trial.y.dtype == np.float32
    assert trial.y_loc.shape == (T, B) and trial.y_loc.dtype == np.float32
    assert trial.epochs == {k: (steps(a), steps(b)) for k, (a, b) in exp['epochs'].items()}
    assert list(trial.epochs) == list(exp['epochs'])


@pytest.mark.parametrize('mode', ['random', 'test'])
@pytest.mark.parametrize('rule', ALL_RULES)
def test_fixation_input_and_output(rule, mode):
    trial = clean_trial(rule, mode)
    exp = EXPECTED_MS[rule]
    fix_off, resp = steps(exp['fix_in_off']), steps(exp['response_on'])
    assert np.all(trial.x[:fix_off, :, 0] == 1) and np.all(trial.x[fix_off:, :, 0] == 0)
    fix_out = trial.y[:, :, 0]
    if rule == 'match_or_non_passive':
        assert np.all(fix_out == np.float32(0.8))  # keeps fixating to the end
    else:
        # gap tasks: fixation output held until cue onset, after the fixation input is off
        assert np.all(fix_out[:resp] == np.float32(0.8))
        assert np.all(fix_out[resp:] == np.float32(0.05))


@pytest.mark.parametrize('mode', ['random', 'test'])
@pytest.mark.parametrize('rule', ALL_RULES)
def test_ring_targets_and_y_loc(rule, mode):
    trial = clean_trial(rule, mode)
    resp = steps(EXPECTED_MS[rule]['response_on'])
    ring = trial.y[:, :, 1:]
    assert np.all(ring[:resp] == np.float32(0.05))
    assert np.all(trial.y_loc[:resp] == -1)
    if rule == 'match_or_non_passive':
        assert np.all(ring == np.float32(0.05)) and np.all(trial.y_loc == -1)
        return
    response = trial.y_loc[-1]
    assert np.all(trial.y_loc[resp:] == response)
    assert np.all((response >= 0) & (response < 2 * np.pi))
    expected_ring = np.float32(0.05) + np.array([bump(a) for a in response.astype(float)])
    np.testing.assert_allclose(ring[resp:], np.broadcast_to(expected_ring, ring[resp:].shape),
                               atol=1e-5)
    if mode == 'test':  # the response is a preferred direction: peak 0.85 there
        expected_index = expected_test_locations(rule)['response']
        np.testing.assert_allclose(response, 2 * np.pi * expected_index / N_RING, atol=1e-6)
        assert np.array_equal(ring[-1].argmax(axis=1), expected_index)
        np.testing.assert_allclose(ring[-1].max(axis=1), 0.85, atol=1e-6)


@pytest.mark.parametrize('rule', ALL_RULES)
def test_ring_inputs_in_test_mode(rule):
    trial = clean_trial(rule, 'test')
    exp, answers = EXPECTED_MS[rule], expected_test_locations(rule)
    ring = trial.x[:, :, 1:1 + N_RING]
    windows = list(zip(exp['stims'], ['cue', 'sample']))
    if exp['distractor']:
        windows.append((exp['distractor'], 'distractor'))
    shown = np.zeros(trial.tdim, dtype=bool)
    for (on, off), name in windows:
        on, off = steps(on), steps(off)
        shown[on:off] = True
        expected = np.array([bump(2 * np.pi * k / N_RING) for k in answers[name]])
        np.testing.assert_allclose(ring[on:off], np.broadcast_to(expected, ring[on:off].shape),
                                   atol=1e-6)
        assert np.array_equal(ring[on].argmax(axis=1), answers[name])
        np.testing.assert_allclose(ring[on].max(axis=1), 0.8, atol=1e-6)
    if rule in MON_RULES:  # both choice targets shown from fixation offset to the end
        go = steps(3000)
        shown[go:] = True
        if rule == 'match_or_non_easy':
            upper = np.zeros(TEST_B)
        else:
            upper = np.where(mon_test_layout() == 0, np.pi / 4, 7 * np.pi / 4)
        choice = np.array([bump(u) + bump(u + np.pi) for u in upper])
        np.testing.assert_allclose(ring[go:], np.broadcast_to(choice, ring[go:].shape),
                                   atol=1e-6)
    assert np.all(ring[~shown] == 0)


@pytest.mark.parametrize('mode', ['random', 'test'])
@pytest.mark.parametrize('rule', ALL_RULES)
def test_cost_mask(rule, mode):
    trial = clean_trial(rule, mode)
    T, B = trial.tdim, trial.batch_size
    resp = steps(EXPECTED_MS[rule]['response_on'])
    expected = np.zeros((T, N_RING + 1), dtype=np.float32)
    expected[steps(100):resp] = 1  # pre-response, never the first 100 ms
    expected[resp + steps(100):] = 0 if rule == 'match_or_non_passive' else 5
    expected[:, 0] *= 2  # fixation column doubled
    assert trial.c_mask.shape == (T * B, N_RING + 1) and trial.c_mask.dtype == np.float32
    assert np.array_equal(trial.c_mask.reshape(T, B, N_RING + 1),
                          np.broadcast_to(expected[:, None, :], (T, B, N_RING + 1)))


@pytest.mark.parametrize('mode', ['random', 'test'])
@pytest.mark.parametrize('rule', ALL_RULES)
def test_recorded_location_lists(rule, mode):
    trial = clean_trial(rule, mode)
    B, exp = trial.batch_size, EXPECTED_MS[rule]
    assert len(trial.input_loc) == B * len(exp['stims'])
    assert len(trial.distract_loc) == (B if exp['distractor'] else 0)
    assert len(trial.output_loc) == (0 if rule == 'match_or_non_passive' else B)
    for pattern in trial.input_loc + trial.distract_loc + trial.output_loc:
        assert pattern.shape == (N_RING,)
    if mode == 'test':
        cue = np.array([p.argmax() for p in trial.input_loc[:B]])
        assert np.array_equal(cue, np.arange(B) // 16)  # 16 consecutive trials a location


# ---------------------------------------------------------------------------------------
# Random draws and noise

@pytest.mark.parametrize('rule', ALL_RULES)
def test_random_mode_draw_order(rule):
    """Reproduce the trial from a fresh RandomState with the documented draw order."""
    B, seed = 16, 7
    hp = make_hp(ruleset_of(rule), seed)
    trial = task.generate_trials(rule, hp, 'random', batch_size=B)
    clean = task.generate_trials(rule, make_hp(ruleset_of(rule), seed), 'random',
                                 batch_size=B, noise_on=False)

    rng = np.random.RandomState(seed)
    cue = rng.rand(B) * 2 * np.pi
    response = (cue + np.pi) % (2 * np.pi) if EXPECTED_MS[rule]['anti'] else cue
    stims = [cue]
    if rule == 'odrd':
        k = rng.choice(np.arange(1, N_RING))
        np.testing.assert_allclose(trial.distract_loc,
                                   [bump((c + k * np.pi / 4) % (2 * np.pi)) for c in cue])
    if rule in MON_RULES:
        non_match = rng.randint(0, 2, B)
        offset = rng.randint(1, N_RING) * (2 * np.pi / N_RING)
        layout = rng.randint(0, 2, B)
        stims.append((cue + offset * non_match) % (2 * np.pi))
        response = {'match_or_non': np.abs(non_match - layout) * np.pi,
                    'match_or_non_easy': non_match * np.pi,
                    'match_or_non_passive': None}[rule]
    noise = rng.randn(*trial.x.shape) * SIGMA_X * np.sqrt(2 / ALPHA)

    np.testing.assert_allclose(trial.input_loc, [bump(a) for s in stims for a in s])
    if response is not None:
        assert np.array_equal(trial.y_loc[-1], response.astype(np.float32))
    # noise drawn last, after the rule input, and added in place to float32 x
    assert np.array_equal(trial.x, (clean.x + noise).astype(np.float32))
    assert np.array_equal(trial.y, clean.y) and np.array_equal(trial.c_mask, clean.c_mask)
    assert hp['rng'].rand() == rng.rand()  # nothing else drawn


@pytest.mark.parametrize('rule', ['odr', 'odrd', 'gap', 'match_or_non'])
def test_same_seed_same_trials_different_seed_different(rule):
    def arrays(seed):
        t = task.generate_trials(rule, make_hp(ruleset_of(rule), seed), 'random',
                                 batch_size=8)
        return t.x, t.y, t.c_mask, t.y_loc

    for a, b in zip(arrays(3), arrays(3)):
        assert np.array_equal(a, b)
    x1, y1, _, loc1 = arrays(3)
    x2, y2, _, loc2 = arrays(4)
    assert not np.array_equal(x1, x2)
    assert not np.array_equal(y1, y2)
    assert not np.array_equal(loc1, loc2)


def test_input_noise_std(hp):
    trial = task.generate_trials('odrd', hp, 'test')
    clean = task.generate_trials('odrd', make_hp(), 'test', noise_on=False)
    noise = trial.x.astype(float) - clean.x
    assert abs(noise.mean()) < 1e-3
    np.testing.assert_allclose(noise.std(), SIGMA_X * np.sqrt(2 / ALPHA), rtol=0.02)


def test_odrd_random_distractor_offset_shared_by_batch():
    offsets = set()
    for seed in range(8):
        trial = task.generate_trials('odrd', make_hp(seed=seed), 'random', batch_size=32,
                                     noise_on=False)
        cue = trial.y_loc[-1].astype(float)
        batch_k = set()
        for c, distractor in zip(cue, trial.distract_loc):
            # which whole multiple of 45° moves the cue onto the distractor?
            k = [k for k in range(1, N_RING)
                 if np.allclose(bump((c + k * np.pi / 4) % (2 * np.pi)), distractor,
                                atol=1e-5)]
            assert len(k) == 1
            batch_k.add(k[0])
        assert len(batch_k) == 1
        offsets |= batch_k
    assert len(offsets) > 1  # drawn, not fixed


# ---------------------------------------------------------------------------------------
# odrd 'test-a-b'

@pytest.mark.parametrize('a,b', [(2, 5), (0, 7), (3, 3)])
def test_odrd_test_a_b(hp, a, b):
    trial = task.generate_trials('odrd', hp, 'test-a-b', a=a, b=b, noise_on=False)
    assert trial.batch_size == 128  # the original always used 128 trials
    ring = trial.x[:, :, 1:1 + N_RING]
    assert np.all(ring[steps(1000)].argmax(axis=1) == a)
    assert np.all(ring[steps(2000)].argmax(axis=1) == b)
    np.testing.assert_allclose(trial.y_loc[-1], 2 * np.pi * a / N_RING, atol=1e-6)
    assert len(trial.input_loc) == len(trial.distract_loc) == 128

    # the original suite's spelling of the same request
    same = task.generate_trials('odrd', make_hp(), 'test-%d-%d' % (a, b), noise_on=False)
    assert np.array_equal(same.x, trial.x) and np.array_equal(same.y, trial.y)
    bigger = task.generate_trials('odrd', make_hp(), 'test-a-b', a=a, b=b, batch_size=200,
                                  noise_on=False)
    assert bigger.batch_size == 200 and bigger.x.shape[1] == 200
    assert len(bigger.input_loc) == 200
    np.testing.assert_array_equal(bigger.x[:, :128], trial.x)


def test_odrd_test_mode_distractor_opposite_cue():
    trial = clean_trial('odrd', 'test')
    cue = np.array([p.argmax() for p in trial.input_loc])
    distractor = np.array([p.argmax() for p in trial.distract_loc])
    assert np.array_equal(distractor, (cue + 4) % 8)


# ---------------------------------------------------------------------------------------
# generate_trials options, Trial building blocks

def test_rule_input_options(hp):
    overlap, odr = task.get_rule_index('overlap', hp), task.get_rule_index('odr', hp)
    trial = task.generate_trials('overlap', hp, 'random', batch_size=4, noise_on=False,
                                 rule_on=10, rule_off=20, rule_strength=0.5)
    assert np.all(trial.x[10:20, :, overlap] == 0.5)
    assert np.all(np.delete(trial.x[:, :, overlap], range(10, 20), axis=0) == 0)

    trial = task.generate_trials('overlap', hp, 'random', batch_size=4, noise_on=False,
                                 replace_rule='odr')
    assert np.all(trial.x[:, :, odr] == 1) and np.all(trial.x[:, :, overlap] == 0)

    trial = task.generate_trials('overlap', hp, 'random', batch_size=4, noise_on=False,
                                 replace_rule=['odr', 'overlap'], rule_strength=[0.3, 0.7])
    assert np.all(trial.x[:, :, odr] == np.float32(0.3))
    assert np.all(trial.x[:, :, overlap] == np.float32(0.7))


def test_add_with_per_trial_windows_matches_trial_by_trial(hp):
    trial = task.Trial(hp, 10, 3)
    locs, ons, offs, strengths = [0., np.pi / 2, 3.], [1, 2, 3], [4, 5, 10], [1, .5, 2]
    trial.add('stim', locs, ons=ons, offs=offs, strengths=strengths)
    trial.add('out', locs, ons=ons)
    for i in range(3):
        expected = np.zeros((10, N_RING), dtype=np.float32)
        expected[ons[i]:offs[i]] = bump(locs[i]) * strengths[i]
        assert np.array_equal(trial.x[:, i, 1:1 + N_RING], expected)
        assert np.all(trial.y_loc[:ons[i], i] == -1)
        assert np.all(trial.y_loc[ons[i]:, i] == np.float32(locs[i]))
    assert trial.expand(5) == [5, 5, 5] and trial.expand([1, 2, 3]) == [1, 2, 3]


def test_one_hot_input_locations():
    hp = make_hp(in_loc_type='one_hot')
    trial = task.generate_trials('odr', hp, 'test', noise_on=False)
    cue = trial.x[steps(1000), :, 1:1 + N_RING]
    assert np.array_equal(cue, np.eye(N_RING, dtype=np.float32)[np.arange(TEST_B) // 16])


def test_non_lsq_loss_targets_and_mask():
    hp = make_hp(loss_type='cross_entropy')
    trial = task.generate_trials('odr', hp, 'test', noise_on=False)
    resp = steps(3000)
    assert np.all(trial.y[:resp, :, 0] == 1) and np.all(trial.y[:resp, :, 1:] == 0)
    np.testing.assert_allclose(trial.y[resp:, :, 1:].sum(axis=2), 1)
    assert trial.c_mask.shape == (trial.tdim * trial.batch_size,)
    np.testing.assert_allclose(trial.c_mask.mean(), 1, rtol=1e-5)


# ---------------------------------------------------------------------------------------
# Errors name the valid choices

def test_unknown_rule(hp):
    with pytest.raises(ValueError) as err:
        task.generate_trials('anti', hp, 'random', batch_size=4)
    assert str(sorted(task.rule_mapping)) in str(err.value)


def test_unknown_ruleset():
    with pytest.raises(ValueError) as err:
        task.get_num_rule('six_tasks')
    assert str(sorted(task.rules_dict)) in str(err.value)
    with pytest.raises(ValueError) as err:
        task.get_rule_index('odr', dict(make_hp(), ruleset='six_tasks'))
    assert str(sorted(task.rules_dict)) in str(err.value)


def test_rule_outside_ruleset(hp):
    with pytest.raises(ValueError) as err:
        task.get_rule_index('odr500', hp)
    assert str(sorted(task.rules_dict['all_new'])) in str(err.value)
    with pytest.raises(ValueError):  # its rule input has no unit under 'all_new'
        task.generate_trials('odr500', hp, 'random', batch_size=4)


@pytest.mark.parametrize('rule', ALL_RULES)
def test_unknown_mode(hp, rule):
    with pytest.raises(ValueError) as err:
        task.rule_mapping[rule](hp, 'psychometric')
    valid = ['random', 'test', 'test-a-b'] if rule == 'odrd' else ['random', 'test']
    assert str(valid) in str(err.value)


@pytest.mark.parametrize('rule', ['odr', 'odrd', 'overlap', 'match_or_non'])
def test_random_mode_needs_batch_size(rule):
    with pytest.raises(ValueError, match='batch_size'):
        task.generate_trials(rule, make_hp(ruleset_of(rule)), 'random')


def test_bad_test_a_b_requests(hp):
    with pytest.raises(ValueError, match="'test-a-b' needs the keyword arguments a \\(cue "
                                         "location index\\) and b"):
        task.generate_trials('odrd', hp, 'test-a-b', b=3)
    with pytest.raises(ValueError, match=r'a = 8 is not a location index in \[0, 8\)'):
        task.generate_trials('odrd', hp, 'test-a-b', a=8, b=3)
    with pytest.raises(ValueError):
        task.generate_trials('odr', hp, 'test-a-b', a=1, b=3)
