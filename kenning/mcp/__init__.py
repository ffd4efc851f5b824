"""`kenning mcp`: the repository's knowledge for coding agents over the Model Context
Protocol (stdio), a thin layer over one warm `kenning.Kenning` handle."""
