"""`retrain ingest SOURCE`: new deliveries from a landing location (an S3 prefix or a folder) become raw batches.

plan: the pure decisions (what is new, names, the listing marker, exit codes); landing: the S3 prefix or folder;
record: what git says was ingested (each batch's .dvc file `meta: ingest:`); run: the orchestrator; report: the
lines, reports/ingest.json and reports/ingest.md.
"""
