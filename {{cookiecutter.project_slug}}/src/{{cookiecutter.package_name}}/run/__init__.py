"""Starting a run: the command line, the mode's configuration, and what the user sees
(one-line errors, progress).

Guarantees: bad input stops a run with one line naming the file, key, column or value;
no traceback for mistakes a user can fix; secrets never reach the terminal.
"""
