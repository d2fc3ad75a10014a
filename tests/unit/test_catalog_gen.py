"""The Backstage catalog generator (bench/catalog_gen.py) and what it is for: the committed
realistic fixture (tests/fixtures/backstage-org) is exactly what the generator writes and reads
back with nothing rejected; the same seed writes the same bytes; a "1% changed" catalog
differs only in descriptions; `--invalid K` gives exactly K rejections with file and line;
and the import bench (bench/import.py) produces its JSON up to, and through, an importer that
keeps the CLI's contract (a stand-in here: the real one is issue 24's)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from app.connectors import backstage
from app.connectors.model import Snapshot

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "backstage-org"
EXPECTED = {
    "domain": 6,
    "system": 15,
    "component": 95,
    "api": 33,
    "resource": 42,
    "group": 19,
    "user": 90,
}


def _load_generator() -> ModuleType:
    """bench/ is scripts, not a package: load the one module by path (putting bench/ on
    sys.path would let its `context.py` or `metrics.py` shadow other imports)."""
    spec = importlib.util.spec_from_file_location("catalog_gen", REPO / "bench" / "catalog_gen.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["catalog_gen"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.yaml"))}


def _read(root: Path) -> Snapshot:
    return backstage.read(root / "catalog-info.yaml")


def test_the_committed_fixture_reads_back_whole_and_looks_like_an_org() -> None:
    snap = _read(FIXTURE)
    assert snap.rejected == [] and snap.skipped == []
    recs = snap.records
    assert Counter(r.kind for r in recs.values()) == EXPECTED and len(recs) == 300
    assert {"user:default/yuki.costa", "user:analytics/yuki.costa"} <= set(recs)
    assert {r.namespace for r in recs.values()} == {"default", "analytics", "security"}
    assert set(snap.domains) == {
        "payments",
        "commerce",
        "analytics/data",
        "security/identity",
        "logistics",
        "platform",
    }
    owned = [r for r in recs.values() if r.kind in ("system", "component", "api", "resource")]
    for r in owned:  # every one owned by a group, part of something, in a Baton domain
        rels = dict(r.relations)
        assert rels["OWNED_BY"].startswith("group:") and "PART_OF" in rels and r.domain, r.id
    comps = [r for r in recs.values() if r.kind == "component"]
    assert {c.attrs["type"] for c in comps} == {"service", "website", "library"}
    assert all(c.attrs["sourceLocation"].startswith("url:https://github.com/acme/") for c in comps)
    assert all("kubernetesId" in c.attrs for c in comps if c.attrs["type"] == "service")
    assert len({c.attrs["description"] for c in comps}) > 0.9 * len(comps)  # varied sentences
    deps = [(c, to) for c in comps for rel, to in c.relations if rel == "DEPENDS_ON"]
    assert any(to.startswith("resource:") for _, to in deps)
    assert any(recs[to].domain != c.domain for c, to in deps)  # some cross their domain
    assert any(
        rel == "CONSUMES" and recs[to].namespace != c.namespace
        for c in comps
        for rel, to in c.relations
    )
    groups = [r for r in recs.values() if r.kind == "group"]
    assert [g.id for g in groups if not g.relations] == ["group:default/acme"]  # one root
    assert all(1 <= len(u.members) <= 2 for u in recs.values() if u.kind == "user")
    text = "".join(p.read_text() for p in (FIXTURE / "domains").glob("*.yaml"))
    for form in ("owner: group:default/", "owner: group:", "system: default/", "- api:"):
        assert form in text  # refs are written in every form Backstage allows
    assert any(
        line.strip().startswith("owner: ") and ":" not in line.split("owner: ")[1]
        for line in text.splitlines()
    )  # and short: `owner: card-team`


def test_the_fixture_is_what_the_generator_writes(tmp_path: Path) -> None:
    counts = gen.generate(tmp_path, 300, seed=7)
    assert counts == {**EXPECTED, "invalid": 0, "changed": 0}
    assert _files(tmp_path) == _files(FIXTURE), "regenerate it: see its README.md"


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        gen.generate(tmp_path / name, 1_000, seed=seed)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a") != _files(tmp_path / "c")


def _without_description(rec: Any) -> dict[str, Any]:
    body = dataclasses.asdict(rec)
    body["attrs"].pop("description", None)
    return dict(body)


def test_a_change_fraction_rewrites_descriptions_and_nothing_else(tmp_path: Path) -> None:
    n = 2_000
    gen.generate(tmp_path / "base", n)
    counts = gen.generate(tmp_path / "changed", n, change_fraction=0.01)
    assert counts["changed"] == 20  # 1% of the catalog
    before, after = _read(tmp_path / "base"), _read(tmp_path / "changed")
    assert list(before.records) == list(after.records) and not after.rejected
    after_of = {i: r.attrs.get("description") for i, r in after.records.items()}
    differ = [i for i, r in before.records.items() if r.attrs.get("description") != after_of[i]]
    assert len(differ) == 20
    assert {before.records[i].kind for i in differ} <= {"component", "api"}
    for i, rec in before.records.items():
        assert _without_description(rec) == _without_description(after.records[i]), i
    lines = 0
    for rel, old in _files(tmp_path / "base").items():
        new = (tmp_path / "changed" / rel).read_bytes()
        pairs = zip(old.splitlines(), new.splitlines(), strict=True)
        changed = [(a, b) for a, b in pairs if a != b]
        assert all(a.strip().startswith(b"description:") for a, _ in changed), rel
        lines += len(changed)
    assert lines == 20


@pytest.mark.parametrize("k", [3, 7])
def test_invalid_documents_are_rejected_with_their_file_and_line(tmp_path: Path, k: int) -> None:
    counts = gen.generate(tmp_path, 300, invalid=k)
    assert counts["invalid"] == k
    snap = _read(tmp_path)
    assert len(snap.records) == 300 and not snap.skipped
    assert len(snap.rejected) == k
    assert {r.file for r in snap.rejected} == {"invalid.yaml"}
    text = (tmp_path / "invalid.yaml").read_text().splitlines()
    starts = [i + 1 for i, line in enumerate(text) if line.startswith("apiVersion:")]
    assert sorted(r.line for r in snap.rejected) == starts  # each at its own document
    reasons = " | ".join(r.reason for r in snap.rejected)
    for why in ("has no spec.owner", "not a catalog entity", "does-not-exist"):
        assert why in reasons


def test_the_plan_adds_up_to_the_entities_asked_for() -> None:
    for n in (100, 300, 1_000, 50_000):
        counts = gen.plan(n)
        assert sum(counts.values()) == n and min(counts.values()) > 0
    assert gen.plan(50_000)["domain"] == len(gen.DOMAINS)
    with pytest.raises(ValueError):
        gen.plan(99)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_fifty_thousand_entities_generate_and_read_back(tmp_path: Path) -> None:
    counts = gen.generate(tmp_path, 50_000)
    snap = _read(tmp_path)
    assert not snap.rejected and not snap.skipped
    assert len(snap.records) == 50_000
    assert Counter(r.kind for r in snap.records.values()) == {
        k: v for k, v in counts.items() if k not in ("invalid", "changed")
    }


def _bench(*args: str) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "import.py"), "--json", *args],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=REPO,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def test_the_import_bench_generates_and_reads_without_an_importer() -> None:
    m = _bench("--generate-only", "--entities", "300")
    assert m["mode"] == "generate-only" and "machine" in m
    assert m["read_records"] == 300 and m["read_rejected"] == 0 and m["changed_entities"] == 3
    assert m["generate_s"] > 0 and m["read_s"] > 0 and sum(m["kinds"].values()) == 300


# A stand-in for `baton import --format backstage PATH --json` keeping its contract: the
# Backstage reader, one digest per record kept in the data dir, the counts as the last line.
FAKE_IMPORTER = """
    import json, os, sys
    from pathlib import Path
    sys.path.insert(0, os.getcwd())
    from app.connectors import backstage

    assert sys.argv[1:4] == ["import", "--format", "backstage"] and sys.argv[-1] == "--json"
    snap = backstage.read(Path(sys.argv[4]))
    state = Path(os.environ["BATON_DATA_DIR"]) / "digests.json"
    old = json.loads(state.read_text()) if state.exists() else {}
    new = {i: r.digest() for i, r in snap.records.items()}
    c = {"created": sum(i not in old for i in new),
         "updated": sum(i in old and old[i] != d for i, d in new.items()),
         "retired": sum(i not in new for i in old), "revived": 0,
         "unchanged": sum(old.get(i) == d for i, d in new.items()),
         "rejected": len(snap.rejected)}
    c["events"] = c["created"] + c["updated"] + c["retired"]
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps(new))
    print("importing ...")
    print(json.dumps(c))
"""


def test_the_import_bench_measures_an_importer_that_keeps_the_contract(tmp_path: Path) -> None:
    fake = tmp_path / "fake_baton.py"
    fake.write_text(textwrap.dedent(FAKE_IMPORTER))
    m = _bench("--entities", "300", "--cli", f"{sys.executable} {fake}")
    assert m["import"]["created"] == 300 and m["import"]["events"] == 300
    assert m["resync_events"] == 0 and m["resync"]["unchanged"] == 300
    assert m["changed_entities"] == 3 and m["changed"]["updated"] == 3
    assert m["changed_events"] == 3
    assert m["import_complete"] and m["changed_proportional"] and m["resync_target_met"]
    assert m["import_s"] > 0 and m["import_entities_per_s"] > 0
    assert m["backend"] == "falkordb-embedded" and m["target_import_s"] == 60.0
