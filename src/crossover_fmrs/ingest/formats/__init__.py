"""Readers of the common fMRS fitting tools' outputs, all returning the tidy MRS table.

Selected by config `mrs.format`; `crossover_fmrs.ingest.mrs.read_study_mrs` dispatches to them. Each
format (the names: layout.FORMAT_NAMES, in this order), where its files live and what it cannot
provide (NaN in the tidy table):

    lcmodel_table  sub-XX/ses-C/mrs/sub-XX_ses-C_block-NN.table          everything
    lcmodel_csv    sub-XX/ses-C/mrs/sub-XX_ses-C_block-NN.csv            fwhm_ppm, snr
    fsl_mrs        sub-XX/ses-C/mrs/sub-XX_ses-C_block-NN_fsl_mrs/       (FWHM in Hz -> needs
                                                                         larmor_mhz)
    fsl_dynmrs     sub-XX/ses-C/mrs/sub-XX_ses-C_fsl_dynmrs/             fwhm_ppm, snr, %CRLB of
                                                                         sums without dyn_cov.csv
    osprey         osprey_datasets.tsv + osprey/ (Osprey output folder)  crlb_percent
    tidy_tsv       mrs.tsv                                               whatever the user leaves NA

Block timing comes from the sidecars sub-XX/ses-C/mrs/sub-XX_ses-C_blocks.tsv, or for the two
study-level formats optionally from onset_min/offset_min columns of their table. A per-block or
per-session format may instead list its outputs, under any names, in <data_dir>/mrs_files.tsv
(layout.MANIFEST). Metabolite names go through one vocabulary (vocabulary.py).
"""
