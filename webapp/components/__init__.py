"""UI components: the graph view (vis-network, Components v2)."""
