"""What the suites and the tools share: child processes on loopback ports (`processes`), the
`hello-birthday` console script run as one (`service_process`), the DynamoDB emulators
(`emulator`, `localstack`), and the oracle with the contract's tables (`contract`)."""
