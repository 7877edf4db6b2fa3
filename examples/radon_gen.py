#!/usr/bin/env python3
"""Write examples/radon.model: the radon hierarchical model of symbolic-pymc's
docs (85 counties, 919 observations) with seeded test values for its inputs.

The data are simulated, not the Minnesota survey: county indices 0..84 (each
county at least once), floor indicators 0/1 (about one in five on the first
floor), log-radon values drawn from the model itself with county intercepts
around 1.5 and floor effects around -0.6.  Same seed, same file:
    python3 examples/radon_gen.py > examples/radon.model
"""
import random
import sys

COUNTIES, OBS, SEED = 85, 919, 13


def tensor(xs):
    return "#[" + " ".join(xs) + "]"


def main():
    rng = random.Random(SEED)
    county = list(range(COUNTIES)) + [rng.randrange(COUNTIES) for _ in range(OBS - COUNTIES)]
    rng.shuffle(county)
    floor = [1 if rng.random() < 0.2 else 0 for _ in range(OBS)]
    a = [rng.gauss(1.5, 0.3) for _ in range(COUNTIES)]
    b = [rng.gauss(-0.6, 0.2) for _ in range(COUNTIES)]
    y = [a[c] + b[c] * f + rng.gauss(0.0, 0.7) for c, f in zip(county, floor)]
    out = sys.stdout
    out.write(";; The radon hierarchical model (symbolic-pymc docs, theano-radon-example):\n")
    out.write(";; varying intercepts a and floor slopes b per county.  Test values are\n")
    out.write(";; simulated with a seed by examples/radon_gen.py (not the survey data).\n")
    out.write(";;   pkanren run examples/stats_demo.scm\n")
    out.write("(model radon\n")
    out.write("  (input county_idx (tensor int64 (%d)) %s)\n" % (OBS, tensor(str(c) for c in county)))
    out.write("  (input floor (tensor float64 (%d)) %s)\n" % (OBS, tensor("%.1f" % f for f in floor)))
    out.write("  (input log_radon (tensor float64 (%d)) %s)\n" % (OBS, tensor("%.4f" % v for v in y)))
    out.write("""  (define mu_a (NormalRV 0.0 10000.0 () rng "mu_a"))
  (define sigma_a (HalfCauchyRV 0.0 5.0 () rng "sigma_a"))
  (define mu_b (NormalRV 0.0 10000.0 () rng "mu_b"))
  (define sigma_b (HalfCauchyRV 0.0 5.0 () rng "sigma_b"))
  (define a (NormalRV mu_a sigma_a (85) rng "a"))
  (define b (NormalRV mu_b sigma_b (85) rng "b"))
  (define eps (HalfCauchyRV 0.0 5.0 () rng "eps"))
  (define radon_est (add (index a county_idx) (mul (index b county_idx) floor)))
  (output (observed log_radon (NormalRV radon_est eps () rng "radon_like"))))
""")


if __name__ == "__main__":
    main()
