"""`make bench` runs every benchmark module in one process: one that no longer imports (a service
moved) stops the whole run before the closing aims table is printed."""

from __future__ import annotations

import importlib

import pytest
from benchmarks.__main__ import available


def test_the_benchmark_package_lists_its_modules() -> None:
    assert {"audit", "custody", "pages", "telemetry", "batch_entries"} <= set(available())


@pytest.mark.parametrize("name", available())
def test_each_benchmark_module_imports_and_has_a_main(name: str) -> None:
    module = importlib.import_module(f"benchmarks.bench_{name}")
    assert callable(module.main)
