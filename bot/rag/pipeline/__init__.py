"""The answer and indexing flows as Haystack pipelines, built from kbot's components (this package),
serializable to YAML and replaceable from config (`answer.pipeline`, `knowledge.pipeline`)."""
