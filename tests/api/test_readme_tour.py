"""Issue 21: the README tour is a tested artifact. Every fenced block marked ``<!-- tour -->``
in README.md runs, in order, against the real app (seeded, scheduler on, as `make run`
serves it), exactly as a newcomer would paste it into one shell: bash blocks line by line
(with the ``gql``/``agent`` helpers the README defines), GraphQL blocks through HTTP or, for
subscriptions, a WebSocket until the first event (``<!-- tour as=VAR -->`` names the shell
variable holding the token to use). A command fails the test when it exits non-zero, when a
helper's answer has ``errors`` or a ``null`` root field (unless the line says ``may be
null``), or when a ``| pick`` of a documented field finds nothing."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.core import seed
from tests.conftest import App, fresh_name, start_app, stop_app
from tests.support.graphs import GraphTarget
from tests.support.procs import CHECKOUT_PATH

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
MARK = re.compile(r"<!-- tour(?P<args>[^>]*)-->\s*\n```(?P<lang>\w+)\n(?P<body>.*?)\n```", re.S)
HELPER = re.compile(r"^(gql|agent|alice) '")
PACE_S = 0.4  # a human pastes one line at a time: push routing has done its work by then


@dataclass
class Command:
    block: int
    text: str
    lang: str


def tour_commands(readme: str) -> list[Command]:
    """The marked blocks' commands, in README order."""
    out: list[Command] = []
    for i, m in enumerate(MARK.finditer(readme)):
        body, lang = m["body"], m["lang"]
        if lang == "graphql":
            var = dict(a.split("=", 1) for a in m["args"].split() if "=" in a).get("as", "TOKEN")
            out.append(Command(i, f"{var}\n{body}", lang))
            continue
        assert lang == "bash", f"tour block {i} is {lang}"
        pending = ""
        for line in body.splitlines():
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            line, pending = pending + line, ""
            if line.strip() and not line.lstrip().startswith("#"):
                out.append(Command(i, line, lang))
    return out


def script(commands: list[Command]) -> str:
    parts = []
    for n, c in enumerate(commands):
        if c.lang == "graphql":
            var, op = c.text.split("\n", 1)
            run = (
                f'"{sys.executable}" -m tests.support.tour "$BATON" "${var}" '
                f"<<'__GQL__'\n{op}\n__GQL__"
            )
        else:
            run = c.text
        parts.append(f'sleep {PACE_S}\n{run}\necho "@@TOUR {n} $?"')
    return "\n".join(parts) + "\n"


@pytest.fixture
async def served(graph: GraphTarget) -> AsyncIterator[App]:
    app = await start_app(graph, fresh_name(), scheduler=True)
    await seed.load(app.store, REPO / "seeds", now=app.rt.now())
    yield app
    await app.store.drop_all()
    await stop_app(app)


def check(c: Command, output: str, status: int) -> None:
    where = f"README tour block {c.block}: {c.text}\n--> {output}"
    assert status == 0, where
    if "| pick " in c.text:
        assert output.strip() and "None" not in output, where
    if HELPER.match(c.text):
        try:
            body = json.loads(output)
        except ValueError:
            raise AssertionError(f"not a JSON answer: {where}") from None
        assert not body.get("errors"), where
        if "may be null" not in c.text:
            assert all(v is not None for v in body["data"].values()), where


@pytest.mark.timeout(400)
async def test_readme_tour_runs_as_pasted(served: App, tmp_path: Path) -> None:
    readme = README.read_text().replace("http://127.0.0.1:8000", served.url)
    commands = tour_commands(readme)
    assert len(commands) >= 30, "the tour lost its examples"
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "admin-token").write_text((served.admin.token or "") + "\n")  # as `make run` keeps it
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    env.update({"BATON_DATA_DIR": str(data), "PYTHONPATH": CHECKOUT_PATH})
    proc = await asyncio.create_subprocess_exec(
        "bash",
        "--noprofile",
        "--norc",
        "-s",
        cwd=REPO,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(script(commands).encode()), 360)
    text = out.decode()
    chunks = re.split(r"^@@TOUR (\d+) (\d+)$\n?", text, flags=re.M)
    seen = 0
    for i in range(1, len(chunks), 3):
        n, status, output = int(chunks[i]), int(chunks[i + 1]), chunks[i - 1]
        check(commands[n], output.strip(), status)
        seen += 1
    assert seen == len(commands), text[-3000:]
