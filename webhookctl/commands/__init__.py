"""Click commands, one module per family; each imports its services lazily."""
