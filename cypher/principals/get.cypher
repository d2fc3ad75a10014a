// One principal by id (token hash never leaves the graph).
MATCH (p:Principal {id: coalesce($id, '')})
RETURN p.id AS id, p.kind AS kind, p.name AS name, p.roles AS roles, p.agentId AS agentId,
       p.revoked AS revoked, p.createdAt AS createdAt,
       p.expiresAt AS expiresAt
