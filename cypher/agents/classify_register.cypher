// Why a registration wrote nothing: an unknown team (else the caller may not name it).
OPTIONAL MATCH (tm:Team {id: $team})
RETURN tm IS NOT NULL AS teamExists
