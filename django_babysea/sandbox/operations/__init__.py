"""The 17 API operations: the request pipeline, input validation and each operation's handler."""
