"""One module per ToolQA group: its synthetic corpus generator and its question templates."""
