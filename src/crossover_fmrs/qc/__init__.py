"""Quality control: per-spectrum flags and inclusion, clinical checks, the participant flow."""
