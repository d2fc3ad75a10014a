// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block reads the caller's readable domains
// and cleared labels off its own node (readDomains / readLabels, kept by the statements that
// change memberships and grants); then each row is filtered by its label's readable clause
// (fact, entity, task, proposal; the generic one where labels mix), each the same text in
// every statement (tests/security/test_grant_clause.py checks it).
// Several runs ($ids) as the caller may see them, each as runs/state_for answers for one
// (the batched read behind the GraphQL Run type's steps in a list; one row per run that
// exists, in no particular order). runs/state_for's own notes, for each run:
// One run as the caller may see it (the API's `run`; the engine reads runs/state). A run is
// open to the caller when it may read every task of the run (and there is one): only then
// does it see the run's result and error, and the result and note of a step without a task
// (a join merges its inputs' results). A step's result and note follow its own task, an
// approval's payload its proposal. Whoever started the run also sees its input and trigger.
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
UNWIND coalesce($ids, []) AS id
MATCH (r:Run {id: id})-[:INSTANCE_OF]->(w:Workflow)
OPTIONAL MATCH (n:Task {runId: r.id})
WITH domains, cleared, r, w,
     collect(CASE WHEN n IS NOT NULL THEN coalesce($all OR (n.agentId = $agentId OR n.submittedBy = $callerId
      OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id] WHERE y IN domains)), false) END) AS oks
WITH domains, cleared, r, w, $all OR (size(oks) > 0 AND all(x IN oks WHERE x)) AS open
OPTIONAL MATCH (s:Step)-[:STEP_OF]->(r)
OPTIONAL MATCH (n:Task {id: s.taskId})
WITH domains, cleared, r, w, open, s, n AS t,
     CASE WHEN n IS NULL THEN open ELSE coalesce($all OR (n.agentId = $agentId OR n.submittedBy = $callerId
      OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id] WHERE y IN domains)), false) END AS stepOk
OPTIONAL MATCH (n:Proposal {id: s.proposalId})
WITH r, w, open, s, t, stepOk, n AS p, coalesce($all OR (n.agentId = $agentId
      OR size([(n)-[:ROUTED_TO|ESCALATED_TO]->(h:Principal {id: $callerId}) | h.id]) > 0
      OR all(y IN [(n)-[:FOR]->(:Task)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(pd:Domain) | pd.id]
             WHERE y IN domains)), false) AS proposalOk
ORDER BY s.index
RETURN CASE WHEN open THEN properties(r)
            WHEN r.startedBy = $callerId THEN r {.*, result: null, error: null, _hidden: true}
            ELSE r {.*, input: null, trigger: null, result: null, error: null, _hidden: true}
       END AS run,
       w.definition AS definition,
       collect(CASE WHEN s IS NULL THEN null ELSE
         {step: CASE WHEN stepOk THEN properties(s) ELSE s {.*, result: null, note: null} END,
          taskStatus: t.status, taskResult: CASE WHEN stepOk THEN t.result END,
          taskAgent: t.agentId, taskFence: t.fence, taskErrors: [], taskCost: t.costUsd,
          proposalStatus: p.status, proposalPayload: CASE WHEN proposalOk THEN p.payload END,
          proposalModified: CASE WHEN proposalOk THEN p.modifiedPayload END,
          decidedBy: p.decidedBy, reason: CASE WHEN proposalOk THEN p.reason END}
       END) AS steps
