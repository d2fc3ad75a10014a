// Facts that contradict each other, newest first, with who asserted each side.
MATCH (new:Fact)-[c:CONTRADICTS]->(old:Fact), (new)-[:ABOUT]->(e:Entity)
MATCH (new)-[:ASSERTED_BY]->(a1:Agent), (old)-[:ASSERTED_BY]->(a2:Agent)
RETURN e.id AS entity, new.key AS key, new.value AS newValue, a1.id AS newBy,
       old.value AS oldValue, a2.id AS oldBy, c.at AS at
ORDER BY at DESC
LIMIT 50
