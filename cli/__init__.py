"""The `llmsearch` command line: wires the service, the loaders and the local node manager together."""
