"""One module per view of the leaderboard; each has ``render(context)``."""
