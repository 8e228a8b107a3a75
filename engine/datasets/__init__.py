"""Datasets the JIIO tasks train and score on: MNIST (IDX files) or a folder of images cut into small gray patches."""
