// Scheduler job: pending proposals past their SLA move up one level of their approval chain
// (ESCALATED_TO the next level's principals and team members), with a new SLA. Each level
// of `chain` is 'principal|principal|team:<id>'. The top level is handled by
// proposals/expire.
// No work, no write: the cheap check below ends the statement before the counter lock
// when there is nothing to do (an idle tick writes nothing, on either backend).
MATCH (g:Proposal {status: 'pending'})
WHERE g.escalateAt <= $now AND g.level + 1 < size(g.chain)
WITH g
LIMIT 1
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (p:Proposal {status: 'pending'})
WHERE p.escalateAt <= $now AND p.level + 1 < size(p.chain)
WITH c, p
LIMIT $limit
SET p.level = p.level + 1, p.escalateAt = $now + p.slaMs
WITH c, p, split(p.chain[p.level], '|') AS names
WITH c, p, [x IN names WHERE NOT x STARTS WITH 'team:'] AS ids,
     [x IN names WHERE x STARTS WITH 'team:' | substring(x, 5)] AS teams
OPTIONAL MATCH (h:Principal)
WHERE h.id IN ids
WITH c, p, teams, collect(h) AS named
OPTIONAL MATCH (m:Principal)-[:MEMBER_OF]->(tm:Team)
WHERE tm.id IN teams
WITH c, p, named, collect(m) AS members
WITH c, p, named + members AS humans
FOREACH (h IN humans | MERGE (p)-[:ESCALATED_TO {level: p.level, at: $now}]->(h))
WITH c, collect([p, [h IN humans | h.id]]) AS moved
WHERE size(moved) > 0
WITH c, moved, c.seq AS base
SET c.seq = base + size(moved)
WITH moved, base
UNWIND range(0, size(moved) - 1) AS i
WITH moved[i][0] AS p, moved[i][1] AS routed, base + i + 1 AS seq
CREATE (e:Event {seq: seq, type: 'proposal.escalated', at: $now, actor: 'scheduler',
                 subject: p.id, recipients: routed,
                 payload: '{"proposalId":"' + p.id + '","level":' + toString(p.level) + '}'})
CREATE (e)-[:ON]->(p)
RETURN count(e) AS escalated
