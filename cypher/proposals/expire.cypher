// Scheduler job: a pending proposal past its SLA at the top of its chain is settled by
// policy, never dropped: `onExpiry` 'approve' approves it, anything else rejects it. The task
// continues as after a human decision, and everyone it was routed to is told.
// No work, no write: the cheap check below ends the statement before the counter lock
// when there is nothing to do (an idle tick writes nothing, on either backend).
MATCH (g:Proposal {status: 'pending'})
WHERE g.escalateAt <= $now AND g.level + 1 >= size(g.chain)
WITH g
LIMIT 1
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (p:Proposal {status: 'pending'})-[:FOR]->(t:Task)
WHERE p.escalateAt <= $now AND p.level + 1 >= size(p.chain)
WITH c, p, t
LIMIT $limit
SET p.status = CASE WHEN p.onExpiry = 'approve' THEN 'approved' ELSE 'rejected' END,
    p.decidedBy = 'policy', p.decidedAt = $now, p.escalateAt = null,
    p.reason = 'no decision within the SLA at the top of the approval chain',
    t.status = CASE WHEN t.status = 'awaiting_approval' THEN 'running' ELSE t.status END,
    t.leaseUntil = $now + $leaseMs, t.updatedAt = $now
WITH c, p, t
OPTIONAL MATCH (p)-[:ROUTED_TO|ESCALATED_TO]->(o:Principal)
WITH c, p, t, collect(DISTINCT o.id) AS routed
WITH c, collect([p, t, routed]) AS done
WHERE size(done) > 0
WITH c, done, c.seq AS base
SET c.seq = base + size(done)
WITH done, base
UNWIND range(0, size(done) - 1) AS i
WITH done[i][0] AS p, done[i][1] AS t, done[i][2] AS routed, base + i + 1 AS seq
CREATE (e:Event {seq: seq, type: 'proposal.decided', at: $now, actor: 'policy',
                 subject: p.id, recipients: routed,
                 payload: '{"proposalId":"' + p.id + '","taskId":"' + t.id + '","agentId":"' +
                          p.agentId + '","decision":"' + p.status + '","fence":' +
                          toString(t.fence) + ',"expired":true}'})
CREATE (e)-[:ON]->(p)
RETURN count(e) AS expired
