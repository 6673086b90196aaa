"""The router finds, for every request, the route a scan of all routes in order finds."""

from __future__ import annotations

import re

import pytest

from elektraweb.cluster.api.dispatch import ROUTES
from elektraweb.cluster.api.errors import MethodNotAllowed, NotFound
from elektraweb.cluster.api.routing import Route, Router

METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE")


def concrete(route: Route, value: str) -> str:
    return re.sub(r"\{[^{}]+\}", value, route.template)


def scanned(method: str, path: str) -> tuple[Route | None, list[str]]:
    """The first route of `method` matching `path`, and the methods of every route matching."""
    matching = [route for route in ROUTES if route.pattern.fullmatch(path)]
    first = next((route for route in matching if route.method == method), None)
    return first, [route.method for route in matching]


PATHS = sorted(
    {concrete(route, value) for route in ROUTES for value in ("7", "user:/app/a b", "kdb")}
    | {"/api", "/api/", "/api/nothing", "/api/instancesX/7", "/other/instances/7"}
)


@pytest.mark.parametrize("path", PATHS)
def test_each_path_finds_the_first_route_of_its_method_or_the_same_refusal(path: str) -> None:
    router = Router(ROUTES)
    for method in METHODS:
        expected, methods = scanned(method, path)
        if expected is not None:
            route, params = router.match(method, path)
            assert route is expected
            found = expected.pattern.fullmatch(path)
            assert found is not None and params == found.groupdict()
        elif methods:
            with pytest.raises(MethodNotAllowed) as refused:
                router.match(method, path)
            assert refused.value.body()["error"]["allowed"] == methods
        else:
            with pytest.raises(NotFound):
                router.match(method, path)
