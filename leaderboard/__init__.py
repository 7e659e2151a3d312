"""The tlarena leaderboard: a Streamlit app over the run records (``tlarena leaderboard``)."""
