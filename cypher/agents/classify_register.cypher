// Why a registration wrote nothing: an unknown team (else the caller may not name it).
OPTIONAL MATCH (tm:Team {id: coalesce($team, '')})
RETURN tm IS NOT NULL AS teamExists
