// Authenticate: the live principal holding this token hash (revoked ones never match).
MATCH (p:Principal {tokenHash: $tokenHash})
WHERE p.revoked = false
RETURN p.id AS id, p.kind AS kind, p.name AS name, p.roles AS roles, p.agentId AS agentId
