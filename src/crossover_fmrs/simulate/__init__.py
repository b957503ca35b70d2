"""The simulator of the embedded synthetic study: participants, fMRS fit tables, clinical sheets."""
