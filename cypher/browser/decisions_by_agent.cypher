// Every decision an agent made in the last hour, newest first, with what it saw.
// :param agentId => 'agent-rootcause'
MATCH (d:Decision)-[:BY]->(a:Agent {id: $agentId})
WHERE coalesce(d.startedAt, d.at) > timestamp() - 3600000
OPTIONAL MATCH (d)-[:SAW]->(f:Fact)
RETURN d.name AS decision, d.taskId AS task, coalesce(d.startedAt, d.at) AS at,
       collect(f.key + ' = ' + f.value) AS saw
ORDER BY at DESC
LIMIT 100
