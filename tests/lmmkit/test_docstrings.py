"""Every example in lmmkit's docstrings runs and prints what it says."""

import doctest
import importlib
import pkgutil

import pytest

import lmmkit

MODULES = sorted(
    name
    for _, name, _ in pkgutil.iter_modules(lmmkit.__path__, "lmmkit.")
    if name != "lmmkit.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_public_interface_has_examples():
    finder = doctest.DocTestFinder()
    for obj in (lmmkit.lmer, lmmkit.LmerFit, lmmkit.LmerFit.anova, lmmkit.LmerFit.summary):
        assert any(test.examples for test in finder.find(obj)), obj
