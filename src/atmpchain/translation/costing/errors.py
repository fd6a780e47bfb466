"""The errors of the cost-of-goods models, each naming the field and the rule."""

from __future__ import annotations

from atmpchain.errors import NotFound


class CostModelNotFound(NotFound):
    """No cost model of that id (or not on a project the person may see)."""

    def __init__(self, model_id: object) -> None:
        super().__init__(f"there is no cost model {model_id} that you may see", "model_id")


class ScenarioNotFound(NotFound):
    """The cost model has no scenario of that name."""

    def __init__(self, model_id: object, name: str) -> None:
        super().__init__(f"cost model {model_id} has no scenario '{name}'", "scenario")
