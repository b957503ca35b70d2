"""Statistics: mixed models, rm-ANOVAs, the analyses of the study and the comparison with the
paper."""
