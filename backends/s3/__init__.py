"""An object-store workspace (``s3://bucket/prefix``) on obstore; optional extra ``driftdeck[s3]``."""
