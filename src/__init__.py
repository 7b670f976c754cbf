"""demo-relay: plays product demo videos on a Tavus agent's tool call."""
