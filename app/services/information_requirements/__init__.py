"""Information requirements (IRs, PIRs, CCIRs — CRSV ones first-class) and the gap report:
for each IR, whether reporting in its area met the required frequency (docs/information-requirements.md)."""
