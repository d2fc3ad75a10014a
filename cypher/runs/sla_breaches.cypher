// Scheduler job: tasks and runs past their deadline, not yet flagged, are flagged once and
// each gets an `sla.breached` event (which triggers can turn into an escalation run).
// No work, no write: the cheap check below ends the statement before the counter lock
// when nothing is past its deadline (an idle tick writes nothing, on either backend).
OPTIONAL MATCH (gt:Task)
WHERE gt.status IN ['queued', 'assigned', 'running', 'awaiting_approval', 'deferred']
  AND gt.deadline < $now AND gt.slaBreachedAt IS NULL
WITH gt
LIMIT 1
OPTIONAL MATCH (gr:Run {status: 'running'})
WHERE gr.deadline < $now AND gr.slaBreachedAt IS NULL
WITH gt, gr
LIMIT 1
WITH 1 AS due
WHERE gt IS NOT NULL OR gr IS NOT NULL
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
OPTIONAL MATCH (t:Task)
WHERE t.deadline IS NOT NULL AND t.deadline < $now AND t.slaBreachedAt IS NULL
  AND t.status IN ['queued', 'assigned', 'running', 'awaiting_approval', 'deferred']
WITH c, collect(t)[..$limit] AS tasks
OPTIONAL MATCH (r:Run {status: 'running'})
WHERE r.deadline IS NOT NULL AND r.deadline < $now AND r.slaBreachedAt IS NULL
WITH c, tasks, collect(r)[..$limit] AS runs
WITH c, [x IN tasks | [x, 'task', x.capability]] + [x IN runs | [x, 'run', x.workflow]] AS due
WHERE size(due) > 0
WITH c, due, c.seq AS base
SET c.seq = base + size(due)
WITH due, base
UNWIND range(0, size(due) - 1) AS i
WITH due[i][0] AS x, due[i][1] AS kind, due[i][2] AS what, base + i + 1 AS seq
SET x.slaBreachedAt = $now
CREATE (e:Event {seq: seq, type: 'sla.breached', at: $now, actor: 'scheduler', subject: x.id,
                 key: 'sla:' + x.id,
                 payload: '{"kind":"' + kind + '","id":"' + x.id + '","what":"' + what +
                          '","deadline":' + toString(x.deadline) + ',"runId":' +
                          CASE WHEN x.runId IS NULL THEN 'null'
                               ELSE '"' + x.runId + '"' END + '}'})
CREATE (e)-[:ON]->(x)
RETURN count(e) AS breached
