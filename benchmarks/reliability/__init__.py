"""``make reliability``: runs that try to lose or double data against a real stack.

``python -m benchmarks.reliability [deliveries|submissions|worker|all] [--quick] [--count N]``
(see docs/reliability.md).

The modules import Django and the app inside functions: the process is configured as the site
only once the run's database and sandbox exist.
"""
