// Create or change a budget on an agent, team, workflow or run: a USD limit per period
// (day | month | total, UTC) with threshold percentages. Raising the limit re-opens an
// exhausted budget and re-arms thresholds that are no longer crossed.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MERGE (b:Budget {id: $id})
ON CREATE SET b.spentUsd = 0.0, b.crossed = [], b.periodStart = $periodStart,
              b.createdAt = $now
SET b.scope = $scope, b.targetId = $targetId, b.limitUsd = $limitUsd, b.period = $period,
    b.thresholds = $thresholds, b.updatedAt = $now
WITH c, b
SET b.crossed = [th IN b.crossed WHERE b.spentUsd * 100.0 >= th * b.limitUsd],
    b.exhausted = b.spentUsd >= b.limitUsd, c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'budget.set', at: $now, actor: $actor, subject: b.id,
                 payload: $payload})
CREATE (e)-[:ON]->(b)
RETURN properties(b) AS budget
