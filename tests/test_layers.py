"""The analysis package is layered: no module imports one that imports it back (imports
inside functions included), and an import inside a function only defers TensorFlow."""

import ast
import glob
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _analysis_imports(path):
    """[(imported analysis module, inside a function?)] of one module of analysis/."""
    tree = ast.parse(open(path).read())
    inner = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef,
                                                              ast.AsyncFunctionDef))
             for n in ast.walk(f) if n is not f}
    out = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module == 'analysis':
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or '').startswith('analysis.'):
            names = [node.module.split('.')[1]]
        elif isinstance(node, ast.Import):
            names = [a.name.split('.')[1] for a in node.names
                     if a.name.startswith('analysis.')]
        out += [(n, id(node) in inner) for n in names]
    return out


def _graph():
    modules = {os.path.basename(p)[:-3]: p
               for p in glob.glob(os.path.join(ROOT, 'analysis', '*.py'))
               if not p.endswith('__init__.py')}
    return {m: _analysis_imports(p) for m, p in modules.items()}, modules


def _cycle(graph):
    """A list of modules forming an import cycle, or None (depth-first search)."""
    state, stack = {}, []

    def visit(m):
        state[m] = 'open'
        stack.append(m)
        for dep, _ in graph.get(m, []):
            if state.get(dep) == 'open':
                return stack[stack.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        state[m] = 'done'
        stack.pop()
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({'a': [('b', False)], 'b': [('c', True)], 'c': [('a', False)]}) == [
        'a', 'b', 'c', 'a']
    assert _cycle({'a': [('b', False)], 'b': [], 'c': [('a', True)]}) is None


def test_no_module_of_analysis_imports_one_that_imports_it_back():
    graph, _ = _graph()
    assert 'session' in graph and ('common', False) in graph['session']   # the scan works
    assert _cycle(graph) is None


def _imports_tensorflow(module, graph, sources, seen=()):
    text = open(sources[module]).read()
    if 'import tensorflow' in text.split('def ', 1)[0]:
        return True
    return any(_imports_tensorflow(dep, graph, sources, seen + (module,))
               for dep, inner in graph[module] if not inner and dep not in seen)


def test_an_analysis_module_imported_inside_a_function_is_one_that_loads_tensorflow():
    graph, sources = _graph()
    inner = [(m, dep) for m, deps in graph.items() for dep, is_inner in deps if is_inner]
    bad = [(m, dep) for m, dep in inner if not _imports_tensorflow(dep, graph, sources)]
    assert bad == []


@pytest.mark.parametrize('text', ['avr_window=9', 'perf_margin=0.05',
                                  'max_trial_num_limit=30', 'limit=30'])
def test_the_stage_selection_defaults_are_written_once(text):
    """stages.AVR_WINDOW, PERF_MARGIN and MAX_PER_STAGE are the only place: scripts, the
    notebook and the report use them, so one model gets the same stages everywhere."""
    files = [p for pattern in ('*.py', 'analysis/*.py', '*.ipynb')
             for p in glob.glob(os.path.join(ROOT, pattern))]
    assert len(files) > 20
    assert [p for p in files if text in open(p).read().replace(' ', '')] == []
