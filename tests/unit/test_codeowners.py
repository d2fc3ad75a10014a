"""Reading CODEOWNERS (tests/fixtures/codeowners, written for these tests, for the teams of
tests/fixtures/backstage): the last matching rule owns a component's directory, a rule with
no owners un-owns, GitLab sections combine, only known teams become owners, and every
owner or pattern that cannot be used is reported with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.connectors import codeowners
from app.connectors.model import ConnectorError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "codeowners"
GROUPS = {
    "group:default/platform",
    "group:default/payments-team",
    "group:default/web-team",
    "group:ops/sre",
}
OWNER_MAP = {"@acme/sre-oncall": "group:ops/sre"}
REPO = "https://github.com/acme/payments"
COMPONENTS = {
    "component:default/payments-monorepo": "url:https://github.com/acme/payments",
    "component:default/payments-api": "url:https://github.com/acme/payments/tree/main/services/payments-api/",
    "component:default/ledger": "url:https://github.com/Acme/Payments/blob/main/services/ledger",
    "component:default/ledger-docs": "url:https://github.com/acme/payments/tree/main/services/ledger/docs",
    "component:default/fraud": "https://github.com/acme/payments/tree/main/services/fraud/",
    "component:default/legacy": "github.com/acme/payments/tree/main/services/legacy",
    "component:default/deploy-tools": "url:https://github.com/acme/payments/tree/main/deploy",
    "component:default/sandbox": "url:https://github.com/acme/payments/tree/main/sandbox/",
    "component:default/checkout-api": "url:https://github.com/acme/storefront/tree/main/api",
    "component:default/payments-apiary": "url:https://github.com/acme/payments-apiary/tree/main/services",
}


def owners(snap: codeowners.Snapshot, cid: str) -> list[str]:
    rec = snap.records[cid]
    assert (
        rec.partial and rec.kind == "component" and all(t == "OWNED_BY" for t, _ in rec.relations)
    )
    return [g for _, g in rec.relations]


def test_locations_normalise_to_repository_and_path() -> None:
    n = codeowners.normalise
    assert n("https://github.com/acme/payments") == ("acme/payments", "")
    assert n("acme/payments") == ("acme/payments", "")
    assert n("git@github.com:Acme/payments.git") == ("acme/payments", "")
    assert n("https://github.com/acme/payments.git/") == ("acme/payments", "")
    assert n("url:https://github.com/acme/payments/tree/main/services/ledger/") == (
        "acme/payments",
        "services/ledger",
    )
    assert n("url:https://github.com/acme/payments/blob/v2/services/ledger?plain=1") == (
        "acme/payments",
        "services/ledger",
    )
    assert n("url:https://gitlab.acme.example/acme/money/payments/-/tree/main/docs") == (
        "acme/money/payments",
        "docs",
    )
    assert n("url:https://git.acme.example/payments/payments-api") == ("payments/payments-api", "")


def test_github_codeowners_last_match_wins_and_only_known_teams_own() -> None:
    snap = codeowners.read(
        FIXTURES / "github" / ".github" / "CODEOWNERS",
        repo=REPO,
        components=COMPONENTS,
        groups=GROUPS,
        owner_map=OWNER_MAP,
    )
    assert snap.files == ["CODEOWNERS"]
    assert owners(snap, "component:default/payments-monorepo") == ["group:default/platform"]
    assert owners(snap, "component:default/payments-api") == ["group:default/payments-team"]
    # `@acme/Payments-Team` is the same team; the email on that line is not a team
    assert owners(snap, "component:default/ledger") == ["group:default/payments-team"]
    assert snap.records["component:default/ledger"].line == 7
    assert owners(snap, "component:default/ledger-docs") == ["group:default/web-team"]
    assert owners(snap, "component:default/deploy-tools") == ["group:ops/sre"]  # owner_map
    # line 16 (a negation) is invalid, so line 6 still owns services/legacy
    assert owners(snap, "component:default/legacy") == ["group:default/payments-team"]
    rec = snap.records["component:default/payments-api"]
    assert (rec.name, rec.namespace, rec.file, rec.line) == (
        "payments-api",
        "default",
        "CODEOWNERS",
        6,
    )
    # fraud's last match names an unknown team: it is not owned (line 6 does not apply);
    # sandbox is un-owned; other repositories' components are not this file's
    assert set(snap.records) == {
        f"component:default/{c}"
        for c in (
            "payments-monorepo",
            "payments-api",
            "ledger",
            "ledger-docs",
            "deploy-tools",
            "legacy",
        )
    }
    assert [(s.line, s.reason.split(":")[1]) for s in snap.skipped] == [
        (8, "default/fraud"),
        (13, "default/sandbox"),
    ]
    assert [(r.file, r.line, r.reason) for r in snap.rejected] == [
        ("CODEOWNERS", 6, "owner @alice is not a known group"),
        ("CODEOWNERS", 7, "owner ledger-leads@acme.example is not a known group"),
        ("CODEOWNERS", 8, "owner @acme/risk-team is not a known group"),
        ("CODEOWNERS", 15, "pattern '/scripts/[a-z]*.sh': [ ] ranges are not CODEOWNERS syntax"),
        ("CODEOWNERS", 16, "pattern '!/services/legacy/': negation (!) is not CODEOWNERS syntax"),
    ]


def test_without_owner_map_the_unmapped_team_is_reported() -> None:
    snap = codeowners.read(
        FIXTURES / "github" / ".github" / "CODEOWNERS",
        repo="acme/payments",
        components=COMPONENTS,
        groups=GROUPS,
    )
    assert "component:default/deploy-tools" not in snap.records
    assert ("CODEOWNERS", 12, "owner @acme/sre-oncall is not a known group") in [
        (r.file, r.line, r.reason) for r in snap.rejected
    ]
    assert len(snap.records) == 5


def test_gitlab_sections_combine_and_take_their_default_owners() -> None:
    comps = {
        "component:default/payments-api": "url:https://gitlab.acme.example/acme/payments/-/tree/main/services/payments-api",
        "component:default/ledger": "url:https://gitlab.acme.example/acme/payments/-/blob/main/services/ledger/",
        "component:default/ledger-tmp": "gitlab.acme.example/acme/payments/-/tree/main/"
        "services/ledger/tmp",
        "component:default/payments-docs": "url:https://gitlab.acme.example/acme/payments/-/tree/main/docs",
    }
    snap = codeowners.read(
        FIXTURES / "gitlab" / "CODEOWNERS",
        repo="https://gitlab.acme.example/acme/payments.git",
        components=comps,
        groups=GROUPS,
        owner_map=OWNER_MAP,
    )
    assert owners(snap, "component:default/payments-api") == [
        "group:default/platform",
        "group:default/payments-team",
    ]
    assert owners(snap, "component:default/ledger") == ["group:default/platform", "group:ops/sre"]
    # [Security]'s rule without owners (and no section default) un-owns there only
    assert owners(snap, "component:default/ledger-tmp") == ["group:default/platform"]
    assert owners(snap, "component:default/payments-docs") == [
        "group:default/platform",
        "group:default/web-team",
    ]
    assert snap.rejected == [] and snap.skipped == []


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("*", ["a", "a/b/c"], []),
        ("*.js", ["x.js", "a/b/x.js"], ["x.jsx", "a/x.ts"]),
        ("/docs/", ["docs"], ["a/docs", "docs2"]),
        ("docs/", ["docs", "a/b/docs"], ["docs2"]),
        ("apps/*/docs", ["apps/web/docs"], ["apps/web/x/docs", "x/apps/web/docs"]),
        ("**/logs", ["logs", "a/b/logs"], ["a/logsx"]),
        ("/build/**", ["build/a", "build/a/b"], ["build", "x/build/a"]),
        ("a/**/b", ["a/b", "a/x/y/b"], ["a/xb"]),
        ("\\#notes", ["#notes"], ["notes"]),
        ("my\\ dir/", ["my dir"], ["my"]),
        ("file?.txt", ["file1.txt"], ["file12.txt", "file/.txt"]),
    ],
)
def test_patterns_follow_codeowners_gitignore_rules(
    pattern: str, matches: list[str], misses: list[str]
) -> None:
    regex = codeowners.pattern_regex(pattern)
    assert [p for p in matches if not regex.fullmatch(p)] == []
    assert [p for p in misses if regex.fullmatch(p)] == []


@pytest.mark.parametrize("bad", ["!x", "[ab].js", "a//b", "/", "x\\"])
def test_invalid_patterns_are_refused(bad: str) -> None:
    with pytest.raises(ConnectorError):
        codeowners.pattern_regex(bad)


def test_escaped_hash_inline_comments_and_a_bom(tmp_path: Path) -> None:
    (tmp_path / "CODEOWNERS").write_text(
        "\ufeff# a comment @acme/web-team\n"
        "\\#hash-dir/ @acme/web-team # @acme/platform is not an owner here\n"
        "   \n"
        "/tools/ @acme/platform\n"
        "/tools/ #only a comment: un-owned\n"
        "/my\\ tools/ @acme/platform\n"
    )
    comps = {
        "component:default/hash": "acme/payments/tree/main/%23hash-dir",
        "component:default/tools": "acme/payments/tree/main/tools",
        "component:default/my-tools": "acme/payments/tree/main/my%20tools/",
    }
    snap = codeowners.read(
        tmp_path / "CODEOWNERS", repo="acme/payments", components=comps, groups=GROUPS
    )
    assert {c: owners(snap, c) for c in snap.records} == {
        "component:default/hash": ["group:default/web-team"],
        "component:default/my-tools": ["group:default/platform"],
    }
    assert [(s.line, s.reason) for s in snap.skipped] == [
        (5, "component:default/tools: no team owns tools in CODEOWNERS")
    ]
    assert snap.rejected == []
