"""ToolQA: six task groups (flights, coffee, yelp, airbnb, dblp, agenda) on the real corpus or on
ToolQA-mini, a synthetic corpus generated in the real file formats."""
