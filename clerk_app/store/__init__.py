"""The local register: one SQLCipher-encrypted SQLite file, used through sqlite-utils.

`db` opens it and runs transactions, `migrations` holds its schema, `rows` reads query results,
`outbox` queues commands for the central service, `opening` finds the file from the config.
"""
