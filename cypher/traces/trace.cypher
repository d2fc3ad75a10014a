// A run's trace: its tasks (each is a span) with the decisions ON them (routing, claims,
// completions, retries, context reads, facts, proposals, reviews; a claim is its
// ASSIGNED_TO {via: 'claim'} edge), and the run-level
// decisions IN it (run, steps, merges, approvals), each with the facts it SAW and what it
// PRODUCED. Hot-path decisions carry only what they add; their trace and parent span are
// their task's.
MATCH (r:Run {id: $runId})
OPTIONAL MATCH (t:Task {runId: r.id})
OPTIONAL MATCH (td:Decision)-[:ON]->(t)
WITH r, t, collect(td) AS tds
OPTIONAL MATCH (t)-[c:ASSIGNED_TO {via: 'claim'}]->(ca:Agent)
WITH r, t, tds, collect({fence: c.fence, at: c.at, agentId: ca.id}) AS claims
WITH r, collect(CASE WHEN t IS NULL THEN null
                     ELSE {task: properties(t), ds: tds, claims: claims} END) AS tasks
OPTIONAL MATCH (rd:Decision)-[:IN]->(r)
WITH r, tasks, collect(rd) AS rds
WITH r, tasks, rds + reduce(acc = [], x IN tasks | acc + x.ds) AS everything
UNWIND (CASE WHEN size(everything) = 0 THEN [null] ELSE everything END) AS d
WITH DISTINCT r, tasks, d
OPTIONAL MATCH (d)-[:SAW]->(f:Fact)
WITH r, tasks, d, collect(f.id) AS saw
OPTIONAL MATCH (d)-[:PRODUCED]->(x)
WITH r, tasks, d, saw, collect(x.id) AS produced
RETURN properties(r) AS run,
       [t IN tasks | t.task] AS tasks,
       [t IN tasks | {taskId: t.task.id, claims: t.claims}] AS claims,
       collect(DISTINCT CASE WHEN d IS NULL THEN null
                             ELSE {span: properties(d), saw: saw, produced: produced} END) AS spans
