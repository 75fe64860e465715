"""The call log: every turn the server answers, and monitoring of live traffic over it."""
