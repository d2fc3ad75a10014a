// whyDid: the nodes a walk reached (ids, or 'event:<seq>' for events), each with its label,
// name and time, and the Decision spans that acted on it (who, when, which facts they saw).
UNWIND $keys AS k
OPTIONAL MATCH (t:Task {id: k})
OPTIONAL MATCH (f:Fact {id: k})
OPTIONAL MATCH (p:Proposal {id: k})
OPTIONAL MATCH (r:Run {id: k})
OPTIONAL MATCH (s:Step {id: k})
OPTIONAL MATCH (m:Merge {id: k})
OPTIONAL MATCH (e:Event)
  WHERE k STARTS WITH 'event:' AND e.seq = toInteger(substring(k, 6))
WITH k, coalesce(t, f, p, r, s, m, e) AS n
WHERE n IS NOT NULL
OPTIONAL MATCH (d:Decision)-[:ON|PRODUCED]->(n)
OPTIONAL MATCH (d)-[:SAW]->(sf:Fact)
WITH k, n, d, collect(sf.id) AS saw
RETURN k AS id, labels(n)[0] AS label,
       coalesce(n.stepId, n.kind, n.type, n.key, n.workflow, n.summary) AS name,
       coalesce(n.createdAt, n.observedAt, n.at, n.startedAt) AS at,
       collect(CASE WHEN d IS NULL THEN null
               ELSE {span: coalesce(d.spanId, d.id), name: d.name, on: k,
                     by: coalesce(d.agentId, d.principalId),
                     at: coalesce(d.startedAt, d.at), saw: saw} END) AS decisions
