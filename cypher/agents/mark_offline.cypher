// Scheduler job: agents silent for longer than the heartbeat window go offline and their
// leases end now, so the lease job re-queues their work on the same tick.
// No work, no write: the cheap check below ends the statement before the counter lock
// when there is nothing to do (an idle tick writes nothing, on either backend).
MATCH (g:Agent)
WHERE g.status IN ['online', 'paused'] AND g.lastHeartbeat < $cutoff
WITH g
LIMIT 1
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (a:Agent)
WHERE a.status IN ['online', 'paused'] AND a.lastHeartbeat < $cutoff
WITH c, collect(a) AS gone
WHERE size(gone) > 0
WITH c, gone, c.seq AS base
SET c.seq = base + size(gone)
WITH base, gone
UNWIND range(0, size(gone) - 1) AS i
WITH base + i + 1 AS seq, gone[i] AS a
SET a.status = 'offline'
CREATE (e:Event {seq: seq, type: 'agent.offline', at: $now, actor: 'scheduler', subject: a.id,
                 payload: '{"reason":"missed heartbeats"}'})
CREATE (e)-[:ON]->(a)
WITH a
OPTIONAL MATCH (t:Task {agentId: a.id})
WHERE t.status IN ['assigned', 'running']
SET t.leaseUntil = $now - 1
RETURN count(DISTINCT a) AS offline, count(t) AS released
