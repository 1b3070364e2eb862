"""HoSo's analytics: Cypher aggregations returned as pandas DataFrames, and statistical reports."""
