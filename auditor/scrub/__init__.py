"""Pre-submission scrubbing: a verdict per claim (pass / warn / hold / reject) from its findings.

    auditor.scrub.core.Scrubber      one request at a time (the scrub service)
    auditor.scrub.run.run_scrub      claim files (auditor scrub), clean/held 837 files
    auditor.scrub.dispositions       the declarative disposition rules (rules/dispositions.yaml)
    auditor.scrub.verdicts           verdicts, verdicts.csv / verdicts.json, the report section
"""
