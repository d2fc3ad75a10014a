"""The same statements behave the same on every backend (the suite runs once per backend:
``make test`` runs it on FalkorDB and on Neo4j 5)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core import seed
from app.graph import GraphStore
from app.runtime import prepare_graph

REPO = Path(__file__).resolve().parents[2]


async def test_property_round_trip(backend_store: GraphStore) -> None:
    values = dict(  # noqa: C408 - keyword form reads as the parameter list
        id="p1",
        s='it\'s "quoted" \\ back\nslash',
        i=-(2**53),
        f=0.125,
        b=True,
        nul=None,
        ls=["a", "b'c", ""],
        li=[1, 2, 3],
        lf=[1.5, -2.25],
        lb=[True, False],
        big=2**62,
        uni="naïve ☃ 日本",
    )
    rows = await backend_store.write("conformance/roundtrip", **values)
    row = rows[0]
    props = row.pop("props")
    for key, value in values.items():
        assert row[key] == value, key
    assert "nul" not in props and props["uni"] == values["uni"]  # nulls are not stored


# NUL cannot cross FalkorDB's text protocol; API inputs refuse it (see test_bad_input).
strings = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(s=strings, i=st.integers(-(2**62), 2**62), ls=st.lists(strings, max_size=5))
async def test_strings_and_ints_survive_any_content(
    backend_store: GraphStore, s: str, i: int, ls: list[str]
) -> None:
    rows = await backend_store.write(
        "conformance/roundtrip",
        id="h",
        s=s,
        i=i,
        f=1.0,
        b=False,
        nul=None,
        ls=ls,
        li=[i],
        lf=[0.5],
        lb=[False],
        big=i,
        uni=s,
    )
    assert rows[0]["s"] == s and rows[0]["i"] == i and rows[0]["ls"] == ls


async def test_unwind_nested_lists_of_maps(backend_store: GraphStore) -> None:
    rows = [
        {
            "id": f"r{k}",
            "tags": ["x", str(k)],
            "meta": {"score": k / 2},
            "children": [{"id": f"r{k}c{j}", "w": j} for j in range(3)],
        }
        for k in range(5)
    ]
    out = await backend_store.write("conformance/unwind_maps", rows=rows)
    assert out[0]["edges"] == 15
    count = await backend_store.read("conformance/count")
    assert count[0]["n"] == 20


async def test_conditional_update_wins_exactly_once(backend_store: GraphStore) -> None:
    await backend_store.write("conformance/make", id="t1")
    results = await asyncio.gather(
        *(backend_store.write("conformance/claim_once", id="t1", owner=f"w{i}") for i in range(50))
    )
    winners = [r[0]["owner"] for r in results if r]
    assert len(winners) == 1
    count = await backend_store.read("conformance/count")
    assert count[0]["owners"] == winners


async def test_schema_reapplication_is_idempotent(backend_store: GraphStore) -> None:
    before = await backend_store.health()
    await prepare_graph(backend_store)
    await prepare_graph(backend_store)
    assert await backend_store.health() == before


async def test_seeds_are_idempotent(backend_store: GraphStore) -> None:
    first = await seed.load(backend_store, REPO / "seeds", now=1)
    assert first["entities"] >= 30 and first["agents"] >= 12
    after_first = await backend_store.health()
    second = await seed.load(backend_store, REPO / "seeds", now=2)
    assert all(v == 0 for v in second.values()), second
    assert await backend_store.health() == after_first


async def test_unique_ids_are_enforced(backend_store: GraphStore) -> None:
    from app.core.errors import Conflict
    from app.core.principals import create
    from app.models import PrincipalIn, Role

    data = PrincipalIn(id="dup", kind="service", name="d", roles=[Role.INTEGRATION])
    await create(backend_store, data, actor="t", now=1)
    with pytest.raises(Conflict):
        await create(backend_store, data, actor="t", now=1)
