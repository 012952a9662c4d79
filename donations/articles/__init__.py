"""Public article pages, the Atom feed, and the article services behind them."""
