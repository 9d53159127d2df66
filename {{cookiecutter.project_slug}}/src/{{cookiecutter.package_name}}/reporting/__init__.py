"""Inspection and reporting: the data summary, error analysis beyond metrics (which
features lead to false positives and negatives), its figures and the HTML report.

Guarantees: the notebooks and the report call the same functions, so what a person sees
in either is computed once, in tested code.
"""
