// placeholder: replaced by the storage implementation
