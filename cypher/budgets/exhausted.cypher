// Which exhausted budget (if any) stops this agent's work: for claimTask's BUDGET_EXCEEDED.
MATCH (a:Agent {id: coalesce($agentId, '')})
MATCH (b:Budget {exhausted: true})
WHERE (b.scope = 'agent' AND b.targetId = a.id) OR (b.scope = 'team' AND b.targetId = a.team)
RETURN b.id AS id, b.scope AS scope, b.limitUsd AS limitUsd, b.spentUsd AS spentUsd
LIMIT 1
