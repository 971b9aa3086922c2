"""
Addresses of records without a `reverse()` per row.

A board or a list links every row to an actor, a statement, a source: `reverse()` costs
tens of microseconds a call (it resolves the pattern each time), 13-27 ms on a large board.
`page_url(name, *args)` reverses each URL name once per script prefix, with placeholder
arguments, and then only fills in the row's values. The placeholders match the URL
converters (slugs, ints), and slugs and ids need no quoting, so the address is the same as
`reverse()` gives (tests/test_urlprefix.py holds them equal).
"""

import functools

from django.urls import get_script_prefix, reverse

# Values the `slug` and `int` converters accept and no real address contains.
_SLOTS = ("pt0slotxq", "pt1slotxq")
_INT_SLOTS = (987654320123, 987654320124)


@functools.lru_cache(maxsize=64)
def _template(name, kinds, script_prefix):
    args = [str(_INT_SLOTS[i]) if kind == "int" else _SLOTS[i] for i, kind in enumerate(kinds)]
    url = reverse(name, args=args)
    for i, slot in enumerate(args):
        if url.count(slot) != 1:
            raise ValueError(f"{name}: its address {url} does not hold each argument once.")
        url = url.replace(slot, f"{{{i}}}")
    return url


def page_url(name, *args):
    """`reverse(name, args=args)` for slug and int arguments, from a template made once."""
    kinds = tuple("int" if isinstance(arg, int) else "slug" for arg in args)
    return _template(name, kinds, get_script_prefix()).format(*args)
