// A run as the engine needs it: the run, its definition, and every step with the status
// and result of the task (and proposal) behind it. One read per advance.
MATCH (r:Run {id: coalesce($id, '')})-[:INSTANCE_OF]->(w:Workflow)
OPTIONAL MATCH (s:Step)-[:STEP_OF]->(r)
OPTIONAL MATCH (t:Task {id: s.taskId})
OPTIONAL MATCH (p:Proposal {id: s.proposalId})
WITH r, w, s, t, p
ORDER BY s.index
RETURN properties(r) AS run, w.definition AS definition,
       collect(CASE WHEN s IS NULL THEN null ELSE
         {step: properties(s), taskStatus: t.status, taskResult: t.result,
          taskAgent: t.agentId, taskFence: t.fence, taskErrors: t.errors,
          taskCost: t.costUsd, proposalStatus: p.status, proposalPayload: p.payload,
          proposalModified: p.modifiedPayload, decidedBy: p.decidedBy, reason: p.reason}
       END) AS steps
