"""Stand-ins for the external services demo-relay talks to, for tests and local runs.

Nothing here is imported by the service itself; each stand-in speaks its service's wire protocol and
imports nothing from the domain, adapters or entry points."""
