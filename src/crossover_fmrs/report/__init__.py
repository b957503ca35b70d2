"""Report pages: the pipeline's tables as HTML pages the Snakemake report shows in place."""
