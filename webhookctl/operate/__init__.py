"""Operating a deployed stack: queues and redrive, alarms, signing secrets, logs, requeue. Found by outputs."""
