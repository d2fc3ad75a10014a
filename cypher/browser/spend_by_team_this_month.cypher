// Spend per team since the start of this month (UTC), largest first.
// :param monthStart => 1793491200000
MATCH (ce:CostEntry)
WHERE ce.at >= $monthStart
RETURN ce.team AS team, round(sum(ce.usd) * 100) / 100 AS usd, count(ce) AS reports
ORDER BY usd DESC
