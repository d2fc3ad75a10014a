// Principals page, by id.
MATCH (p:Principal)
WHERE p.id + '' > $after
RETURN p.id AS id, p.kind AS kind, p.name AS name, p.roles AS roles, p.agentId AS agentId,
       p.revoked AS revoked, p.createdAt AS createdAt,
       p.expiresAt AS expiresAt
ORDER BY id
LIMIT $limit
