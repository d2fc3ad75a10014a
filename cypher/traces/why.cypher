// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block (the caller's readable domains and
// cleared labels) and the readable(n) expression are the same text in every statement that
// filters by them (tests/security/test_read_grants.py checks it).
// whyDid: what led to a task, fact, proposal or run. Everything upstream of it (what it was
// derived from, its parent task, its step and the steps before it, the proposals and merges
// those steps waited on, the facts they chose, the run and the event that triggered it) and
// the Decision spans that acted on each of those, with who made them and what they saw.
// As the caller may see it: paths through a node it may not read are left out, with the
// edges and decisions that touch it (nothing at all if it may not read the node asked about).
OPTIONAL MATCH (ra:Agent {id: $agentId})
OPTIONAL MATCH (rp:Principal {id: $principalId})
WITH coalesce(ra, rp) AS reader
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(d:Domain)
WITH reader, collect(DISTINCT d.id) AS domains
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(l:Label)
WITH domains, collect(DISTINCT l.name) AS cleared
OPTIONAL MATCH (t:Task {id: $id})
OPTIONAL MATCH (f:Fact {id: $id})
OPTIONAL MATCH (p:Proposal {id: $id})
OPTIONAL MATCH (r:Run {id: $id})
WITH domains, cleared, coalesce(t, f, p, r) AS x
WHERE x IS NOT NULL
MATCH path = (x)-[:DERIVED_FROM|CHILD_OF|PART_OF|TRIGGERED_BY|FOR|BASED_ON|FOR_STEP|AFTER|ASKED|MERGED|CHOSE|CONSIDERED|RAN*0..10]->(m)
UNWIND nodes(path) AS n
WITH domains, cleared, x, path, m,
     coalesce($all OR NOT any(lb IN labels(n) WHERE lb IN ['Fact', 'Task', 'Proposal', 'Entity'])
                   OR ('Fact' IN labels(n) AND n.domain IN domains
                       AND (n.sensitivity IS NULL OR n.sensitivity IN cleared))
                   OR ('Task' IN labels(n) AND (n.agentId = $agentId OR n.submittedBy = $callerId
                       OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id]
                              WHERE y IN domains)))
                   OR ('Proposal' IN labels(n) AND (n.agentId = $agentId
                       OR size([(n)-[:ROUTED_TO|ESCALATED_TO]->(h:Principal {id: $callerId}) | h.id]) > 0
                       OR all(y IN [(n)-[:FOR]->(:Task)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(pd:Domain) | pd.id]
                              WHERE y IN domains)))
                   OR ('Entity' IN labels(n)
                       AND all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains)), false) AS ok
WITH domains, cleared, x, path, m, min(CASE WHEN ok THEN 1 ELSE 0 END) AS readable
WHERE readable = 1
WITH domains, cleared, x, collect(DISTINCT m) AS nodes, collect(path) AS paths
WHERE x IN nodes
UNWIND paths AS pth
UNWIND relationships(pth) AS rel
WITH domains, cleared, x, nodes, rel
WHERE startNode(rel) IN nodes AND endNode(rel) IN nodes
WITH domains, cleared, x, nodes,
     collect(DISTINCT {from: coalesce(startNode(rel).id, 'event:' + toString(startNode(rel).seq)),
                       type: type(rel),
                       to: coalesce(endNode(rel).id, 'event:' + toString(endNode(rel).seq))})
     AS edges
UNWIND nodes AS n
OPTIONAL MATCH (d:Decision)-[:ON|PRODUCED]->(n)
OPTIONAL MATCH (d)-[:SAW]->(sf:Fact)
WITH x, edges, n, d,
     collect(CASE WHEN $all OR (sf.domain IN domains
                                AND (sf.sensitivity IS NULL OR sf.sensitivity IN cleared))
                  THEN sf.id END) AS saw
RETURN x.id AS root, edges,
       collect(DISTINCT {id: coalesce(n.id, 'event:' + toString(n.seq)), label: labels(n)[0],
                         name: coalesce(n.stepId, n.kind, n.type, n.key, n.workflow, n.summary),
                         at: coalesce(n.createdAt, n.observedAt, n.at, n.startedAt)}) AS nodes,
       collect(DISTINCT CASE WHEN d IS NULL THEN null
                        ELSE {span: coalesce(d.spanId, d.id), name: d.name, on: coalesce(n.id, 'event:' + toString(n.seq)),
                              by: coalesce(d.agentId, d.principalId),
                              at: coalesce(d.startedAt, d.at), saw: saw} END) AS decisions
