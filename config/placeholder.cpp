// placeholder: replaced by the config implementation
