"""The engine's limits: how large a policy, a number or a record may be.

Every limit, when reached, gives a located diagnostic (a policy) or a record error in
the record's place (a batch), never a crash or a run-away computation. SECURITY.md
lists them with their reasons.
"""

MAX_SOURCE = 2 * 2**20  # characters in one policy file
MAX_DEPTH = 200  # levels of nesting in a policy's syntax tree (an expression ~100 deep)
MAX_CALLS = 32  # functions calling each other, one inside the next
MAX_SPAN = 50  # years one record's amount may be credited to
MAX_INTEGER_DIGITS = 15  # digits before the point, in a policy or a record
MAX_PLACES = 12  # digits after the point
MAX_LINE = 2**20  # bytes in one JSON Lines record
MAX_CELL = 32_767  # characters in one CSV cell (as Excel)
MAX_UNZIPPED = 256 * 2**20  # bytes one part of an .xlsx workbook may unpack to
MAX_RATIO = 100  # how many times its packed size a part over `RATIO_FROM` may unpack to
RATIO_FROM = 2**20  # bytes: smaller parts may be packed as tightly as they are
