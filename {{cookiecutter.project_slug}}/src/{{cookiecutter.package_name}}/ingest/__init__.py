"""Data in: sources opened as streams, the local sample, the rows of a run, the contract.

Guarantees: a source is read in batches (never all into memory to sample it); a sample
is deterministic for a seed and records its source's fingerprint; every load is checked
against the data contract recorded at the mode's first load; passwords in URLs are
never printed; a sample's CSV and Excel copies hold its rows and never overwrite a file
the fetch did not write.
"""
