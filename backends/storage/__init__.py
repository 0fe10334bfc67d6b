"""The storage layer: what engines read through, for a directory and for a bucket.

``base`` holds the interface (``Storage``: list with a delimiter, stat, read a
range, stream) and its values; ``directory.DirStorage`` implements it over a
confined directory (descriptors and ``os.pread``), ``bucket.BucketStorage`` over
an obstore bucket prefix (delimiter listings, HEAD, ranged and streamed GETs;
``walk``: a recursive listing, which makes it a ``base.WalkStorage``), and
``bucket_async.BucketAio`` makes the same reads on the event loop, many at once.
"""
