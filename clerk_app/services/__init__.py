"""Counter services: each completed service is one command, applied in one transaction.

`base` is what a service is made of, `runner` knows them all and runs one (`run_service`);
`registration`, `certificates` and `cash` hold the services themselves.
"""
