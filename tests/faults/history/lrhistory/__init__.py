"""Histories of calls to longrun under faults: a seeded load that records
every call (generator), the checker that holds a history to longrun's
promises (checker), reading everything back (final), the stored rows
(store), and the campaigns that kill and restart a server (campaign).

Other fault suites import it with tests/faults/history on sys.path:
`from lrhistory import checker, generator`.
"""
