// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block reads the caller's readable domains
// and cleared labels off its own node (readDomains / readLabels, kept by the statements that
// change memberships and grants); then each row is filtered by its label's readable clause
// (fact, entity, task, proposal; the generic one where labels mix), each the same text in
// every statement (tests/security/test_grant_clause.py checks it).
// One entity by id, with its domain, owner, sources and outgoing org relations, retired ones
// too (to entities the reader may also read). No row: unknown, or the reader may not read it (same answer).
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
MATCH (n:Entity {id: coalesce($id, '')})
WITH n, domains, coalesce($all OR (all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains)), false) AS ok
WHERE ok
OPTIONAL MATCH (n)-[r:DEPENDS_ON|PART_OF|OWNED_BY|RELATES_TO|PROVIDES|CONSUMES|CHILD_OF|RETIRED]->(m:Entity)
WITH n, domains, r, m,
     $all OR (all(y IN [(m)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains)) AS seesTarget
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
