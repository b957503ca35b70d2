"""Simulation-based power of the study's tests: replicates drawn by the simulator, analysed by the
same models as the main analysis, summarised with Monte Carlo confidence intervals."""
