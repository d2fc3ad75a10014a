// Agents that tried to act outside their policies, with what they tried.
MATCH (e:Event {type: 'policy.violation'})-[:ON]->(a:Agent)
RETURN a.id AS agent, count(e) AS attempts, collect(e.payload)[0..5] AS examples
ORDER BY attempts DESC
