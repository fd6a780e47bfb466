"""The capability layers hold: custody imports nothing above it (issue 9, item 4), every
capability has its place in the layers contract and imports nothing of a layer above it, with no
exception but `atmpchain serve` starting the web application (issue 9 review, item 11), and the
import contracts are kept (what `make lint` checks, run here as a test)."""

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


def _layers() -> tuple[list[list[str]], dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == CONTRACT]
    layers = [
        # "(name)" is an optional layer: a demo step a capability may not have yet.
        [name.strip().strip("()") for name in layer.replace(":", "|").split("|")]
        for layer in contract["layers"]
    ]
    return layers, contract


SRC = ROOT / "src" / "atmpchain"
#: Not a capability: Alembic's scripts, which import whatever models they migrate.
NOT_LAYERED = {"atmpchain.migrations"}


def test_every_package_and_module_has_its_place_in_the_layers() -> None:
    layers, _ = _layers()
    placed = {name for layer in layers for name in layer}
    packages = {f"atmpchain.{path.parent.name}" for path in SRC.glob("*/__init__.py")} | {
        f"atmpchain.{path.stem}" for path in SRC.glob("*.py") if path.stem != "__init__"
    }
    assert sorted(packages - placed - NOT_LAYERED) == []


def test_no_exception_lets_a_capability_reach_up() -> None:
    _, contract = _layers()
    ignored = contract.get("ignore_imports", [])
    assert ignored == ["atmpchain.cli.main -> atmpchain.web.app"]


def _places() -> list[tuple[str, int]]:
    layers, _ = _layers()
    return [(name, i) for i, layer in enumerate(layers) for name in layer]


@pytest.mark.parametrize(("lower", "place"), _places(), ids=lambda v: str(v))
def test_a_layer_imports_nothing_of_a_layer_above_it(
    graph: grimp.ImportGraph, lower: str, place: int
) -> None:
    above = [name for name, i in _places() if i < place]
    found = [
        f"{importer} -> {imported}"
        for importer in sorted(graph.modules)
        if _within(importer, lower)
        for imported in sorted(graph.find_modules_directly_imported_by(importer))
        if any(_within(imported, higher) for higher in above)
    ]
    assert found == []


def test_the_cli_reaches_the_web_only_to_serve_it_and_the_web_never_the_cli(
    graph: grimp.ImportGraph,
) -> None:
    # web and cli share the top layer as independent adapters; `atmpchain serve` (cli.main ->
    # web.app) is the one import between them.
    crossings = [
        f"{importer} -> {imported}"
        for importer in sorted(graph.modules)
        for imported in sorted(graph.find_modules_directly_imported_by(importer))
        if (_within(importer, "atmpchain.cli") and _within(imported, "atmpchain.web"))
        or (_within(importer, "atmpchain.web") and _within(imported, "atmpchain.cli"))
    ]
    assert crossings == ["atmpchain.cli.main -> atmpchain.web.app"]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_layer_check_finds_a_real_upward_import(graph: grimp.ImportGraph) -> None:
    # The check above looks at real imports: custody does import accounts (a lower layer).
    assert any(
        _within(imported, "atmpchain.accounts")
        for importer in graph.modules
        if _within(importer, "atmpchain.custody")
        for imported in graph.find_modules_directly_imported_by(importer)
    )


def test_the_import_contracts_are_kept() -> None:
    from importlinter import configuration
    from importlinter.application.use_cases import lint_imports

    configuration.configure()
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_logo=True, cache_dir=None)
