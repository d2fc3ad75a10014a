// How many embedded texts hold each of the query's words ($words), as search/store_vectors
// counted them (0: never seen). app.core.search_text.text_query asks the full-text engine for the
// rare ones: a union of every word of a long query matches most of a big graph.
UNWIND $words AS w
OPTIONAL MATCH (t:Term {word: w})
RETURN w AS word, coalesce(t.docs, 0) AS docs
