"""The connectorkit server: the local environment's HTTP API, its console and the OAuth redirect."""
