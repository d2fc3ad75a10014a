// Spend since $since grouped by agent, team, run or workflow ($groupBy), largest first.
MATCH (ce:CostEntry)
WHERE ce.at >= $since
WITH CASE $groupBy WHEN 'agent' THEN ce.agentId WHEN 'team' THEN ce.team
                   WHEN 'run' THEN ce.runId ELSE ce.workflowId END AS key, ce
RETURN key, sum(ce.usd) AS usd, sum(coalesce(ce.tokensIn, 0)) AS tokensIn,
       sum(coalesce(ce.tokensOut, 0)) AS tokensOut, count(ce) AS entries
ORDER BY usd DESC, key
