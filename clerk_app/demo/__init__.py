"""The synthetic demo register: a made-up town population in the real data model.

Why: clerks train, the UI is shown and the app is load-tested on a register that looks and
behaves like Lörrach's (families in one household, people who moved, names from Kraków to
Hanoi, expired ID cards, information blocks) without one real person in it. Every name is
drawn at random from name pools and recombined; no record describes a real individual.

Deterministic on purpose: the same seed gives the same register, row for row, so a bug seen
in a demo or a benchmark can be reproduced on another machine. Therefore everything random
comes from one `random.Random(seed)` (and a Faker instance seeded with the same seed, used only
to fill the German name pools once), nothing iterates over a set, and "today" is the fixed
`DEMO_AS_OF` rather than the clock.

Fast on purpose: the app builds the register at first start (50,000 residents by default), so
the whole build is one transaction with bulk inserts, and Faker (slow per call) is asked for a
few thousand names once instead of once per person.

The package: `name_pools` (where names come from), `generator` (households drawn from them),
`build` (`build_demo_register`: the rows written in one transaction).
"""
