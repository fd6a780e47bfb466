"""The capability layers hold: custody imports nothing above it (issue 9, item 4), and the
import contract over all capabilities is kept (what `make lint` checks, run here as a test)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = "Capabilities stack in layers: a lower one never imports a higher one"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("atmpchain")


@pytest.mark.parametrize(
    "higher", ["atmpchain.coldchain", "atmpchain.hospital", "atmpchain.web", "atmpchain.cli"]
)
def test_custody_imports_nothing_of_a_capability_above_it(
    graph: grimp.ImportGraph, higher: str
) -> None:
    chain = graph.find_shortest_chain(
        importer="atmpchain.custody", imported=higher, as_packages=True
    )
    assert chain is None, " -> ".join(chain or ())


def test_the_layers_contract_puts_custody_below_the_capabilities_that_control_its_units() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == CONTRACT]
    layers: list[str] = contract["layers"]
    assert contract["type"] == "layers"
    place = {name.strip(): i for i, layer in enumerate(layers) for name in layer.split("|")}
    assert place["atmpchain.hospital"] < place["atmpchain.coldchain"] < place["atmpchain.custody"]
    assert place["atmpchain.custody"] < place["atmpchain.identity"]
    # No exception lets custody reach up.
    assert not [i for i in contract.get("ignore_imports", []) if i.startswith("atmpchain.custody")]


def test_the_import_contracts_are_kept() -> None:
    from importlinter import configuration
    from importlinter.application.use_cases import lint_imports

    configuration.configure()
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_logo=True, cache_dir=None)
