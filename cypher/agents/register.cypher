// Register (or re-register) an agent: online now, MEMBER_OF its team, in $mode ('push':
// the routing job assigns it work; 'pull': only claims give it work). Idempotent by id:
// re-registering updates capabilities and limits but keeps load counters and history.
// Team membership is granted, never taken: an admin ($admin) may name any team; anyone else
// only the agent's current team, or (an agent with none yet) the team an admin granted its
// principal ($principalId's `team`, set by createPrincipal). A change of team is audited as
// `agent.team_changed` with before and after.
// Its readable domains and cleared labels (readDomains / readLabels) are recomputed from
// its team's grants here.
// No row back means the team does not exist, or the caller may not put the agent in it
// (nothing written; the caller tells which).
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
OPTIONAL MATCH (tm:Team {id: coalesce($team, '')})
WITH c, tm
WHERE $team IS NULL OR tm IS NOT NULL
OPTIONAL MATCH (cur:Agent {id: coalesce($id, '')})
OPTIONAL MATCH (pr:Principal {id: coalesce($principalId, '')})
WITH c, tm, cur.team AS before, pr.team AS granted
WHERE $admin OR $team IS NULL OR $team = coalesce(before, granted)
MERGE (a:Agent {id: $id})
ON CREATE SET a.createdAt = $now, a.active = 0, a.done = 0, a.failed = 0
SET a.name = $name, a.kind = $kind, a.capabilities = $capabilities,
    a.declaredMax = $maxConcurrency,
    a.maxConcurrency = CASE WHEN a.pMaxConcurrent < $maxConcurrency THEN a.pMaxConcurrent
                            ELSE $maxConcurrency END,
    a.costPerCall = $costPerCall,
    a.webhookUrl = $webhookUrl, a.webhookSecret = $webhookSecret,
    a.team = coalesce($team, a.team), a.status = 'online', a.mode = $mode,
    a.lastHeartbeat = $now, a.active = coalesce(a.active, 0)
WITH c, tm, a, before
OPTIONAL MATCH (a)-[old:MEMBER_OF]->(other:Team)
WHERE tm IS NOT NULL AND other.id <> tm.id
DELETE old
WITH DISTINCT c, tm, a, before
FOREACH (_ IN CASE WHEN tm IS NULL THEN [] ELSE [1] END | MERGE (a)-[:MEMBER_OF]->(tm))
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'agent.registered', at: $now, actor: $actor, subject: a.id,
                 agentId: a.id, payload: $payload})
CREATE (e)-[:ON]->(a)
FOREACH (_ IN CASE WHEN $team IS NOT NULL AND coalesce(before, '') <> $team THEN [1]
              ELSE [] END |
  SET c.seq = c.seq + 1
  CREATE (t:Event {seq: c.seq, type: 'agent.team_changed', at: $now, actor: $actor,
                   subject: a.id, agentId: a.id,
                   payload: '{"agentId":"' + a.id + '","before":' +
                            CASE WHEN before IS NULL THEN 'null' ELSE '"' + before + '"' END +
                            ',"after":"' + $team + '"}'})
  CREATE (t)-[:ON]->(a))
WITH a AS reader
WITH reader, [(reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(gd:Domain) | gd.id] AS gds,
     [(reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(gl:Label) | gl.name] AS gls
FOREACH (_ IN CASE WHEN reader IS NULL THEN [] ELSE [1] END |
  SET reader.readDomains = reduce(s = [], g IN gds | CASE WHEN g IN s THEN s ELSE s + g END),
      reader.readLabels = reduce(s = [], g IN gls | CASE WHEN g IN s THEN s ELSE s + g END))
RETURN properties(reader) AS agent
