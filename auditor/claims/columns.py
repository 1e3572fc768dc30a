"""The canonical claim-line columns every reader produces and every rule reads."""

MODIFIER_COLUMNS = [f"modifier_{i}" for i in range(1, 5)]
DX_COLUMNS = [f"dx_{i}" for i in range(1, 13)]

# Identifier-like text columns (upper-cased, stripped).
CODE_COLUMNS = [
    "claim_id", "member_id", "billing_npi", "rendering_npi", "procedure_code", "place_of_service",
    "type_of_bill", "revenue_code", "payer", *MODIFIER_COLUMNS, *DX_COLUMNS,
]
TEXT_COLUMNS = [*CODE_COLUMNS, "claim_type", "member_sex", "dx_pointers"]
DATE_COLUMNS = ["service_date", "service_date_to", "received_date", "member_birth_date"]
NUMBER_COLUMNS = ["units", "charge"]
INT_COLUMNS = ["line_number"]

CANONICAL = [
    "claim_id", "line_number", "claim_type", "member_id", "member_birth_date", "member_sex",
    "billing_npi", "rendering_npi", "place_of_service", "service_date", "service_date_to",
    "received_date", "procedure_code", *MODIFIER_COLUMNS, "units", "charge", *DX_COLUMNS,
    "dx_pointers", "payer", "type_of_bill", "revenue_code",
]
# Combined forms a file may use instead of the numbered columns.
COMBINED = {"modifiers": MODIFIER_COLUMNS, "diagnosis_codes": DX_COLUMNS}

REQUIRED = [
    "claim_id", "line_number", "member_id", "billing_npi", "service_date", "procedure_code",
    "units", "charge", "dx_1",
]
ENGINE_COLUMNS = ["source_file", "source_row", "_row"]
