"""Scheduled reviews: one period's audit compared with the history (patterns, fingerprints,
trends), waivers and provider patterns (utilization). See docs/review.md."""
