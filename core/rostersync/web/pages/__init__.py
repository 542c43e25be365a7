"""The web view's pages, one module each: dashboard, runs, holds, connectors, people."""
