#!/bin/sh
# Import the SAMPLE reference data of this folder into a reference-data directory.
#   sh examples/refdata/import.sh [DIR]        (default DIR: ./refdata, or $AUDITOR_REFDATA)
# Then audit with:  auditor audit CLAIMS... --refdata DIR
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${1:-${AUDITOR_REFDATA:-refdata}}

auditor refdata import ncci-ptp  "$HERE/ccipra-v320r0-f1.SAMPLE.txt"                          --refdata "$DIR"
auditor refdata import mue       "$HERE/MCR_MUE_PractitionerServices_Eff_01-01-2026.SAMPLE.csv" --refdata "$DIR"
auditor refdata import aoc       "$HERE/AOC_V2026Q1.SAMPLE.csv"                                --refdata "$DIR"
auditor refdata import mpfs      "$HERE/PPRRVU2026_Jan_nonQPP.SAMPLE.csv"                      --refdata "$DIR"
auditor refdata import hcpcs     "$HERE/HCPC2026_JAN_ANWEB.SAMPLE.csv"                         --refdata "$DIR"
auditor refdata import lcd       "$HERE/lcd/article_x_hcpc_code.csv" "$HERE/lcd/article_x_icd10_covered.csv" \
                                 "$HERE/lcd/article_x_icd10_noncovered.csv"                    --refdata "$DIR" --effective 2025-10-01
auditor refdata import frequency "$HERE/frequency_limits.SAMPLE.csv"                           --refdata "$DIR"
auditor refdata list --refdata "$DIR"
