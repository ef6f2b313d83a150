"""Standard documents made from the log: GS1 EPCIS 2.0 for logistics events, HL7 FHIR R4
``Immunization`` bundles for doses. Pure translation: ``application/exports.py`` decides
what may be read and reads it."""
