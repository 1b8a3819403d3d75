"""What the suites and the tools share: child processes on loopback ports (`processes`), the
`hello-birthday` console script run as one and its JSON log lines (`service_process`), the
DynamoDB emulators (`emulator`, `localstack`), the oracle with the contract's tables
(`contract`), what counts as a service URL (`urls`), and the stores' data handled behind the
service's back (`sqlite_files`, `stored_rows`)."""
