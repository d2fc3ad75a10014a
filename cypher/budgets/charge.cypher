// Charge uncharged cost entries to the budgets they fall under (agent, its team, the run),
// rolling a day/month budget into a new period when its period is over. A threshold
// (percent of the limit) crossed for the first time in the period emits budget.threshold,
// once; at the limit the budget is `exhausted` and routing stops new work under it.
// No work, no write: the cheap check below ends the statement before the counter lock
// when there is nothing to do (an idle tick writes nothing, on either backend).
MATCH (g:CostEntry {charged: false})
WITH g
LIMIT 1
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (ce:CostEntry {charged: false})
WITH c, ce
LIMIT $limit
SET ce.charged = true
WITH c, ce
MATCH (b:Budget)
WHERE (b.scope = 'agent' AND b.targetId = ce.agentId)
   OR (b.scope = 'team' AND b.targetId = ce.team)
   OR (b.scope = 'run' AND b.targetId = ce.runId)
   OR (b.scope = 'workflow' AND b.targetId = ce.workflowId)
WITH c, b, sum(ce.usd) AS amount
WITH c, b, amount,
     CASE b.period WHEN 'day' THEN $dayStart WHEN 'month' THEN $monthStart ELSE 0 END AS start
WITH c, b, amount, start, b.periodStart < start AS rolled
SET b.spentUsd = CASE WHEN rolled THEN 0.0 ELSE b.spentUsd END + amount,
    b.crossed = CASE WHEN rolled THEN [] ELSE b.crossed END,
    b.periodStart = CASE WHEN rolled THEN start ELSE b.periodStart END
WITH c, b,
     [th IN b.thresholds WHERE b.spentUsd * 100.0 >= th * b.limitUsd AND NOT th IN b.crossed]
       AS fresh
SET b.crossed = b.crossed + fresh, b.exhausted = b.spentUsd >= b.limitUsd
WITH c, b, fresh
UNWIND fresh AS th
WITH c, collect(b) AS bs, collect(th) AS ths
WHERE size(ths) > 0
WITH c, bs, ths, c.seq AS base
SET c.seq = base + size(ths)
WITH bs, ths, base
UNWIND range(0, size(ths) - 1) AS i
WITH bs[i] AS b, ths[i] AS th, base + i + 1 AS seq
CREATE (e:Event {seq: seq, type: 'budget.threshold', at: $now, actor: 'system', subject: b.id,
                 payload: '{"threshold":' + toString(th) + ',"scope":"' + b.scope +
                          '","targetId":"' + b.targetId + '"}'})
CREATE (e)-[:ON]->(b)
RETURN count(e) AS crossings
