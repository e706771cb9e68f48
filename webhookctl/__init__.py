"""webhookctl: build, ship and operate a serverless payment-webhook pipeline on AWS."""

__version__ = "0.2.0"
