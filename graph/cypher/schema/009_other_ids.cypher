// A source record's first identifier issued by a system other than the national ones (a facility's
// patient code, a passport, any identifier with its system), kept as "<system>|<value>": a blocking
// key of the model and of the real-time candidates.
CREATE INDEX source_record_other_id IF NOT EXISTS FOR (r:SourceRecord) ON (r.other_id);
