"""Datasets: the MTASS mixing recipe, the offline MTASS-tiny generator, real corpora, readers."""
