"""Use cases: load aggregates, call one domain method on each, save them together."""
