"""Every GraphQL document the SDK sends, in one place.

``tests/unit/test_sdk_documents.py`` (in Baton's repository) validates each public string of
this module against ``schema.graphql``, so a schema change that would break the SDK fails the
server's suite. Names ending in ``_FIELDS`` are selections spliced into the documents, not
documents themselves.
"""

from __future__ import annotations

# -- Agent: the worker loop (agent.py) ----------------------------------------------------

TASK_FIELDS = (
    "id kind capability priority payload fence attempts maxAttempts entities resources "
    "runId parentId rounds feedback traceparent"
)
EVENT_HEAD = "{ eventHead }"
REGISTER = """mutation($i: RegisterAgentInput!) { registerAgent(input: $i) { id status } }"""
ASSIGNED = f"""subscription($a: String!, $after: Long) {{
  taskAssigned(agentId: $a, after: $after) {{
    seq type taskId fence proposalId decision task {{ {TASK_FIELDS} }} }}
}}"""
CLAIM = f"""mutation($a: String!, $n: Int!) {{
  claimTasks(agentId: $a, max: $n) {{ {TASK_FIELDS} }} }}"""
START = "mutation($t: String!, $a: String!, $f: Int!) { startTask(taskId: $t, agentId: $a, fence: $f) { id } }"  # noqa: E501
COMPLETE_MANY = """mutation($a: String!, $items: [CompletionInput!]!) {
  completeTasks(agentId: $a, items: $items) }"""
FAIL = """mutation($t: String!, $a: String!, $f: Int!, $e: String!, $r: Boolean!, $d: JSON) {
  failTask(taskId: $t, agentId: $a, fence: $f, error: $e, retryable: $r, details: $d) { status }
}"""
HEARTBEAT = """mutation($a: String!, $l: [LeaseInput!]) {
  heartbeat(agentId: $a, leases: $l) { status lost } }"""
MINE = f"""query($a: String!) {{
  assigned: tasks(agentId: $a, status: "assigned", first: 100) {{ nodes {{ {TASK_FIELDS} }} }}
  running: tasks(agentId: $a, status: "running", first: 100) {{ nodes {{ {TASK_FIELDS} }} }}
}}"""
PAUSE = """mutation($a: String!) { setAgentStatus(agentId: $a, status: PAUSED) { id } }"""

# -- Agent: what a handler does through its TaskContext ----------------------------------

FACT_FIELDS = "id key value confidence agentId entityId distance"
CONTEXT_FOR_TASK = (
    f"query($t: String!, $h: Int!) {{ contextForTask(taskId: $t, hops: $h) {{ {FACT_FIELDS} }} }}"  # noqa: E501
)
CONTEXT_AS_AGENT = f"query($e: String!, $a: String!, $h: Int!, $t: String) {{ context(entityId: $e, agentId: $a, hops: $h, taskId: $t) {{ {FACT_FIELDS} }} }}"  # noqa: E501
ASSERT_FACT = "mutation($i: AssertFactInput!) { assertFact(input: $i) { fact { id } } }"
PROPOSE = "mutation($i: ProposeActionInput!) { proposeAction(input: $i) { id status } }"
PROPOSAL = "query($id: ID!) { proposal(id: $id) { id status payload modifiedPayload reason } }"
SUBMIT_CHILD = """mutation($i: SubmitTaskInput!) { submitTask(input: $i) { id } }"""
SUB_TASK = """query($id: ID!) { task(id: $id) { id status result feedback rounds review } }"""
REVIEW = """mutation($a: String!, $t: String!, $ok: Boolean!, $f: String!) {
  reviewTask(agentId: $a, taskId: $t, accept: $ok, feedback: $f) { id status rounds } }"""

# -- Client: the blocking client for scripts (client.py) ---------------------------------

CLIENT_TASK_FIELDS = (
    "id kind capability priority status payload result fence attempts agentId errors"  # noqa: E501
)
CLIENT_SUBMIT_TASK = (
    f"mutation($i: SubmitTaskInput!) {{ submitTask(input: $i) {{ {CLIENT_TASK_FIELDS} }} }}"  # noqa: E501
)
CLIENT_TASK = f"query($id: ID!) {{ task(id: $id) {{ {CLIENT_TASK_FIELDS} }} }}"
CLIENT_CONTEXT = (
    "query($e: String!, $a: String, $h: Int!) { context(entityId: $e, agentId: $a, "
    "hops: $h) { id key value confidence agentId distance } }"
)
CLIENT_EVENTS = (
    "query($a: Long, $n: Int!) { events(after: $a, first: $n) { nodes { seq type "
    "actor subject payload } pageInfo { endCursor hasNextPage } } }"
)

SEARCH_HIT_FIELDS = (
    "type id score domain key value entityId confidence name kind signals { vector text distance }"
)
SEARCH = (
    "query($q: String!, $near: String, $k: [String!], $n: Int!, $t: String) { "
    "searchContext(text: $q, near: $near, kinds: $k, first: $n, taskId: $t) { "
    + SEARCH_HIT_FIELDS
    + " } }"
)

# -- MCP: the tools of `baton mcp` (mcp.py) -----------------------------------------------

MCP_FACT_FIELDS = "id key value confidence agentId entityId distance observedAt"
MCP_ME = "{ me { id agentId } }"
MCP_CONTEXT = f"query($e: String!, $a: String, $h: Int!) {{ context(entityId: $e, agentId: $a, hops: $h) {{ {MCP_FACT_FIELDS} }} }}"  # noqa: E501
MCP_ASSERT_FACT = (
    "mutation($i: AssertFactInput!) { assertFact(input: $i) { fact { id } superseded "
    "contradicted recipients } }"
)
MCP_PROPOSE = (
    "mutation($i: ProposeActionInput!) { proposeAction(input: $i) { id status "
    "threshold routedTo } }"
)
MCP_CLAIM = (
    "mutation($a: String!, $c: String) { claimTask(agentId: $a, capability: $c) "
    "{ id kind capability payload fence entities } }"
)
MCP_COMPLETE = (
    "mutation($t: String!, $a: String!, $f: Int!, $r: JSON, $c: Float!) { completeTask("
    "taskId: $t, agentId: $a, fence: $f, result: $r, costUsd: $c) { id status } }"
)
MCP_LINEAGE = (
    "query($id: ID!, $d: Direction!, $n: Int!) { lineage(id: $id, direction: $d, "
    "depth: $n) { nodes { id label props } edges { from type to } } }"
)
