// Conformance: write every property type Baton stores and read it back.
CREATE (n:Probe {id: $id, s: $s, i: $i, f: $f, b: $b, nul: $nul, ls: $ls, li: $li, lf: $lf,
                 lb: $lb, big: $big, uni: $uni})
RETURN n.id AS id, n.s AS s, n.i AS i, n.f AS f, n.b AS b, n.nul AS nul, n.ls AS ls, n.li AS li,
       n.lf AS lf, n.lb AS lb, n.big AS big, n.uni AS uni, n {.*} AS props
