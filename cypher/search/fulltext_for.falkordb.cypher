// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block reads the caller's readable domains
// and cleared labels off its own node (readDomains / readLabels, kept by the statements that
// change memberships and grants); then each row is filtered by its label's readable clause
// (fact, entity, task, proposal; the generic one where labels mix), each the same text in
// every statement (tests/security/test_grant_clause.py checks it).
// Search by words: the engine's best $pool matches per label, then (as search/vector_for) the
// best $k of those that are readable, current facts and entities. The pool bounds the work:
// a query of common words matches most of the graph, and the grant check costs per node.
// Each comes with the engine's relevance score (higher is better).
// $query is RediSearch syntax built by app.core.search_text.text_query (words only).
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
CALL db.idx.fulltext.queryNodes('Fact', $query) YIELD node, score
WITH domains, cleared, node AS n, score
ORDER BY score DESC
LIMIT $pool
WITH n, score, coalesce($all OR (n.domain IN domains AND (n.sensitivity IS NULL OR n.sensitivity IN cleared)), false) AS ok
WHERE ok AND n.current AND (n.validTo IS NULL OR n.validTo > $now)
  AND ($kinds IS NULL OR any(kp IN $kinds WHERE n.key STARTS WITH kp))
WITH n, score
ORDER BY score DESC, n.id
LIMIT $k
WITH collect({label: 'fact', id: n.id, key: n.key, value: n.value, entityId: n.entityId,
              domain: n.domain, confidence: n.confidence, observedAt: n.observedAt,
              score: score, text: n.text}) AS hits
RETURN 'fact' AS label, size(hits) AS seen, hits
UNION ALL
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
CALL db.idx.fulltext.queryNodes('Entity', $query) YIELD node, score
WITH domains, cleared, node AS n, score
ORDER BY score DESC
LIMIT $pool
WITH n, score, coalesce($all OR (all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains)), false) AS ok
WHERE ok AND coalesce(n.status, 'active') <> 'retired'
  AND ($kinds IS NULL OR n.kind IN $kinds)
WITH n, score
ORDER BY score DESC, n.id
LIMIT $k
WITH collect({label: 'entity', id: n.id, name: n.name, kind: n.kind,
              domain: head([(n)-[:IN_DOMAIN]->(hd:Domain) | hd.id]), score: score, text: n.text}) AS hits
RETURN 'entity' AS label, size(hits) AS seen, hits
