"""Ingestion: raw files (participants, fMRS fit outputs, rating-scale sheets) into tidy tables."""
