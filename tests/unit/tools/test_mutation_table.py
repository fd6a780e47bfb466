"""Every capability's pure rules are mutation-tested (issue 18): new domain modules join."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _mutate_tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "atmpchain_mutate_tool", ROOT / "tools" / "mutate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_capabilitys_domain_module_is_in_the_mutation_table() -> None:
    tool = _mutate_tool()
    listed = {module for capability in tool.CAPABILITIES for module in capability.modules}
    domain_modules = {
        path.relative_to(ROOT / "src" / "atmpchain").as_posix()
        for path in (ROOT / "src" / "atmpchain").glob("*/domain.py")
    }
    assert domain_modules - listed == set(), "add these to CAPABILITIES in tools/mutate.py"


def test_each_capability_is_checked_against_its_own_unit_tests() -> None:
    tool = _mutate_tool()
    for capability in tool.CAPABILITIES:
        assert (ROOT / capability.tests).is_dir(), capability.tests
        for module in capability.modules:
            assert module.startswith(f"{capability.name}/"), (capability.name, module)
            assert (ROOT / "src" / "atmpchain" / module).is_file(), module
