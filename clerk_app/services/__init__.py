"""Counter services: each completed service is one command, applied in one transaction.

See `base.run_service`. Each service module registers its command types in `base.SERVICES`.
"""
