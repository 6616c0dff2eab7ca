// placeholder: replaced by the report implementation
