// Every source with its settings, sync state and how many entities it currently holds
// (active claims), by id.
MATCH (s:Source)
OPTIONAL MATCH (s)<-[cl:SOURCED_FROM]-(:Entity)
WHERE cl.status = 'active'
WITH s, count(cl) AS entities
RETURN s.id AS id, s.format AS format, s.location AS location, s.precedence AS precedence,
       s.domain AS domain, s.intervalS AS intervalS, s.options AS options, s.status AS status,
       s.rev AS rev, s.syncedAt AS syncedAt, s.checkedAt AS checkedAt, s.dueAt AS dueAt,
       s.lastError AS lastError, entities
ORDER BY id
