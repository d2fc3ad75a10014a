// Authenticate: the live principal holding this token hash (revoked and expired ones never
// match). Runs for every HTTP request and for every operation on a WebSocket, so a socket is
// always authorised against the principal's current state.
MATCH (p:Principal {tokenHash: coalesce($tokenHash, '')})
WHERE p.revoked = false AND (p.expiresAt IS NULL OR p.expiresAt > $now)
RETURN p.id AS id, p.kind AS kind, p.name AS name, p.roles AS roles, p.agentId AS agentId,
       p.expiresAt AS expiresAt
