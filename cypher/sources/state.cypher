// What the graph holds of one source, for the sync to diff against (one read): the source's
// settings (no row: unknown source) and every entity it has claimed, with the claim's hash,
// status and file, and the entity's current domain.
MATCH (s:Source {id: coalesce($source, '')})
OPTIONAL MATCH (s)<-[cl:SOURCED_FROM]-(e:Entity)
WITH s, cl, e, [(e)-[:IN_DOMAIN]->(d:Domain) | d.id] AS doms
RETURN s.id AS id, s.format AS format, s.location AS location, s.precedence AS precedence,
       s.domain AS domain, s.intervalS AS intervalS, s.options AS options, s.status AS status,
       s.inputHash AS inputHash, s.rev AS rev,
       collect(CASE WHEN e IS NULL THEN null
                    ELSE {id: e.id, hash: cl.hash, status: cl.status, file: cl.file,
                          domain: head(doms)} END) AS claims
