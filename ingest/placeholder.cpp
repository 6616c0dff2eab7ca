// placeholder: replaced by the ingest implementation
