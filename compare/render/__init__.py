"""What a reader sees: tables (Markdown, LaTeX), plots (PNG, PDF), the report, merges."""
