// A human decides a pending proposal: APPROVE, MODIFY (the edited payload is kept beside the
// original) or REJECT. Only a principal it was routed or escalated to (or an admin) may;
// under the lock exactly one decision wins. The task leaves awaiting_approval with a fresh
// lease, and the agent hears the outcome through taskAssigned (proposal.decided).
// No row back: unknown, already decided, or this principal may not decide it.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (p:Proposal {id: coalesce($id, '')})-[:FOR]->(t:Task)
WHERE p.status = 'pending'
MATCH (h:Principal {id: coalesce($principalId, '')})
WHERE $admin OR (p)-[:ROUTED_TO|ESCALATED_TO]->(h)
SET p.status = $status, p.decidedBy = h.id, p.decidedAt = $now, p.reason = $reason,
    p.modifiedPayload = $modified, p.escalateAt = null,
    t.status = CASE WHEN t.status = 'awaiting_approval' THEN 'running' ELSE t.status END,
    t.leaseUntil = $now + $leaseMs, t.updatedAt = $now
CREATE (p)-[:DECIDED_BY {at: $now, decision: $status}]->(h)
WITH c, p, t
OPTIONAL MATCH (p)-[:ROUTED_TO|ESCALATED_TO]->(o:Principal)
WITH c, p, t, collect(DISTINCT o.id) AS routed
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'proposal.decided', at: $now, actor: $principalId,
                 subject: p.id, recipients: routed,
                 payload: '{"proposalId":"' + p.id + '","taskId":"' + t.id + '","agentId":"' +
                          p.agentId + '","decision":"' + p.status + '","fence":' +
                          toString(t.fence) + '}'})
CREATE (e)-[:ON]->(p)
WITH p, t
MATCH (h:Principal {id: coalesce($principalId, '')})
OPTIONAL MATCH (t)-[:PART_OF]->(inRun:Run)
CREATE (d:Decision {id: p.id + '/decide', spanId: p.id + '/decide', traceId: t.traceId,
                    parentSpanId: p.id + '/propose', name: 'approval ' + p.status,
                    startedAt: p.createdAt, endedAt: $now, taskId: t.id, runId: t.runId,
                    principalId: h.id, attrs: '{"decision":"' + p.status + '"}'})
CREATE (d)-[:BY]->(h)
CREATE (d)-[:ON]->(p)
FOREACH (x IN CASE WHEN inRun IS NULL THEN [] ELSE [inRun] END | CREATE (d)-[:IN]->(x))
RETURN properties(p) AS proposal,
       [(p)-[:ROUTED_TO|ESCALATED_TO]->(r:Principal) | r.id] AS routedTo
