// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block (the caller's readable domains and
// cleared labels) and the readable(n) expression are the same text in every statement that
// filters by them (tests/security/test_grant_clause.py checks it).
// A page of entities, by id after $after, filtered by kind, domain and owner (null: any),
// only those the reader may read, each as entities/get_for answers it.
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(d:Domain)
WITH reader, collect(DISTINCT d.id) AS domains
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(l:Label)
WITH domains, collect(DISTINCT l.name) AS cleared
MATCH (n:Entity)
WHERE n.id + '' > $after AND ($kind IS NULL OR n.kind = $kind)
  AND ($domain IS NULL OR (n)-[:IN_DOMAIN]->(:Domain {id: $domain}))
  AND ($owner IS NULL OR (n)-[:OWNED_BY]->(:Entity {id: $owner}))
WITH n, domains, coalesce($all OR NOT any(lb IN labels(n) WHERE lb IN ['Fact', 'Task', 'Proposal', 'Entity'])
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
WHERE ok
WITH n, domains
ORDER BY n.id
LIMIT $limit
OPTIONAL MATCH (n)-[r:DEPENDS_ON|PART_OF|OWNED_BY|RELATES_TO|PROVIDES|CONSUMES|CHILD_OF|RETIRED]->(m:Entity)
WITH n, domains, r, m,
     all(y IN [(m)-[:IN_DOMAIN]->(md:Domain) | md.id] WHERE $all OR y IN domains) AS seesTarget
WITH n, collect(CASE WHEN m IS NOT NULL AND seesTarget
                     THEN {type: coalesce(r.type, type(r)), to: m.id,
                           status: coalesce(r.status, 'active'), source: r.source} END) AS rels
WITH n, rels, [(n)-[:IN_DOMAIN]->(dd:Domain) | dd.id] AS doms,
     [(n)-[ob:OWNED_BY]->(o:Entity) | {id: o.id, rank: ob.rank}] AS owners,
     [(n)-[sf:SOURCED_FROM]->(src:Source) | {source: src.id, rev: sf.rev, status: sf.status,
                                             lostTo: sf.lostTo, file: sf.file, at: sf.at}]
       AS sources
RETURN n.id AS id, n.kind AS kind, n.name AS name, n.namespace AS namespace, n.attrs AS attrs,
       n.status AS status, head(doms) AS domain, owners, sources,
       [x IN rels WHERE x IS NOT NULL] AS relations
ORDER BY id
