// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block (the caller's readable domains and
// cleared labels) and the readable(n) expression are the same text in every statement that
// filters by them (tests/security/test_read_grants.py checks it).
// Lineage upstream of a fact, task, proposal or agent: what it was derived from, superseded,
// asserted or decided by, within $depth steps (1..5). Paths through a node the reader may not
// read (a fact, task, proposal or entity: see the header) are left out entirely.
// One row per edge, with both ends. (Each path's nodes are checked one row at a time:
// FalkorDB 4.16 does not bind a list variable inside a pattern comprehension.)
OPTIONAL MATCH (ra:Agent {id: $agentId})
OPTIONAL MATCH (rp:Principal {id: $principalId})
WITH coalesce(ra, rp) AS reader
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(d:Domain)
WITH reader, collect(DISTINCT d.id) AS domains
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(l:Label)
WITH domains, collect(DISTINCT l.name) AS cleared
OPTIONAL MATCH (xf:Fact {id: $id})
OPTIONAL MATCH (xt:Task {id: $id})
OPTIONAL MATCH (xp:Proposal {id: $id})
OPTIONAL MATCH (xa:Agent {id: $id})
WITH domains, cleared, coalesce(xf, xt, xp, xa) AS x
MATCH path = (x)-[:DERIVED_FROM|SUPERSEDES|ASSERTED_BY|CHILD_OF|ASSIGNED_TO|FOR|PROPOSED_BY|BASED_ON*1..5]->()
WHERE length(path) <= $depth
WITH domains, cleared, path
UNWIND nodes(path) AS n
WITH path, coalesce($all OR NOT any(lb IN labels(n) WHERE lb IN ['Fact', 'Task', 'Proposal', 'Entity'])
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
WITH path, min(CASE WHEN ok THEN 1 ELSE 0 END) AS readable
WHERE readable = 1
UNWIND relationships(path) AS r
WITH DISTINCT r
RETURN startNode(r).id AS fromId, labels(startNode(r))[0] AS fromLabel,
       properties(startNode(r)) AS fromProps, type(r) AS type, endNode(r).id AS toId,
       labels(endNode(r))[0] AS toLabel, properties(endNode(r)) AS toProps
LIMIT $limit
