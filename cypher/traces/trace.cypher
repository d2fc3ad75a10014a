// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block reads the caller's readable domains
// and cleared labels off its own node (readDomains / readLabels, kept by the statements that
// change memberships and grants); then each row is filtered by its label's readable clause
// (fact, entity, task, proposal; the generic one where labels mix), each the same text in
// every statement (tests/security/test_grant_clause.py checks it).
// A run's trace: its tasks (each is a span) with the decisions ON them (routing, claims,
// completions, retries, context reads, facts, proposals, reviews; a claim is its
// ASSIGNED_TO {via: 'claim'} edge), and the run-level
// decisions IN it (run, steps, merges, approvals), each with the facts it SAW and what it
// PRODUCED. Hot-path decisions carry only what they add; their trace and parent span are
// their task's. As the caller may see it: a task it may not read is left out with the
// decisions on it, and SAW / PRODUCED name only what it may read.
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
MATCH (r:Run {id: coalesce($runId, '')})
OPTIONAL MATCH (n:Task {runId: r.id})
WITH domains, cleared, r, CASE WHEN coalesce($all OR (n.agentId = $agentId OR n.submittedBy = $callerId
      OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id] WHERE y IN domains)), false) THEN n END AS t
OPTIONAL MATCH (td:Decision)-[:ON]->(t)
WITH domains, cleared, r, t, collect(td) AS tds
OPTIONAL MATCH (t)-[c:ASSIGNED_TO {via: 'claim'}]->(ca:Agent)
WITH domains, cleared, r, t, tds, collect({fence: c.fence, at: c.at, agentId: ca.id}) AS claims
WITH domains, cleared, r,
     collect(CASE WHEN t IS NULL THEN null
                  ELSE {task: properties(t), ds: tds, claims: claims} END) AS tasks
OPTIONAL MATCH (rd:Decision)-[:IN]->(r)
WITH domains, cleared, r, tasks, collect(rd) AS rds
WITH domains, cleared, r, tasks, rds + reduce(acc = [], x IN tasks | acc + x.ds) AS everything
UNWIND (CASE WHEN size(everything) = 0 THEN [null] ELSE everything END) AS d
WITH DISTINCT domains, cleared, r, tasks, d
OPTIONAL MATCH (d)-[:SAW]->(f:Fact)
WITH domains, cleared, r, tasks, d,
     collect(CASE WHEN $all OR (f.domain IN domains AND (f.sensitivity IS NULL OR f.sensitivity IN cleared))
                  THEN f.id END) AS saw
OPTIONAL MATCH (d)-[:PRODUCED]->(n)
WITH domains, cleared, r, tasks, d, saw, n,
     coalesce($all OR NOT any(lb IN labels(n) WHERE lb IN ['Fact', 'Task', 'Proposal', 'Entity'])
  OR ('Fact' IN labels(n) AND (n.domain IN domains AND (n.sensitivity IS NULL OR n.sensitivity IN cleared)))
  OR ('Task' IN labels(n) AND (n.agentId = $agentId OR n.submittedBy = $callerId
      OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id] WHERE y IN domains)))
  OR ('Proposal' IN labels(n) AND (n.agentId = $agentId
      OR size([(n)-[:ROUTED_TO|ESCALATED_TO]->(h:Principal {id: $callerId}) | h.id]) > 0
      OR all(y IN [(n)-[:FOR]->(:Task)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(pd:Domain) | pd.id]
             WHERE y IN domains)))
  OR ('Entity' IN labels(n) AND (all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains))), false) AS ok
WITH r, tasks, d, saw, collect(CASE WHEN ok THEN n.id END) AS produced
RETURN properties(r) AS run,
       [t IN tasks | t.task] AS tasks,
       [t IN tasks | {taskId: t.task.id, claims: t.claims}] AS claims,
       collect(DISTINCT CASE WHEN d IS NULL THEN null
                             ELSE {span: properties(d), saw: saw, produced: produced} END) AS spans
