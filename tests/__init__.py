"""The black-box contract suite: every implementation against one HTTP contract."""
