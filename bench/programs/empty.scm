;;! about: start-up baseline: loads the helpers and prints one line, no search
(bench-report "empty" '())
