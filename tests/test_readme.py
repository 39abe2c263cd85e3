"""The README's analysis examples run as written (only the model folder is another)."""

import os
import re
import shutil

import tools

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python_blocks():
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        return re.findall(r'```python\n(.*?)```', f.read(), re.S)


def _pngs(folder):
    return sorted(os.path.relpath(os.path.join(d, f), folder)
                  for d, _, files in os.walk(folder) for f in files if f.endswith('.png'))


def test_the_readme_calls_the_analyses_in_the_original_forms(small_model_dir, tmp_path,
                                                            figure_root):
    block, = [b for b in _python_blocks() if 'print_basic_info' in b]
    model_dir = str(tmp_path / '6tasks')
    shutil.copytree(small_model_dir, model_dir)
    code = block.replace("'data/6tasks'", repr(model_dir))
    assert code.count(repr(model_dir)) == 6               # every use of the folder
    namespace = {}
    exec(compile(code, 'README.md', 'exec'), namespace)
    assert set(namespace['stages']) == set(tools.load_hp(model_dir)['rule_trains'])
    made = _pngs(str(figure_root))
    assert any(p.endswith('growth_of_performance_range.png') for p in made)
    assert any('odrd_delay2_activity_oneway_anova_analysis' in p for p in made)
    assert any('_PSTH' in p and '/odrd/delay2/' in '/' + p.replace(os.sep, '/')
               for p in made)
    assert any(p.endswith('odr_160_w500ms_s50ms.png') for p in made)      # the decoder


def test_the_readme_session_example_sends_the_figures_where_it_says(small_model_dir,
                                                                    tmp_path):
    from analysis.psth import plot_PSTH
    block, = [b for b in _python_blocks() if 'Session(' in b]
    figs = str(tmp_path / 'figs')
    code = block.replace("'/tmp/figs'", repr(figs))
    assert code != block
    namespace = {'hp': tools.load_hp(small_model_dir), 'log': tools.load_log(small_model_dir),
                 'model_dir': small_model_dir, 'trial_list': [0, 32, 160],
                 'plot_PSTH': plot_PSTH}
    exec(compile(code, 'README.md', 'exec'), namespace)
    made = _pngs(figs)
    assert made and all(p.startswith('figure_small' + os.sep) for p in made)
    assert any(p.endswith('_PSTH.png') for p in made)
