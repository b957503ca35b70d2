"""The shared layer under the stage rooms: errors, the pipeline's table reader and writers, and
the glue between a workflow step and the package. It imports no stage."""
