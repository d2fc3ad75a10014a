// whyDid: what led to a task, fact, proposal or run. Everything upstream of it (what it was
// derived from, its parent task, its step and the steps before it, the proposals and merges
// those steps waited on, the facts they chose, the run and the event that triggered it) and
// the Decision spans that acted on each of those, with who made them and what they saw.
OPTIONAL MATCH (t:Task {id: $id})
OPTIONAL MATCH (f:Fact {id: $id})
OPTIONAL MATCH (p:Proposal {id: $id})
OPTIONAL MATCH (r:Run {id: $id})
WITH coalesce(t, f, p, r) AS x
WHERE x IS NOT NULL
MATCH path = (x)-[:DERIVED_FROM|CHILD_OF|PART_OF|TRIGGERED_BY|FOR|BASED_ON|FOR_STEP|AFTER|ASKED|MERGED|CHOSE|CONSIDERED|RAN*0..10]->(n)
WITH x, collect(DISTINCT n) AS nodes, collect(path) AS paths
UNWIND paths AS pth
UNWIND relationships(pth) AS rel
WITH x, nodes, collect(DISTINCT {from: coalesce(startNode(rel).id, 'event:' + toString(startNode(rel).seq)),
                                   type: type(rel),
                                   to: coalesce(endNode(rel).id, 'event:' + toString(endNode(rel).seq))})
     AS edges
UNWIND nodes AS n
OPTIONAL MATCH (d:Decision)-[:ON|PRODUCED]->(n)
OPTIONAL MATCH (d)-[:SAW]->(sf:Fact)
WITH x, edges, n, d, collect(sf.id) AS saw
RETURN x.id AS root, edges,
       collect(DISTINCT {id: coalesce(n.id, 'event:' + toString(n.seq)), label: labels(n)[0],
                         name: coalesce(n.stepId, n.kind, n.type, n.key, n.workflow, n.summary),
                         at: coalesce(n.createdAt, n.observedAt, n.at, n.startedAt)}) AS nodes,
       collect(DISTINCT CASE WHEN d IS NULL THEN null
                        ELSE {span: coalesce(d.spanId, d.id), name: d.name, on: coalesce(n.id, 'event:' + toString(n.seq)),
                              by: coalesce(d.agentId, d.principalId),
                              at: coalesce(d.startedAt, d.at), saw: saw} END) AS decisions
